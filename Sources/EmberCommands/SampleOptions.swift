import EmberFormat
import EmberRuntime

/// Where chains start, as a command-line choice.
public enum InitChoice: String, CaseIterable, Sendable {
  /// At stored training rows.
  case stored
  /// At draws from the base term.
  case base
  /// SMOTE-style between a stored row and a near neighbour.
  case interpolate
}

/// `ember sample`: synthetic rows per class (see ``VerbSpec/sample``).
public struct SampleOptions: Sendable {
  /// The model file.
  public var model: String
  /// Number of rows to generate.
  public var count: Int
  /// Generate only these class labels (empty: all, by prior).
  public var classes: [String] = []
  /// Random seed.
  public var seed: UInt64 = 0
  /// Output CSV (nil or "-": standard output), written atomically.
  public var output: String?
  /// Sampler (nil: the model's).
  public var sampler: SamplerKind?
  /// Steps per chain.
  public var steps: Int?
  /// Step size ε.
  public var stepSize: Float?
  /// Per-step noise standard deviation.
  public var noise: Float?
  /// Temperature T.
  public var temperature: Float?
  /// Noise added to starting rows.
  public var initNoise: Float?
  /// Gradient-norm clip (0 = off).
  public var gradClip: Float?
  /// Where chains start.
  public var initFrom: InitChoice?
  /// Start chains at rows of this CSV.
  public var initCSV: String?
  /// Threads (nil: all cores); output does not depend on it.
  public var threads: Int?
  /// Field delimiter of ``initCSV``.
  public var delimiter = ","
  /// No summary on stderr.
  public var quiet = false

  /// Options for drawing `count` rows from `model`.
  public init(model: String, count: Int) {
    self.model = model
    self.count = count
  }

  /// Checks the values (a failure is a usage error, exit status 64).
  public func validate() throws(UsageError) {
    guard count > 0 else { throw UsageError("--count must be positive") }
    if let steps, steps < 0 || steps > 1_000_000 { throw UsageError("--steps must be in 0…1000000") }
    if let stepSize, !(stepSize > 0 && stepSize.isFinite) { throw UsageError("--step-size must be a positive number") }
    if let temperature, !(temperature > 0 && temperature.isFinite) { throw UsageError("--temperature must be a positive number") }
    if let noise, !(noise >= 0 && noise.isFinite) { throw UsageError("--noise must be ≥ 0") }
    if let initNoise, !(initNoise >= 0 && initNoise.isFinite) { throw UsageError("--init-noise must be ≥ 0") }
    if let gradClip, !(gradClip >= 0 && gradClip.isFinite) { throw UsageError("--grad-clip must be ≥ 0") }
    if let threads, threads < 1 { throw UsageError("--threads must be ≥ 1") }
  }

  /// Rows per class: `count` split by priors with largest remainders (ties: lower index).
  public static func allocate(_ count: Int, priors: [Double]) -> [Int] {
    let total = priors.reduce(0, +)
    let exact = priors.map { Double(count) * $0 / total }
    var n = exact.map { Int($0.rounded(.down)) }
    let order = exact.indices.sorted { (exact[$0] - Double(n[$0]), -$0) > (exact[$1] - Double(n[$1]), -$1) }
    var left = count - n.reduce(0, +)
    for i in order where left > 0 {
      n[i] += 1
      left -= 1
    }
    return n
  }

  /// The file's sampler settings for a class with the command-line overrides applied.
  public func settings(for info: ClassInfo) -> SamplerDefaults {
    var s = info.sampler ?? SamplerDefaults()
    if let sampler, sampler != s.kind {
      if sampler == .tabebm {
        // TabEBM's Algorithm 1 as published: start at a stored row + N(0, 0.01²), 200 steps of
        // x ← x − 0.1·∇E + 0.01·ε (each chain's own gradient). Flags below still override.
        let paper = SamplerDefaults.tabebm
        s.steps = paper.steps
        s.stepSize = paper.stepSize
        s.noiseScale = paper.noiseScale
        s.initNoise = paper.initNoise
        s.initialization = .startingRows
      } else {
        // Langevin / MALA: noise √(2εT) from the file's ε and T.
        s.noiseScale = -1
      }
      s.kind = sampler
    }
    if let steps { s.steps = steps }
    if let stepSize { s.stepSize = stepSize }
    if let noise { s.noiseScale = noise }
    if let temperature { s.temperature = temperature }
    if let initNoise { s.initNoise = initNoise }
    if let gradClip { s.gradClip = gradClip }
    if let initFrom {
      switch initFrom {
      case .stored: s.initialization = .startingRows
      case .base: s.initialization = .base
      case .interpolate: s.initialization = .interpolate
      }
    }
    return s
  }

  /// Generates the rows and writes the CSV; a summary goes to stderr unless ``quiet``.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let m = energy.model
    var counts: [Int]
    if classes.isEmpty {
      counts = Self.allocate(count, priors: m.classes.map(\.prior))
    } else {
      counts = [Int](repeating: 0, count: m.classes.count)
      let indices = try classes.map { label -> Int in
        guard let i = m.classIndex(of: label) else { throw unknownClass(label, in: m) }
        return i
      }
      let split = Self.allocate(count, priors: indices.map { _ in 1.0 })
      for (k, i) in indices.enumerated() { counts[i] += split[k] }
    }
    let userStarts = try initCSV.map { try loadStarts($0, energy: energy) }
    let decoder = RowDecoder(model: m)
    let sink = try OutputSink(path: output)
    let features = m.features.map(\.name)
    var position = features.count
    if let p = m.metadata["target_position"].flatMap({ Int($0) }), p >= 0, p <= features.count { position = p }
    var header = features
    header.insert(m.target.isEmpty ? "label" : m.target, at: position)
    try sink.writeRow(header)
    let runner = Sampler(energy)
    let threadCount = max(1, threads ?? Parallel.availableCores)
    var summary: [String] = []
    for (c, n) in counts.enumerated() where n > 0 {
      let info = m.classes[c]
      let s = settings(for: info)
      var starts = ChainStarts.model
      if let userStarts {
        let rows = userStarts.perClass[info.label] ?? userStarts.all
        guard !rows.isEmpty else { throw CLIFailure.input("\(initCSV!): no rows to start class \"\(info.label)\" from") }
        starts = .rows(rows)
      }
      let stats = try runner.run(classIndex: c, count: n, seed: seed, settings: s, starts: starts, threads: threadCount) { block, rows in
        for r in 0..<rows {
          var fields = decoder.fields(of: block.baseAddress! + r * energy.width)
          fields.insert(info.label, at: position)
          try sink.writeRow(fields)
        }
      }
      var line = "  \(info.label): \(n) rows, \(s.kind) \(s.steps) steps ε=\(s.stepSize) σ=\(s.sigma) T=\(s.temperature), restarts \(stats.restarts)"
      if s.kind == .mala { line += ", acceptance \((stats.acceptanceRate * 1000).rounded() / 10)%" }
      summary.append(line)
    }
    try sink.commit()
    if !quiet { printNote("ember sample: \(count) rows, seed \(seed)\n" + summary.joined(separator: "\n")) }
  }

  struct Starts {
    var all: [Float] = []
    var perClass: [String: [Float]] = [:]
  }

  func loadStarts(_ path: String, energy: EnergyModel) throws -> Starts {
    let d = delimiter == "\\t" ? "\t" : delimiter
    guard d.utf8.count == 1 else { throw UsageError("--delimiter must be one character") }
    let reader = try CSVRecordReader(path: path, delimiter: d.utf8.first!)
    guard let header = try reader.next() else { throw CLIFailure.input("\(reader.name):1: empty input: expected a header row") }
    let encoder: RowEncoder
    do {
      encoder = try RowEncoder(model: energy.model, header: header)
    } catch let e as EmberRuntimeError {
      throw CLIFailure.input("\(reader.name):1: \(e.message)")
    }
    let target = header.firstIndex(of: energy.model.target)
    var starts = Starts()
    var row = [Float](repeating: 0, count: energy.width)
    while let fields = try reader.next() {
      guard fields.count == header.count else {
        throw CLIFailure.input("\(reader.name):\(reader.recordLine): expected \(header.count) fields as in the header, found \(fields.count)")
      }
      do {
        try row.withUnsafeMutableBufferPointer { try encoder.encode(fields, into: $0.baseAddress!) }
      } catch let e as EmberRuntimeError {
        let column = header.firstIndex(of: e.location).map { String($0 + 1) } ?? "?"
        throw CLIFailure.input("\(reader.name):\(reader.recordLine):\(column): column \"\(e.location)\": \(e.message)")
      }
      starts.all += row
      if let target { starts.perClass[fields[target], default: []] += row }
    }
    guard !starts.all.isEmpty else { throw CLIFailure.input("\(reader.name): no data rows after the header") }
    return starts
  }
}

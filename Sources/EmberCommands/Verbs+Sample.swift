import EmberFormat
import EmberRuntime
import EmberText

extension Verb {
  /// `ember sample MODEL --count N`.
  public static let sample = Verb(
    VerbSpec(
      name: "sample",
      abstract: "Generate synthetic rows with SGLD-family samplers on the class energies.",
      discussion: """
        Writes the training CSV's columns (target included) in raw units: categories as strings, \
        integers as integers, values clipped to the observed training range. Without --class, \
        rows are drawn for every class in proportion to the class priors. Defaults for every \
        sampler setting come from the model file. The same --seed gives byte-identical output \
        whatever --threads is. Rows are written as they are produced (memory does not grow with \
        --count). A summary (chains, restarts after divergence, MALA acceptance) goes to stderr. \
        With --given/--where, every row meets every condition: rows are drawn from the class \
        energies conditioned on them (see docs/EXPLAIN.md), classes in proportion to their \
        probability given the conditions unless --class names them.
        """,
      arguments: [.model],
      options: [
        .count, .sampleClass, .seed, .output, .sampler, .steps, .stepSize, .noise, .temperature, .initNoise, .gradClip,
        .initFrom, .initCSV, .classFilter, .sampleThreads, .initDelimiter, .quiet, .given, .whereRule,
      ])
  ) { p throws(CLIError) in
    if !p.strings(.given).isEmpty || !p.strings(.whereRule).isEmpty { return try sampleConditionally(p) }
    let model = p.positional("model")
    let count = p.int(.count) ?? 0
    let seed = p.uint64(.seed) ?? 0
    let output = p.string(.output)
    let initCSV = p.string(.initCSV)
    try checkOutput(output, against: [model, initCSV])
    var overrides = SamplerOverrides()
    overrides.kind = p.string(.sampler).flatMap(SamplerKind.init(name:))
    overrides.steps = p.int(.steps)
    overrides.stepSize = p.float(.stepSize)
    overrides.noise = p.float(.noise)
    overrides.temperature = p.float(.temperature)
    overrides.initNoise = p.float(.initNoise)
    overrides.gradClip = p.float(.gradClip)
    overrides.initialization = p.string(.initFrom).flatMap(InitChoice.init(rawValue:))?.chainInit
    overrides.classFilter = p.string(.classFilter).flatMap(ClassFilter.init(rawValue:))
    let threads = p.int(.sampleThreads) ?? Parallel.availableCores
    let session = try openSession(model)
    let m = session.model
    var counts: [Int]
    let labels = p.strings(.sampleClass)
    if labels.isEmpty {
      counts = EmberSession.allocate(count, weights: m.classes.map { $0.prior })
    } else {
      counts = [Int](repeating: 0, count: session.classCount)
      var indices: [Int] = []
      for label in labels { indices.append(try classIndex(label, in: session)) }
      let split = EmberSession.allocate(count, weights: indices.map { _ in 1.0 })
      for (k, i) in indices.enumerated() { counts[i] += split[k] }
    }
    let starts = try initCSV.map { (path) throws(CLIError) in try loadStarts(path, delimiter: p.character(.initDelimiter), session: session) }
    let writer = try SampleRowWriter(session: session, output: output)
    var summary: [String] = []
    for (c, n) in counts.enumerated() where n > 0 {
      let label = session.labels[c]
      var chainStarts = ChainStarts.model
      if let starts {
        let rows = starts.perClass[label] ?? starts.all
        guard !rows.isEmpty else { throw CLIError(.badInput, "\(initCSV ?? ""): no rows to start class \"\(label)\" from") }
        chainStarts = .rows(rows)
      }
      let stats: SamplingStats
      do throws(EmberRuntimeError) {
        stats = try session.sample(
          classIndex: c, count: n, seed: seed, overrides: overrides, starts: chainStarts, threads: threads
        ) { block, rows in
          writer.write(block, rows: rows, label: label, decode: { session.decoder.fields(of: $0) })
        }
      } catch {
        throw CLIError.runtime(error)
      }
      try writer.checkFailure()
      let s = session.samplerSettings(classIndex: c, overrides: overrides)
      var line =
        "  \(label): \(n) rows, \(s.kind.description) \(s.steps) steps ε=\(s.stepSize) σ=\(s.sigma) T=\(s.temperature), restarts \(stats.restarts)"
      if s.kind == .mala { line += ", acceptance \((stats.acceptanceRate * 1000).rounded() / 10)%" }
      if stats.filterRejected > 0 { line += ", class filter: \(stats.filterRejected) rejected, \(stats.filterFallbacks) kept unfiltered" }
      summary.append(line)
    }
    try writer.commit()
    if !p.flag(.quiet) { printNote("ember sample: \(count) rows, seed \(seed)\n" + summary.joined(separator: "\n")) }
  }
}

/// Chain starting rows read from `--init-csv`: all rows, and by class when the target column
/// is present.
struct UserStarts {
  var all: [Float] = []
  var perClass: [String: [Float]] = [:]
}

/// Reads and encodes `--init-csv` rows through the session's encoder.
func loadStarts(_ path: String, delimiter: UInt8, session: EmberSession) throws(CLIError) -> UserStarts {
  let reader: CSVReader
  let first: [String]?
  do {
    reader = try CSVReader(path: path, delimiter: delimiter)
    first = try reader.next()?.strings()
  } catch {
    throw CLIError.text(error)
  }
  guard let header = first else { throw CLIError(.badInput, "\(reader.name):1: empty input: expected a header row") }
  let encoder: RowEncoder
  do {
    encoder = try session.encoder(header: header)
  } catch {
    throw CLIError.runtime(error, at: "\(reader.name):1")
  }
  let target = header.firstIndex(of: session.model.target)
  var starts = UserStarts()
  var row = [Float](repeating: 0, count: session.width)
  while true {
    let record: CSVRecord
    do {
      guard let r = try reader.next() else { break }
      record = r
    } catch {
      throw CLIError.text(error)
    }
    guard record.count == header.count else {
      throw CLIError(
        .badInput, "\(reader.name):\(record.line): expected \(header.count) fields as in the header, found \(record.count)")
    }
    do {
      _ = try row.withUnsafeMutableBufferPointer { (p) throws(EmberRuntimeError) in try encoder.encode(record, into: p.baseAddress!) }
    } catch {
      throw CLIError.runtime(error, at: "\(reader.name):\(record.line):\(error.column.map { String($0 + 1) } ?? "?")")
    }
    starts.all += row
    if let target {
      let label: String
      do { label = try record.string(target) } catch { throw CLIError.text(error) }
      starts.perClass[label, default: []] += row
    }
  }
  guard !starts.all.isEmpty else { throw CLIError(.badInput, "\(reader.name): no data rows after the header") }
  return starts
}

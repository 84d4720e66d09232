import EmberFormat
import EmberRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `ember bench`: throughput of the runtime on a model (see ``VerbSpec/bench``).
public struct BenchOptions: Sendable {
  /// The model file.
  public var model: String
  /// Class label to benchmark (nil: the first).
  public var classLabel: String?
  /// Threads.
  public var threads = 1
  /// Batch sizes, comma-separated.
  public var batch = "1,1024"
  /// Seconds to spend on each measurement.
  public var seconds = 1.0
  /// SGLD chains.
  public var chains = 500
  /// SGLD steps per chain.
  public var steps = 200
  /// Print JSON.
  public var json = false

  /// Options for benchmarking `model`.
  public init(model: String) { self.model = model }

  /// Checks the values (a failure is a usage error, exit status 64).
  public func validate() throws(UsageError) {
    guard threads >= 1 else { throw UsageError("--threads must be ≥ 1") }
    guard seconds > 0 else { throw UsageError("--seconds must be positive") }
    guard chains > 0, steps >= 0 else { throw UsageError("--chains must be positive and --steps ≥ 0") }
    guard !batches.isEmpty else { throw UsageError("--batch must list positive integers, e.g. 1,1024") }
  }

  var batches: [Int] { batch.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  static func peakRSS() -> Int {
    guard let f = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
      let s = String(cString: line)
      if s.hasPrefix("VmHWM:") {
        let digits = String(decoding: s.utf8.filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
        return (Int(digits) ?? 0) * 1024
      }
    }
    return 0
  }

  /// Calls `body(iteration)` on every thread until `seconds` pass; returns calls per second
  /// summed over threads.
  func rate(threads: Int, _ body: @escaping (Int, Int) -> Void) -> Double {
    // Warm-up.
    for t in 0..<threads { body(t, 0) }
    var counts = [Int](repeating: 0, count: threads)
    let start = Self.now()
    let deadline = start + seconds
    counts.withUnsafeMutableBufferPointer { c in
      let cp = c.baseAddress!
      Parallel.forEach(threads, threads: threads) { t in
        var n = 0
        repeat {
          for _ in 0..<8 {
            body(t, n)
            n += 1
          }
        } while Self.now() < deadline
        cp[t] = n
      }
    }
    let elapsed = Self.now() - start
    return Double(counts.reduce(0, +)) / elapsed
  }

  /// Runs the measurements and prints the results.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let m = energy.model
    var c = 0
    if let classLabel {
      guard let i = m.classIndex(of: classLabel) else { throw unknownClass(classLabel, in: m) }
      c = i
    }
    let d = energy.width
    // A pool of realistic rows: short chains from the model's own starting points.
    let poolSize = 4096
    var pool: [Float] = []
    pool.reserveCapacity(poolSize * d)
    let sampler = Sampler(energy)
    var settings = m.classes[c].sampler ?? SamplerDefaults()
    settings.steps = 0
    settings.initNoise = max(settings.initNoise, 0.1)
    _ = try sampler.run(classIndex: c, count: poolSize, seed: 1, settings: settings) { block, _ in pool += block }
    let readout = EnergyReadout(energy)
    var results: [[(String, String)]] = []
    for b in batches {
      let workspaces = (0..<threads).map { _ in EnergyWorkspace(energy, batch: b) }
      let outputs = (0..<threads).map { _ in [Float](repeating: 0, count: b * max(energy.classCount, 1)) }
      let grads = (0..<threads).map { _ in [Float](repeating: 0, count: b * energy.gradientStride) }
      let blocks = poolSize / b > 0 ? poolSize / b : 1
      let padded = b > poolSize ? (0..<b).flatMap { i in pool[((i % poolSize) * d)..<((i % poolSize) * d + d)] } : pool
      let result: [(String, String)] = try padded.withUnsafeBufferPointer { xp -> [(String, String)] in
        let rows = xp.baseAddress!
        func rowsAt(_ n: Int) -> UnsafePointer<Float> { rows + ((n % blocks) * b % max(poolSize - b + 1, 1)) * d }
        var energyRate = 0.0
        var gradRate = 0.0
        var scoreRate = 0.0
        outputs.withUnsafeBufferPointers { out in
          grads.withUnsafeBufferPointers { g in
            energyRate = rate(threads: threads) { t, n in
              energy.energy(classIndex: c, rows: rowsAt(n), count: b, into: UnsafeMutablePointer(mutating: out[t]), gradients: nil, workspace: workspaces[t])
            } * Double(b)
            gradRate = rate(threads: threads) { t, n in
              energy.energy(classIndex: c, rows: rowsAt(n), count: b, into: UnsafeMutablePointer(mutating: out[t]), gradients: UnsafeMutablePointer(mutating: g[t]), workspace: workspaces[t])
            } * Double(b)
            scoreRate = rate(threads: threads) { t, n in
              let e = UnsafeMutablePointer(mutating: out[t])
              energy.energies(rows: rowsAt(n), count: b, into: e, workspace: workspaces[t])
              var sink: Float = 0
              for i in 0..<b { sink += readout.score(e + i * energy.classCount) }
              if sink.isNaN { e[0] = sink }
            } * Double(b)
          }
        }
        return [
          ("batch", String(b)), ("threads", String(threads)), ("class", jsonString(m.classes[c].label)),
          ("energy_rows_per_s", String(Int(energyRate))), ("gradient_rows_per_s", String(Int(gradRate))),
          ("score_rows_per_s", String(Int(scoreRate))),
        ]
      }
      results.append(result)
    }
    // SGLD job.
    var sgld = m.classes[c].sampler ?? SamplerDefaults()
    sgld.kind = .langevin
    sgld.steps = steps
    let start = Self.now()
    var emitted = 0
    _ = try sampler.run(classIndex: c, count: chains, seed: 7, settings: sgld, threads: threads) { _, n in emitted += n }
    let sgldSeconds = Self.now() - start
    let common: [(String, String)] = [
      ("sgld_samples_per_s", String(Int(Double(emitted) / sgldSeconds))),
      ("sgld_seconds", String(sgldSeconds)), ("sgld_chains", String(chains)), ("sgld_steps", String(steps)),
      ("peak_rss_bytes", String(Self.peakRSS())), ("simd", "\"\(EnergyModel.simdLevel)\""),
      ("encoded_width", String(d)),
      ("parameters", String(m.classes[c].parameterCount)),
    ]
    if json {
      let objects = results.map { "{" + ($0 + common).map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}" }
      print(objects.count == 1 ? objects[0] : "[" + objects.joined(separator: ",\n ") + "]")
    } else {
      print("model \(model): class \"\(m.classes[c].label)\", d = \(d), \(m.classes[c].parameterCount) network parameters, SIMD \(EnergyModel.simdLevel), \(threads) thread\(threads == 1 ? "" : "s")")
      for r in results {
        let v = Dictionary(uniqueKeysWithValues: r)
        print("batch \(v["batch"]!): energy \(v["energy_rows_per_s"]!) rows/s, energy+gradient \(v["gradient_rows_per_s"]!) rows/s, score (all classes) \(v["score_rows_per_s"]!) rows/s")
      }
      print("SGLD \(chains) chains × \(steps) steps: \(String(sgldSeconds)) s (\(Int(Double(emitted) / sgldSeconds)) samples/s)")
      print("peak RSS \(Self.peakRSS() / 1024) KiB")
    }
  }
}


extension Array {
  /// Runs `body` with stable pointers to each inner array's storage.
  func withUnsafeBufferPointers<T, R>(_ body: ([UnsafePointer<T>]) throws -> R) rethrows -> R where Element == [T] {
    var pointers: [UnsafePointer<T>] = []
    func nest(_ i: Int) throws -> R {
      if i == count { return try body(pointers) }
      return try self[i].withUnsafeBufferPointer { p in
        pointers.append(p.baseAddress!)
        return try nest(i + 1)
      }
    }
    return try nest(0)
  }
}

/// A JSON string literal (the inspect report's escaping).
private func jsonString(_ s: String) -> String {
  var out = ""
  InspectJSON.quote(s, into: &out)
  return out
}

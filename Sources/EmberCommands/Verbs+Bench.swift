import EmberFormat
import EmberRuntime
import EmberText

// Clock and /proc reads for the benchmark: OS calls, kept to this file.
import _EmberSystem

extension Verb {
  /// `ember bench MODEL`.
  public static let bench = Verb(
    VerbSpec(
      name: "bench",
      abstract: "Measure energy, energy+gradient and SGLD throughput on a model.",
      discussion: """
        For one class's energy (network + base term): rows/s for energy alone and for energy plus \
        input gradient at each batch size, the full score path (all classes + free energy) in \
        rows/s, and an SGLD job (--chains chains × --steps Langevin steps) in samples/s and \
        seconds; then peak RSS. Rows are drawn from the class's starting rows (or base). \
        --json prints an object (one batch size) or an array of objects.
        """,
      arguments: [.model],
      options: [.benchClass, .benchThreads, .batch, .seconds, .chains, .benchSteps, .benchJSON])
  ) { p throws(CLIError) in
    // Threads beyond the cores would only measure contention (and allocate a workspace each).
    let bench = Bench(
      threads: EmberSession.workers(p.int(.benchThreads) ?? 1), batches: p.ints(.batch), seconds: p.double(.seconds) ?? 1,
      chains: p.int(.chains) ?? 500, steps: p.int(.benchSteps) ?? 200)
    let model = p.positional("model")
    let session = try openSession(model)
    var c = 0
    if let label = p.string(.benchClass) { c = try classIndex(label, in: session) }
    try bench.run(session, classIndex: c, model: model, json: p.flag(.benchJSON))
  }
}

/// The measurements of `ember bench`.
struct Bench {
  let threads: Int
  let batches: [Int]
  let seconds: Double
  let chains: Int
  let steps: Int

  static func now() -> Double { ember_sys_monotonic_seconds() }

  /// Peak resident set size of the process in bytes (getrusage; 0 when unavailable).
  static func peakRSS() -> Int { max(0, Int(ember_sys_peak_rss_bytes())) }

  /// Calls `body(thread, iteration)` on every thread until `seconds` pass; returns calls per
  /// second summed over threads.
  func rate(threads: Int, _ body: @escaping (Int, Int) -> Void) -> Double {
    for t in 0..<threads { body(t, 0) }  // warm-up
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
    return Double(counts.reduce(0, +)) / (Self.now() - start)
  }

  func run(_ session: EmberSession, classIndex c: Int, model: String, json: Bool) throws(CLIError) {
    let energy = session.energy
    let m = session.model
    let d = energy.width
    // A pool of realistic rows: zero-step chains from the model's own starting points.
    let poolSize = 4096
    var pool: [Float] = []
    pool.reserveCapacity(poolSize * d)
    var zero = SamplerOverrides()
    zero.steps = 0
    zero.initNoise = max(m.classes[c].sampler?.initNoise ?? 0, 0.1)
    do {
      _ = try session.sample(classIndex: c, count: poolSize, seed: 1, overrides: zero) { block, _ in
        pool += block
        return true
      }
    } catch {
      throw CLIError.runtime(error)
    }
    var results: [[(String, String)]] = []
    for b in batches {
      let workspaces = (0..<threads).map { _ in EnergyWorkspace(energy, batch: b) }
      let outputs = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: b * max(energy.classCount, 1)) }
      let grads = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: b * energy.gradientStride) }
      defer {
        for o in outputs { o.deallocate() }
        for g in grads { g.deallocate() }
      }
      let blocks = max(poolSize / b, 1)
      let rows = b > poolSize ? (0..<b).flatMap { i in pool[((i % poolSize) * d)..<((i % poolSize) * d + d)] } : pool
      let result: [(String, String)] = rows.withUnsafeBufferPointer { xp in
        let base = xp.baseAddress!
        let rowsAt = { (n: Int) -> UnsafePointer<Float> in base + ((n % blocks) * b % max(poolSize - b + 1, 1)) * d }
        let energyRate = rate(threads: threads) { t, n in
          energy.energy(classIndex: c, rows: rowsAt(n), count: b, into: outputs[t], gradients: nil, workspace: workspaces[t])
        } * Double(b)
        let gradRate = rate(threads: threads) { t, n in
          energy.energy(classIndex: c, rows: rowsAt(n), count: b, into: outputs[t], gradients: grads[t], workspace: workspaces[t])
        } * Double(b)
        let scoreRate = rate(threads: threads) { t, n in
          let e = outputs[t]
          energy.energies(rows: rowsAt(n), count: b, into: e, workspace: workspaces[t])
          var sink: Float = 0
          for i in 0..<b { sink += session.score(e + i * energy.classCount) }
          if sink.isNaN { e[0] = sink }
        } * Double(b)
        return [
          ("batch", String(b)), ("threads", String(threads)), ("class", jsonString(m.classes[c].label)),
          ("energy_rows_per_s", String(Int(energyRate))), ("gradient_rows_per_s", String(Int(gradRate))),
          ("score_rows_per_s", String(Int(scoreRate))),
        ]
      }
      results.append(result)
    }
    // SGLD job.
    var sgld = SamplerOverrides()
    sgld.kind = .langevin
    sgld.steps = steps
    let start = Self.now()
    var emitted = 0
    do {
      _ = try session.sample(classIndex: c, count: chains, seed: 7, overrides: sgld, threads: threads) { _, n in
        emitted += n
        return true
      }
    } catch {
      throw CLIError.runtime(error)
    }
    let sgldSeconds = Self.now() - start
    let parameters = m.classes[c].parameterCount
    let common: [(String, String)] = [
      ("sgld_samples_per_s", String(Int(Double(emitted) / sgldSeconds))),
      ("sgld_seconds", String(sgldSeconds)), ("sgld_chains", String(chains)), ("sgld_steps", String(steps)),
      ("peak_rss_bytes", String(Self.peakRSS())), ("simd", "\"" + EnergyModel.simdLevel + "\""),
      ("encoded_width", String(d)), ("parameters", String(parameters)),
    ]
    if json {
      let objects = results.map { "{" + ($0 + common).map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}" }
      printOut((objects.count == 1 ? objects[0] : "[" + objects.joined(separator: ",\n ") + "]") + "\n")
    } else {
      var lines = [
        "model \(model): class \"\(m.classes[c].label)\", d = \(d), \(parameters) network parameters, SIMD \(EnergyModel.simdLevel), \(threads) thread\(threads == 1 ? "" : "s")"
      ]
      for r in results {
        func value(_ key: String) -> String { r.first { $0.0 == key }?.1 ?? "" }
        lines.append(
          "batch \(value("batch")): energy \(value("energy_rows_per_s")) rows/s, energy+gradient \(value("gradient_rows_per_s")) rows/s, score (all classes) \(value("score_rows_per_s")) rows/s")
      }
      lines.append("SGLD \(chains) chains × \(steps) steps: \(String(sgldSeconds)) s (\(Int(Double(emitted) / sgldSeconds)) samples/s)")
      lines.append("peak RSS \(Self.peakRSS() / 1024) KiB")
      printOut(lines.map(visible).joined(separator: "\n") + "\n")
    }
  }
}

/// `s` as a JSON string literal, quotes included (the inspect report's escaping; also used by
/// `ember train --progress json`).
public func jsonString(_ s: String) -> String {
  var out = ""
  JSONText.quote(s, into: &out)
  return out
}

import EmberFormat

extension SamplerDefaults {
  /// Per-step noise σ actually used. MALA always uses √(2εT) (its acceptance rule needs it).
  public var sigma: Float {
    if kind == .mala || noiseScale < 0 { return (2 * stepSize * temperature).squareRoot() }
    return noiseScale
  }
}

/// Where chains start.
public enum ChainStarts: Sendable {
  /// As the settings say: stored starting rows (falling back to the base when the file has
  /// none) or draws from the base.
  case model
  /// Encoded rows supplied by the caller (n×d); each chain picks one at random.
  case rows([Float])
}

/// Which rows of class c a sampling run keeps ("class-consistent synthesis").
public enum ClassFilter: String, Sendable, CaseIterable {
  /// Every chain's row.
  case off
  /// Only rows whose least energy is class c's: E_c(x) ≤ E_k(x) for every class k, i.e. c is
  /// the most probable class under equal priors (the balanced posterior — the metric of a
  /// downstream classifier trained on the rows is balanced accuracy, and 500 synthetic rows of
  /// a large class must not claim the places where a small class is likelier). A rejected
  /// chain is run again from a fresh random stream, up to ``Sampler/filterAttempts`` times in
  /// all, and keeps its first row when no attempt is accepted (counted in
  /// ``SamplingStats/filterFallbacks``). A model of one class accepts every row.
  case balanced
  /// Only rows that the file's classification read-out assigns to class c with equal priors:
  /// c is the first largest of logit_c − log π_c, where logit_c is what `ember classify` uses
  /// (−E_c/T + log π_c + offset_c, or the stacked read-out when the file carries one;
  /// ``EnergyReadout/balancedClass(_:row:scratch:)``). Re-runs and fallbacks as ``balanced``;
  /// a row with no finite logit is never kept.
  case readout

  /// The default of `ember sample`, the C API and Python (chosen on the evaluation's tuning
  /// half, docs/TUNING.md round 6, "Class filter on the read-out").
  public static let `default` = ClassFilter.readout
}

/// What a sampling run did.
public struct SamplingStats: Sendable, Equatable {
  /// Chains run, one per row (re-runs of rows the class filter rejected are counted in
  /// ``filterRejected``).
  public var chains = 0
  /// Chains restarted after diverging (non-finite or out of the box).
  public var restarts = 0
  /// MALA proposals and acceptances (0 for other samplers).
  public var proposals = 0
  public var accepted = 0
  /// Independence Metropolis–Hastings proposals from the base and acceptances.
  public var independenceProposals = 0
  public var independenceAccepted = 0
  /// Rows the class filter rejected (each one cost a chain run again), and rows kept unfiltered
  /// because every attempt was rejected.
  public var filterRejected = 0
  public var filterFallbacks = 0

  /// Accepted / proposed (NaN when not MALA).
  public var acceptanceRate: Double { proposals > 0 ? Double(accepted) / Double(proposals) : .nan }

  /// Adds another run's counts.
  public mutating func merge(_ o: SamplingStats) {
    chains += o.chains
    restarts += o.restarts
    proposals += o.proposals
    accepted += o.accepted
    independenceProposals += o.independenceProposals
    independenceAccepted += o.independenceAccepted
    filterRejected += o.filterRejected
    filterFallbacks += o.filterFallbacks
  }
}

/// Runs SGLD-family chains on one class's energy: TabEBM's Algorithm 1 (each chain's own
/// gradient), unadjusted Langevin at temperature T, or MALA; chains from the base start at a
/// draw of the base at temperature T and may first take independence proposals from it
/// (``SamplerDefaults/temperature``). Chain g of class c draws from the
/// stream (seed, c, g), so output depends only on the seed, never on threads or blocking.
/// Memory is O(threads · block · widest layer), independent of the number of samples.
public final class Sampler: @unchecked Sendable {
  /// The energies sampled from.
  public let energy: EnergyModel
  /// Chains evaluated together in one batch.
  public let blockSize: Int

  /// Default box for the divergence guard, in encoded (z-scored) units.
  public static let defaultDivergenceLimit: Float = 100

  /// Chain runs per row under a class filter before the row falls back to its first run.
  public static let filterAttempts = 16

  /// A sampler over `energy`.
  public init(_ energy: EnergyModel, blockSize: Int = 256) {
    self.energy = energy
    self.blockSize = max(blockSize, 1)
  }

  /// Draws `count` rows of class `classIndex` and hands them, in chain order, to `emit` in
  /// blocks (encoded rows, row-major n×d); `emit` returns false to stop early. Throws
  /// `.badRequest` when there is nowhere to start.
  /// `settings` are a class's sampler defaults with any overrides applied; chains leaving the
  /// box |x_i| ≤ `divergenceLimit` (encoded units) or turning non-finite restart. The chains
  /// run are `firstChain ..< firstChain + count`: a run split into chain ranges (e.g. across
  /// machines) gives the rows of one run, in the same order. `filter` decides which rows are
  /// kept (``ClassFilter``; attempt a > 0 of chain g draws from the stream (seed, c, g + a·2⁴⁰),
  /// so filtered output too depends only on the seed). This low-level entry keeps every row by
  /// default; ``EmberSession/sample(classIndex:count:seed:overrides:starts:threads:firstChain:emit:)``
  /// applies ``ClassFilter/default``.
  public func run(
    classIndex: Int, count: Int, seed: UInt64, settings: SamplerDefaults, starts: ChainStarts = .model,
    threads: Int = 1, divergenceLimit: Float = Sampler.defaultDivergenceLimit, firstChain: Int = 0,
    filter: ClassFilter = .off, emit: (UnsafeBufferPointer<Float>, Int) -> Bool
  ) throws(EmberRuntimeError) -> SamplingStats {
    let info = energy.model.classes[classIndex]
    let d = energy.width
    let stored = info.startingRows
    var source: StartPlan
    switch starts {
    case .rows(let rows):
      guard rows.count >= d, rows.count % d == 0 else {
        throw EmberRuntimeError(.badRequest, "no usable starting rows were supplied")
      }
      source = .rows(rows)
    case .model:
      if settings.initialization == .interpolate, stored.count >= 2 * d {
        source = Sampler.interpolationPlan(Array(stored), width: d)
      } else if settings.initialization != .base, stored.count >= d {
        // Stored rows, or a class too small to interpolate (one row): start at its rows.
        source = .rows(Array(stored))
      } else if energy.classes[classIndex].base != nil {
        source = .base
      } else if stored.count >= d {
        source = .rows(Array(stored))
      } else {
        throw EmberRuntimeError(
          .badRequest, "class \"\(info.label)\" has neither stored starting rows nor a base term to start chains from; pass --init-from",
          at: "class \(classIndex)")
      }
    }
    var stats = SamplingStats()
    let workers = max(1, threads)
    let superBlock = blockSize * workers
    let states = (0..<workers).map { _ in ChainBlock(energy, batch: blockSize) }
    var done = 0
    while done < count {
      let n = min(superBlock, count - done)
      let pieces = (n + blockSize - 1) / blockSize
      let first = done
      Parallel.forEach(pieces, threads: workers) { p in
        let start = first + p * self.blockSize
        let m = min(self.blockSize, first + n - start)
        states[p % workers].runFiltered(
          classIndex: classIndex, chains: (firstChain + start)..<(firstChain + start + m), seed: seed, settings: settings, source: source,
          prepared: self.energy.classes[classIndex], limit: divergenceLimit, filter: filter)
      }
      for p in 0..<pieces {
        let block = states[p % workers]
        let m = min(blockSize, first + n - (first + p * blockSize))
        stats.merge(block.stats)
        if !emit(UnsafeBufferPointer(start: block.kept.pointer, count: m * d), m) { return stats }
      }
      done += n
    }
    return stats
  }

  enum StartPlan {
    case rows([Float])
    case base
    /// Rows and, for each, the indices of its nearest stored neighbours (row-major n×k).
    case interpolate([Float], neighbours: [Int32], k: Int)
  }

  /// Nearest neighbours (Euclidean, encoded space) of every stored row among the others: up to
  /// 5, or fewer when the class has fewer rows. Rows beyond 4,096 look among a deterministic
  /// stride sample of 4,096 candidates. O(n · min(n, 4096) · d).
  static func interpolationPlan(_ rows: [Float], width d: Int) -> StartPlan {
    let n = rows.count / d
    let k = min(5, n - 1)
    let step = max(1, n / 4096)
    let candidates = Swift.stride(from: 0, to: n, by: step).map { $0 }
    var neighbours = [Int32](repeating: 0, count: n * k)
    var best = [(Float, Int)](repeating: (.infinity, 0), count: k)
    for i in 0..<n {
      for j in 0..<k { best[j] = (.infinity, i) }
      for j in candidates where j != i {
        var dist: Float = 0
        for t in 0..<d {
          let diff = rows[i * d + t] - rows[j * d + t]
          dist += diff * diff
        }
        if dist < best[k - 1].0 {
          var p = k - 1
          while p > 0 && best[p - 1].0 > dist {
            best[p] = best[p - 1]
            p -= 1
          }
          best[p] = (dist, j)
        }
      }
      for j in 0..<k { neighbours[i * k + j] = Int32(best[j].1) }
    }
    return .interpolate(rows, neighbours: neighbours, k: k)
  }
}

/// Chain state and scratch memory for one block of chains.
final class ChainBlock: @unchecked Sendable {
  let energy: EnergyModel
  let d: Int
  let gs: Int
  let batch: Int
  let workspace: EnergyWorkspace
  let x: AlignedBuffer
  let proposal: AlignedBuffer
  let grad: AlignedBuffer
  let proposalGrad: AlignedBuffer
  let e: AlignedBuffer
  let proposalE: AlignedBuffer
  /// The rows a block hands out (the chains' rows after the class filter).
  let kept: AlignedBuffer
  /// Every class's energy of the block's rows (batch × C), for the class filter.
  let classEnergies: AlignedBuffer
  /// The classification read-out (``ClassFilter/readout``) and its C-float scratch.
  let readout: EnergyReadout
  let logitScratch: AlignedBuffer
  var rngs: [RandomSource] = []
  var stats = SamplingStats()

  init(_ energy: EnergyModel, batch: Int) {
    self.energy = energy
    d = energy.width
    gs = energy.gradientStride
    self.batch = batch
    workspace = EnergyWorkspace(energy, batch: batch)
    x = AlignedBuffer(count: batch * d)
    proposal = AlignedBuffer(count: batch * d)
    grad = AlignedBuffer(count: batch * gs)
    proposalGrad = AlignedBuffer(count: batch * gs)
    e = AlignedBuffer(count: batch)
    proposalE = AlignedBuffer(count: batch)
    kept = AlignedBuffer(count: batch * d)
    classEnergies = AlignedBuffer(count: batch * energy.classCount)
    readout = EnergyReadout(energy)
    logitScratch = AlignedBuffer(count: energy.classCount)
  }

  private func start(_ i: Int, _ source: Sampler.StartPlan, _ settings: SamplerDefaults, _ prepared: PreparedClass) {
    let row = x.pointer + i * d
    switch source {
    case .rows(let rows):
      let k = rngs[i].nextInt(below: rows.count / d)
      for j in 0..<d { row[j] = rows[k * d + j] + settings.initNoise * rngs[i].nextNormalFloat() }
    case .base:
      prepared.base!.draw(using: &rngs[i], into: row, temperature: settings.temperature)
    case .interpolate(let rows, let neighbours, let k):
      let a = rngs[i].nextInt(below: rows.count / d)
      let b = Int(neighbours[a * k + rngs[i].nextInt(below: k)])
      let lambda = Float(rngs[i].nextUniform())
      for j in 0..<d {
        row[j] = rows[a * d + j] + lambda * (rows[b * d + j] - rows[a * d + j]) + settings.initNoise * rngs[i].nextNormalFloat()
      }
    }
  }

  private func evaluate(_ rows: AlignedBuffer, _ n: Int, _ classIndex: Int, _ en: AlignedBuffer, _ g: AlignedBuffer, clip: Float) {
    energy.energy(classIndex: classIndex, rows: rows.pointer, count: n, into: en.pointer, gradients: g.pointer, workspace: workspace)
    guard clip > 0 else { return }
    for i in 0..<n {
      let gi = g.pointer + i * gs
      var norm: Float = 0
      for j in 0..<d { norm = Deterministic.multiplyAdd(gi[j], gi[j], norm) }
      norm = norm.squareRoot()
      if norm > clip {
        let s = clip / norm
        for j in 0..<d { gi[j] *= s }
      }
    }
  }

  private func diverged(_ row: UnsafePointer<Float>, energy: Float, limit: Float) -> Bool {
    guard energy.isFinite else { return true }
    for j in 0..<d where !(abs(row[j]) <= limit) { return true }
    return false
  }

  /// Log importance weights w(x) = (E_base(x) − E(x)) / T of `n` rows (the target over the
  /// tempered base, up to a constant; see ``independenceSteps(classIndex:count:proposals:temperature:prepared:)``),
  /// into `out`. T = 1 divides by one: the same bytes as the untempered weights.
  private func logWeights(
    _ rows: AlignedBuffer, _ n: Int, _ classIndex: Int, _ prepared: PreparedClass, temperature: Float, into out: AlignedBuffer
  ) {
    energy.energy(
      classIndex: classIndex, rows: rows.pointer, count: n, into: out.pointer, gradients: nil, workspace: workspace)
    let baseEnergy = proposalGrad.pointer  // scratch: n ≤ batch ≤ batch·gs
    for i in 0..<n { baseEnergy[i] = 0 }
    prepared.base!.evaluate(
      rows: rows.pointer, count: n, workspace: workspace.classes[classIndex].base!, energies: baseEnergy, stride: 1,
      gradients: nil)
    for i in 0..<n { out.pointer[i] = (baseEnergy[i] - out.pointer[i]) / temperature }
  }

  /// Independence Metropolis–Hastings from the tempered base: each chain proposes a fresh draw
  /// y from q_T (the base with every component's covariance × T, ``PreparedBase/draw(using:into:temperature:)``)
  /// and moves there with probability min(1, e^{w(y) − w(x)}), w = (E_base − E)/T, `proposals`
  /// times. The chain's target is q_T(x) · e^{−(E(x) − E_base(x))/T}: the base at temperature T
  /// times the network's residual at temperature T. For a one-component (Gaussian) base,
  /// q_T ∝ e^{−E_base/T}, so this is exactly e^{−E/T}; T = 1 is exactly e^{−E} for any base
  /// (the same bytes as before temperatures applied here). No step size.
  private func independenceSteps(classIndex: Int, count n: Int, proposals: Int, temperature: Float, prepared: PreparedClass) {
    logWeights(x, n, classIndex, prepared, temperature: temperature, into: e)
    let yp = proposal.pointer
    for _ in 0..<proposals {
      for i in 0..<n { prepared.base!.draw(using: &rngs[i], into: yp + i * d, temperature: temperature) }
      logWeights(proposal, n, classIndex, prepared, temperature: temperature, into: proposalE)
      for i in 0..<n {
        let delta = proposalE.pointer[i] - e.pointer[i]
        let u = Float(rngs[i].nextUniform())
        guard proposalE.pointer[i].isFinite, delta >= 0 || u < Float.exp(delta) else { continue }
        for j in 0..<d { x.pointer[i * d + j] = yp[i * d + j] }
        e.pointer[i] = proposalE.pointer[i]
        stats.independenceAccepted += 1
      }
      stats.independenceProposals += n
    }
  }

  /// Runs chains `chains` of class `classIndex` into ``kept``, keeping the rows `filter`
  /// accepts: rejected chains run again on streams g + a·2⁴⁰ (a = 1, 2, …) until accepted or
  /// ``Sampler/filterAttempts`` runs, else keep their first row. Rows depend only on (seed,
  /// class, chain), never on how chains are blocked.
  func runFiltered(
    classIndex: Int, chains: Range<Int>, seed: UInt64, settings: SamplerDefaults, source: Sampler.StartPlan,
    prepared: PreparedClass, limit: Float, filter: ClassFilter
  ) {
    let n = chains.count
    run(classIndex: classIndex, streams: chains.map { UInt64($0) }, seed: seed, settings: settings, source: source, prepared: prepared, limit: limit)
    kept.pointer.update(from: x.pointer, count: n * d)
    guard filter != .off, energy.classCount > 1 else { return }
    var total = stats
    var ok = consistent(n, classIndex, filter)
    var pending = (0..<n).filter { !ok[$0] }
    var attempt = 1
    while !pending.isEmpty, attempt < Sampler.filterAttempts {
      total.filterRejected += pending.count
      let streams = pending.map { UInt64(chains.lowerBound + $0) | UInt64(attempt) << 40 }
      run(classIndex: classIndex, streams: streams, seed: seed, settings: settings, source: source, prepared: prepared, limit: limit)
      total.merge(stats)
      var still: [Int] = []
      ok = consistent(pending.count, classIndex, filter)
      for (k, i) in pending.enumerated() {
        if ok[k] {
          (kept.pointer + i * d).update(from: x.pointer + k * d, count: d)
        } else {
          still.append(i)
        }
      }
      pending = still
      attempt += 1
    }
    total.filterRejected += pending.count
    total.filterFallbacks += pending.count
    total.chains = n  // one per row: the re-runs are counted in filterRejected
    stats = total
  }

  /// For chain rows 0..<n of ``x``: whether `filter` keeps them for class `classIndex` —
  /// ``ClassFilter/balanced``: the class has the least energy (a row whose own energy is not
  /// finite is never consistent); ``ClassFilter/readout``: the read-out's class with equal
  /// priors is `classIndex`. Every class's energy is evaluated.
  private func consistent(_ n: Int, _ classIndex: Int, _ filter: ClassFilter) -> [Bool] {
    let count = energy.classCount
    let e = classEnergies.pointer
    energy.energies(rows: x.pointer, count: n, into: e, workspace: workspace)
    if filter == .readout {
      return (0..<n).map { i in
        readout.balancedClass(e + i * count, row: x.pointer + i * d, scratch: logitScratch.pointer) == classIndex
      }
    }
    return (0..<n).map { i in
      let own = e[i * count + classIndex]
      guard own.isFinite else { return false }
      for k in 0..<count where k != classIndex && e[i * count + k] < own { return false }
      return true
    }
  }

  func run(
    classIndex: Int, streams: [UInt64], seed: UInt64, settings: SamplerDefaults, source: Sampler.StartPlan,
    prepared: PreparedClass, limit: Float
  ) {
    let n = streams.count
    stats = SamplingStats(chains: n)
    rngs = streams.map { RandomSource(seed: seed, stream: UInt64(classIndex), $0) }
    for i in 0..<n { start(i, source, settings, prepared) }
    if case .base = source, settings.proposals > 0 {
      independenceSteps(
        classIndex: classIndex, count: n, proposals: settings.proposals, temperature: settings.temperature, prepared: prepared)
    }
    let eps = settings.stepSize
    let sigma = settings.sigma
    let xp = x.pointer
    let gp = grad.pointer
    switch settings.kind {
    case .tabebm, .langevin:
      for _ in 0..<settings.steps {
        evaluate(x, n, classIndex, e, grad, clip: settings.gradClip)
        for i in 0..<n {
          let row = xp + i * d
          let g = gp + i * gs
          if !e.pointer[i].isFinite {
            stats.restarts += 1
            start(i, source, settings, prepared)
            continue
          }
          for j in 0..<d { row[j] = row[j] - eps * g[j] + sigma * rngs[i].nextNormalFloat() }
          if diverged(row, energy: 0, limit: limit) {
            stats.restarts += 1
            start(i, source, settings, prepared)
          }
        }
      }
    case .mala:
      let yp = proposal.pointer
      let gyp = proposalGrad.pointer
      let twoSigma2 = 2 * sigma * sigma
      evaluate(x, n, classIndex, e, grad, clip: settings.gradClip)
      for _ in 0..<settings.steps {
        for i in 0..<n {
          let row = xp + i * d
          let g = gp + i * gs
          let y = yp + i * d
          for j in 0..<d { y[j] = row[j] - eps * g[j] + sigma * rngs[i].nextNormalFloat() }
        }
        evaluate(proposal, n, classIndex, proposalE, proposalGrad, clip: settings.gradClip)
        for i in 0..<n {
          let row = xp + i * d
          let y = yp + i * d
          let gx = gp + i * gs
          let gy = gyp + i * gs
          let ey = proposalE.pointer[i]
          let ex = e.pointer[i]
          stats.proposals += 1
          var forward: Float = 0
          var reverse: Float = 0
          for j in 0..<d {
            let f = y[j] - row[j] + eps * gx[j]
            let r = row[j] - y[j] + eps * gy[j]
            forward = Deterministic.multiplyAdd(f, f, forward)
            reverse = Deterministic.multiplyAdd(r, r, reverse)
          }
          let logAccept = -(ey - ex) / settings.temperature - (reverse - forward) / twoSigma2
          let u = Float(rngs[i].nextUniform())
          if ey.isFinite, !diverged(y, energy: ey, limit: limit), logAccept >= 0 || u < Float.exp(logAccept) {
            stats.accepted += 1
            for j in 0..<d { row[j] = y[j] }
            for j in 0..<gs { gx[j] = gy[j] }
            e.pointer[i] = ey
          }
        }
      }
      for i in 0..<n where diverged(xp + i * d, energy: e.pointer[i], limit: limit) {
        stats.restarts += 1
        start(i, source, settings, prepared)
      }
    }
  }
}

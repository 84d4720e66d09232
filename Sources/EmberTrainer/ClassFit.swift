import EmberFormat
import Foundation

/// One class's fitted energy, E(x) = −s·r(x) − log b(x) + log Z(s), and what the fit measured
/// on rows it did not train on.
struct ClassFit: Sendable {
  /// Base b: a Gaussian (Ledoit–Wolf + ridge) or a shared-covariance mixture.
  var base: MixtureBase
  /// Residual network with log Z(s)/s already subtracted from its last bias (nil: base only).
  var net: MLP?
  /// Network scale s ∈ [0, 1].
  var scale: Double
  /// The base chosen on held-out rows.
  var baseChoice: BaseChoice
  /// Optimiser steps of the shipped network.
  var steps: Int
  /// Indices (into the class's rows) the shipped model was trained on.
  var trainedRows: [Int]
  /// Held-out energies of the class's own rows, each from a model that did not see the row
  /// (cross-fitting folds, or the single split's held-out share).
  var heldout: [(row: Int, energy: Double)]
  /// Mean held-out log-likelihood per row of the base alone and of the full energy.
  var heldoutBaseLL: Double
  var heldoutLL: Double
  /// Folds used (1: a single held-out split; 0: no held-out rows at all).
  var folds: Int
  /// Whether the time budget cut training short.
  var outOfTime = false
}

/// Fits one class: the base covariance ridge, the residual network and its scale, chosen on
/// held-out rows by cross-fitting (small classes) or one split (large ones).
///
/// Cross-fitting with K folds: for each fold, a base and a network are fitted on the other
/// folds and evaluated on it. The ridge and the scale s are those with the best held-out
/// log-likelihood summed over the folds (each fold's normaliser Z_f(s) estimated by importance
/// sampling from its base), the number of steps the best mean held-out NCE loss; the shipped
/// base and network are then refitted on all rows with those choices. With one split the shipped
/// model is the one fitted on the training share (the best checkpoint).
/// The scale is chosen on held-out rows, so the network cannot make the held-out likelihood
/// worse than the base's (s = 0 is the base alone).
struct ClassFitter {
  let settings: ObjectiveSettings
  /// Share of a large class held out (single-split mode).
  let heldoutFraction: Double
  /// In single-split mode, refit the shipped base and network on all rows (cross-fitting
  /// always refits).
  let refit: Bool
  let d: Int
  /// Lattice spacing of every encoded dimension (``Dequantization/spacings(_:width:)``; empty:
  /// none), used as `settings.dequantization` says.
  var spacings: [Double] = []

  /// The lattice term of every base fitted here.
  var lattice: LatticeVariance { LatticeVariance(spacings: spacings, rule: settings.dequantization.variance) }

  /// A progress report: (stage, phase, phases, step, steps, loss).
  typealias Report = (TrainingProgress.Stage, Int, Int, Int, Int, Double) -> Void

  /// Fits the class; training stops at `deadline` (a ``Clock`` reading; the remaining time is
  /// shared evenly by the phases still to run), keeping the best held-out checkpoint.
  func fit(_ x: [Float], count n: Int, rng: inout TrainerRandom, deadline: Double? = nil, report: Report) -> ClassFit {
    let s = settings
    if n == 1 {
      // Nothing to hold out: the row's own (in-sample) energy stands in, so that the class still
      // takes part in the read-out and calibration instead of being invisible to them.
      let choice = BaseChoice(components: 1, ridge: Self.singleRowRidge)
      let base = choice.fit(x, count: 1, width: d, lattice: lattice, rng: &rng)
      return ClassFit(
        base: base, net: nil, scale: 0, baseChoice: choice, steps: 0, trainedRows: [0],
        heldout: [(0, -base.logDensity(x)[0])], heldoutBaseLL: .nan, heldoutLL: .nan, folds: 0)
    }
    // Folds: K-fold for small classes, else one held-out share.
    var order = Array(0..<n)
    rng.shuffle(&order)
    let crossFit = s.folds >= 2 && n <= s.crossFitMaxRows
    let k = crossFit ? min(s.folds, n) : 1
    var validation: [[Int]]
    if crossFit {
      validation = (0..<k).map { f in stride(from: f, to: n, by: k).map { order[$0] }.sorted() }
    } else {
      let h = min(n - 1, max(1, Int((heldoutFraction * Double(n)).rounded())))
      validation = [Array(order.prefix(h)).sorted()]
    }
    let training = validation.map { v in
      let held = Set(v)
      return (0..<n).filter { !held.contains($0) }
    }
    let refitAll = crossFit || refit
    let phases = k + (refitAll ? 1 : 0)
    let choice = chooseBase(
      x, training: training.map { Self.spaced($0, s.baseChoiceRows) },
      validation: validation.map { Self.spaced($0, s.baseChoiceRows / 2) }, rng: &rng
    ) { candidate, candidates in report(.base, 1, phases, candidate, candidates, .nan) }
    let bases = training.map { fitBase(choice, x, $0, rng: &rng) }
    let wantNet = s.epochs > 0 && n >= s.networkMinRows

    // The network's held-out rows (stopping loss, scale, gain test) dequantized like the base
    // test's, so that a network cannot win them back by fitting the lattice the base ignores.
    // The held-out energies reported and calibrated on stay those of the rows themselves.
    let noisy = wantNet && s.dequantization.heldoutNoise && s.dequantization.networkTest
      && spacings.contains(where: { $0 > 0 })
    var noise = TrainerRandom(seed: noisy ? rng.next() : 0, stream: Self.dequantizationStream + 1)
    func tested(_ rows: [Float]) -> [Float] {
      guard noisy else { return rows }
      var out = rows
      Self.dequantize(&out, spacings: spacings, rng: &noise)
      return out
    }

    // Networks per fold, with held-out loss curves.
    var runs: [TrainingRun] = []
    var outOfTime = false
    func phaseDeadline(_ remaining: Int) -> Double? {
      deadline.map { d in let now = Clock.now(); return now + max(0, d - now) / Double(max(remaining, 1)) }
    }
    if wantNet {
      for f in 0..<k {
        let rows = training[f]
        let t = ResidualTrainer(
          settings: s, rows: gather(x, rows), count: rows.count, width: d, base: bases[f],
          validation: tested(gather(x, Self.spaced(validation[f], s.stoppingRows))))
        let steps = ResidualTrainer.steps(for: rows.count, s)
        let run = t.train(rng: &rng, steps: steps, keepCheckpoints: crossFit, deadline: phaseDeadline(phases - f)) {
          step, loss in report(.network, f + 1, phases, step, steps, loss)
        }
        outOfTime = outOfTime || run.outOfTime
        runs.append(run)
      }
    }
    // The common checkpoint with the best mean held-out loss (cross-fitting), and each fold's
    // network there.
    var chosenStep = runs.first?.step ?? 0
    var foldNets: [MLP] = runs.map(\.net)
    let checkpointed = crossFit && wantNet && runs.allSatisfy { !$0.curve.isEmpty }
    if checkpointed {
      let bestIndex = Self.bestCheckpoint(runs)
      chosenStep = runs.map { $0.curve[min(bestIndex, $0.curve.count - 1)].step }.max() ?? 0
      foldNets = runs.map { r in
        var net = r.net
        if !r.checkpoints.isEmpty { net.params = r.checkpoints[min(bestIndex, r.checkpoints.count - 1)] }
        return net
      }
    }

    // Network outputs on held-out rows and on draws from each fold's base.
    if wantNet { report(.scale, k + 1, phases, 0, 0, .nan) }
    var heldR: [[Double]] = []
    var drawR: [[Double]] = []
    let heldX = (0..<k).map { gather(x, validation[$0]) }
    var drawX: [[Float]] = []
    let heldLogB = (0..<k).map { bases[$0].logDensity(heldX[$0]) }
    // Held-out rows and network outputs of the tests (the rows themselves unless `noisy`).
    var testX = heldX
    var testR: [[Double]] = []
    if wantNet {
      for f in 0..<k {
        heldR.append(foldNets[f].outputs(heldX[f], count: validation[f].count).map(Double.init))
        drawX.append(baseDraws(bases[f], rng: &rng))
        drawR.append(foldNets[f].outputs(drawX[f], count: drawX[f].count / max(d, 1)).map(Double.init))
        if noisy {
          testX[f] = tested(heldX[f])
          testR.append(foldNets[f].outputs(testX[f], count: validation[f].count).map(Double.init))
        } else {
          testR.append(heldR[f])
        }
      }
    }
    var scale = wantNet ? (s.selectScale ? Self.bestScale(held: testR, draws: drawR) : 1) : 0
    // Keep the network only when its mean paired held-out gain over the base is more than
    // `gainStandardErrors` standard errors. With cross-fitting each fold's gains are measured
    // at a step and scale chosen on the other folds only (``nestedGains``), so they are honest;
    // a single split can only measure them at the step and scale chosen on its own rows.
    if s.selectScale && scale > 0 {
      let gains =
        checkpointed
        ? nestedGains(runs, held: testX, draws: drawX)
        : Self.gains(held: testR, draws: drawR, scale: scale)
      if !Self.clearlyPositive(gains, standardErrors: s.gainStandardErrors) { scale = 0 }
    }
    var heldout: [(row: Int, energy: Double)] = []
    var baseLL = 0.0, modelLL = 0.0, count = 0
    for f in 0..<k {
      let logZ = wantNet ? Self.logMeanExp(drawR[f], times: scale) : 0
      for (i, row) in validation[f].enumerated() {
        let r = wantNet ? heldR[f][i] : 0
        let logp = heldLogB[f][i] + scale * r - logZ
        heldout.append((row, -logp))
        baseLL += heldLogB[f][i]
        modelLL += logp
        count += 1
      }
    }
    heldout.sort { $0.row < $1.row }

    // The shipped model.
    var base = bases[0]
    var net: MLP? = wantNet && scale > 0 ? foldNets[0] : nil
    var trainedRows = training[0]
    var steps = chosenStep
    if refitAll {
      base = fitBase(choice, x, Array(0..<n), rng: &rng)
      trainedRows = Array(0..<n)
      if wantNet && scale > 0 {
        let t = ResidualTrainer(settings: s, rows: x, count: n, width: d, base: base)
        let total = max(chosenStep, 1)
        let run = t.train(rng: &rng, steps: total, earlyStop: false, deadline: phaseDeadline(1)) { step, loss in
          report(.network, phases, phases, step, total, loss)
        }
        outOfTime = outOfTime || run.outOfTime
        net = run.net
      }
    } else if !wantNet || scale == 0 {
      steps = 0
    }
    if var shipped = net {
      let logZ = Self.logMeanExp(networkOnDraws(shipped, base, rng: &rng), times: scale)
      shipped.shiftOutput(by: Float(-logZ / scale))
      net = shipped
    } else {
      steps = 0
    }
    return ClassFit(
      base: base, net: net, scale: net == nil ? 0 : scale, baseChoice: choice, steps: steps, trainedRows: trainedRows,
      heldout: heldout, heldoutBaseLL: baseLL / Double(max(count, 1)), heldoutLL: modelLL / Double(max(count, 1)),
      folds: k, outOfTime: outOfTime)
  }

  /// The base `choice` fitted to rows `rows` of `x` (a mixture on at most `mixtureRows` of
  /// them, evenly spaced).
  func fitBase(_ choice: BaseChoice, _ x: [Float], _ rows: [Int], rng: inout TrainerRandom) -> MixtureBase {
    let used = choice.components > 1 ? Self.spaced(rows, settings.mixtureRows) : rows
    if used.count == x.count / max(d, 1) {
      return choice.fit(x, count: used.count, width: d, lattice: lattice, rng: &rng)
    }
    return choice.fit(gather(x, used), count: used.count, width: d, lattice: lattice, rng: &rng)
  }

  /// At most `limit` of `rows`, evenly spaced (all of them when there are not more). The rows
  /// of a fold are a random set, so an evenly spaced subset of them is one too — and taking it
  /// draws nothing from the generator, so small classes train exactly as without a limit.
  static func spaced(_ rows: [Int], _ limit: Int) -> [Int] {
    guard limit > 0, rows.count > limit else { return rows }
    return (0..<limit).map { rows[$0 * rows.count / limit] }
  }

  /// Ridge for a class of one row (no spread to measure): variance 0.5 per encoded column
  /// (columns are z-scored over all classes, so a class's own variance is mostly below 1).
  static let singleRowRidge = 0.5

  /// The base chosen on held-out rows, the Gaussian being the default that anything richer
  /// must beat: the best Gaussian (the ridge with the best mean held-out log-likelihood) is the
  /// incumbent; then, in order of components, the best candidate of each mixture size replaces
  /// the incumbent only when its mean paired per-row gain over it exceeds
  /// `baseStandardErrors` standard errors (``clearlyPositive(_:standardErrors:)``), the two
  /// levels' ridges chosen for each fold's rows on the other folds only
  /// (``nestedDifferences(_:sizes:challenger:incumbent:)``).
  /// Candidates: Gaussians with each ridge; shared-covariance mixtures of 2…`maxComponents`
  /// components with each mixture ridge, when every fold has enough training rows for them.
  /// `report(candidate, candidates)` after each candidate.
  func chooseBase(
    _ x: [Float], training: [[Int]], validation: [[Int]], rng: inout TrainerRandom,
    report: (Int, Int) -> Void = { _, _ in }
  ) -> BaseChoice {
    var candidates = settings.ridges.map { BaseChoice(components: 1, ridge: $0) }
    let smallest = training.map(\.count).min() ?? 0
    if settings.maxComponents >= 2 {
      for k in 2...settings.maxComponents where smallest >= k * settings.rowsPerComponent {
        candidates += settings.mixtureRidges.map { BaseChoice(components: k, ridge: $0) }
      }
    }
    guard candidates.count > 1 else { return candidates.first ?? BaseChoice(components: 1, ridge: 0.05) }
    // Per-row held-out log-likelihood of every candidate (rows in fold order), on the same
    // (possibly dequantized) held-out rows for every candidate.
    let lattice = self.lattice
    var heldRows = validation.map { gather(x, $0) }
    if settings.dequantization.heldoutNoise && spacings.contains(where: { $0 > 0 }) {
      var noise = TrainerRandom(seed: rng.next(), stream: Self.dequantizationStream)
      for f in heldRows.indices { Self.dequantize(&heldRows[f], spacings: spacings, rng: &noise) }
    }
    let scores: [[Double]] = candidates.enumerated().map { i, c in
      report(i, candidates.count)
      var out: [Double] = []
      for (t, v) in zip(training, heldRows) {
        var local = rng
        let b = c.fit(gather(x, t), count: t.count, width: d, lattice: lattice, rng: &local)
        out += b.logDensity(v)
      }
      report(i + 1, candidates.count)
      return out
    }
    _ = rng.next()
    let means = scores.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
    // Within a complexity level, the best ridge; levels in order of components.
    let levels = Dictionary(grouping: candidates.indices, by: { candidates[$0].components }).sorted { $0.key < $1.key }
    // Each level is tested against the incumbent level on nested differences: for each fold's
    // rows, both levels' ridges chosen on the other folds only (``nestedDifferences``).
    let sizes = validation.map(\.count)
    var incumbent: [Int] = []
    for (_, members) in levels {
      if incumbent.isEmpty
        || Self.clearlyPositive(
          Self.nestedDifferences(scores, sizes: sizes, challenger: members, incumbent: incumbent),
          standardErrors: settings.baseStandardErrors)
      {
        incumbent = members
      }
    }
    return candidates[incumbent.max { means[$0] < means[$1] }!]
  }

  /// Generator stream of the held-out rows' dequantization noise.
  static let dequantizationStream: UInt64 = 0x6465_7175_616e_7421

  /// Adds h_i·(u − ½), u ~ U(0, 1), to every lattice dimension i (h_i > 0) of the rows of `x`
  /// (row-major, width `spacings.count`): each value spread over its lattice cell.
  static func dequantize(_ x: inout [Float], spacings h: [Double], rng: inout TrainerRandom) {
    let d = h.count
    guard d > 0 else { return }
    for r in 0..<(x.count / d) {
      for i in 0..<d where h[i] > 0 { x[r * d + i] += Float(h[i] * (rng.uniform() - 0.5)) }
    }
  }

  /// Whether the mean of paired per-row differences exceeds `standardErrors` standard errors
  /// of that mean (at least two rows; a zero spread needs a positive mean).
  static func clearlyPositive(_ diff: [Double], standardErrors k: Double) -> Bool {
    guard diff.count >= 2 else { return false }
    let m = diff.reduce(0, +) / Double(diff.count)
    let v = diff.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(diff.count - 1)
    return m > 0 && m > k * (v / Double(diff.count)).squareRoot()
  }

  /// `normalizerDraws` draws from `base` (row-major).
  func baseDraws(_ base: MixtureBase, rng: inout TrainerRandom) -> [Float] {
    let m = max(settings.normalizerDraws, 1)
    var draws = [Float](repeating: 0, count: m * d)
    draws.withUnsafeMutableBufferPointer { base.sample(m, into: $0.baseAddress!, rng: &rng) }
    return draws
  }

  /// r(x) on `normalizerDraws` draws from `base`.
  func networkOnDraws(_ net: MLP, _ base: MixtureBase, rng: inout TrainerRandom) -> [Double] {
    let draws = baseDraws(base, rng: &rng)
    return net.outputs(draws, count: draws.count / max(d, 1)).map(Double.init)
  }

  /// log mean exp(s·v).
  static func logMeanExp(_ v: [Double], times s: Double) -> Double {
    guard !v.isEmpty else { return 0 }
    var top = -Double.infinity
    for x in v { top = max(top, s * x) }
    var total = 0.0
    for x in v { total += exp(s * x - top) }
    return top + log(total / Double(v.count))
  }

  /// The scale s ∈ [0, 1] maximising Σ_f [Σ_i s·r_f(x_i) − n_f·log mean_draws e^{s·r_f}]: the
  /// held-out log-likelihood up to the base's (s-independent) term. Concave in s (log Z is a
  /// log-moment-generating function), so a golden-section search finds the maximum.
  static func bestScale(held: [[Double]], draws: [[Double]]) -> Double {
    func objective(_ s: Double) -> Double {
      var total = 0.0
      for f in held.indices where !held[f].isEmpty {
        total += s * held[f].reduce(0, +) - Double(held[f].count) * logMeanExp(draws[f], times: s)
      }
      return total
    }
    var lo = 0.0, hi = 1.0
    let g = (5.0.squareRoot() - 1) / 2
    var a = hi - g * (hi - lo), b = lo + g * (hi - lo)
    var fa = objective(a), fb = objective(b)
    for _ in 0..<40 {
      if fa < fb {
        lo = a
        a = b
        fa = fb
        b = lo + g * (hi - lo)
        fb = objective(b)
      } else {
        hi = b
        b = a
        fb = fa
        a = hi - g * (hi - lo)
        fa = objective(a)
      }
    }
    let s = (lo + hi) / 2
    // The ends are candidates too (the maximum may sit on the boundary).
    let candidates = [(0.0, objective(0)), (s, objective(s)), (1.0, objective(1))]
    return candidates.max { $0.1 < $1.1 }!.0
  }

  /// The per-row held-out log-likelihood gains s·r(x) − log Z_f(s) over the base, folds in
  /// order.
  static func gains(held: [[Double]], draws: [[Double]], scale: Double) -> [Double] {
    var gains: [Double] = []
    for f in held.indices {
      let logZ = logMeanExp(draws[f], times: scale)
      gains += held[f].map { scale * $0 - logZ }
    }
    return gains
  }

  /// Whether the per-row held-out gains (``gains(held:draws:scale:)``) have a mean above
  /// `standardErrors` standard errors (``clearlyPositive(_:standardErrors:)``).
  static func clearGain(held: [[Double]], draws: [[Double]], scale: Double, standardErrors: Double = 1) -> Bool {
    clearlyPositive(gains(held: held, draws: draws, scale: scale), standardErrors: standardErrors)
  }

  /// Rows `idx` of `x`, concatenated.
  func gather(_ x: [Float], _ idx: [Int]) -> [Float] {
    var out = [Float]()
    out.reserveCapacity(idx.count * d)
    for i in idx { out.append(contentsOf: x[(i * d)..<((i + 1) * d)]) }
    return out
  }
}

extension MLP {
  /// Adds `delta` to the single output (the last layer's bias).
  mutating func shiftOutput(by delta: Float) {
    params[biasOffsets[layerCount - 1]] += delta
  }
}

/// A base family member: a Gaussian (k = 1, Ledoit–Wolf covariance + ridge·I) or a k-component
/// shared-covariance mixture (pooled covariance + ridge·I), each with the lattice term of
/// ``LatticeVariance`` on the diagonal before the ridge.
struct BaseChoice: Sendable, Equatable {
  var components: Int
  var ridge: Double

  /// Fits this base to `n` rows.
  func fit(
    _ x: [Float], count n: Int, width d: Int, lattice: LatticeVariance = .none, rng: inout TrainerRandom
  ) -> MixtureBase {
    components <= 1
      ? MixtureBase.gaussian(x, count: n, width: d, ridge: ridge, lattice: lattice)
      : MixtureBase.fitted(x, count: n, width: d, components: components, ridge: ridge, lattice: lattice, rng: &rng)
  }
}

import EmberFormat
import Foundation

/// The per-class training objective.
public enum Objective: String, Sendable, CaseIterable {
  /// Noise-contrastive estimation of a residual r(x) on the class's fitted Gaussian base b_c:
  /// the model density is b_c(x)·e^{r(x)}, contrasted with noise from a broadened copy of b_c.
  /// Energy E_c = −s·r(x) − log b_c(x) + log Z_c(s), with the scale s chosen on held-out rows
  /// (s = 0 is the base alone) and the normaliser Z_c folded into the network's last bias.
  case nce
  /// TabEBM's surrogate task (class rows vs 4 random hypercube corners at ±5) with a single
  /// log-odds output, made safe by the same Gaussian base term: E_c = −r(x) − log b_c(x).
  case tabebm
}

/// Hyper-parameters of one class's training run.
public struct ObjectiveSettings: Sendable, Equatable {
  /// Objective.
  public var objective: Objective = .nce
  /// Hidden widths; empty: two layers sized by the class's rows (``widths(for:)``).
  public var hidden: [Int] = []
  /// Hidden nonlinearity.
  public var activation: Activation = .silu
  /// Most passes over a class's training rows (training usually stops earlier, at the best
  /// held-out loss).
  public var epochs: Int = 400
  /// Most optimiser steps per training run, whatever the data size (`--max-steps`). Only a
  /// class of more than about 1,300 training rows (5+ batches an epoch) reaches it: 2,000
  /// instead of 3,000 took a third off the CPU time of the 20,000 × 20 and 100,000 × 50 scale
  /// tables with the same held-out and test metrics (±0.001; docs/TRAINING.md §9).
  public var maxSteps: Int = 2000
  /// Data rows per mini-batch (a class with fewer rows trains full-batch).
  public var batchRows: Int = 256
  /// AdamW learning rate.
  public var learningRate: Double = 1e-3
  /// AdamW decoupled weight decay.
  public var weightDecay: Double = 1e-3
  /// Standard deviation of the Gaussian jitter added to real rows at every step.
  public var jitter: Double = 0.05
  /// Weight λ of the gradient penalty λ·E‖∇ₓr‖² (on data and noise rows).
  public var gradientPenalty: Double = 0.01
  /// Step σ of the finite-difference estimate of ‖∇ₓr‖² (see ``ResidualTrainer``).
  public var penaltyStep: Double = 0.01
  /// Rows of data and of noise (each) the penalty is estimated on per step.
  public var penaltyRows: Int = 32
  /// Noise rows per step: max(minimum, perRow·batch rows).
  public var minimumNoiseRows: Int = 64
  /// Noise rows per data row of a batch.
  public var noisePerRow: Int = 2
  /// Noise distribution: the class's base with its covariance scaled by this factor squared
  /// (1: the base itself — in many dimensions a broader noise is trivially told from the data
  /// and the network learns nothing).
  public var noiseInflation: Double = 1
  /// Held-out loss evaluated every this many steps (a checkpoint).
  public var evaluateEvery: Int = 10
  /// Stop after this many checkpoints without a better held-out loss.
  public var patience: Int = 15
  /// Cross-fitting folds for classes with at most ``crossFitMaxRows`` rows (1: a single split).
  public var folds: Int = 5
  /// Classes with more rows use one held-out split instead of cross-fitting.
  public var crossFitMaxRows: Int = 1000
  /// Classes with fewer rows get no network (the base alone): a residual fitted on a handful of
  /// rows is noise that no held-out check on those same few rows can catch.
  public var networkMinRows: Int = 20
  /// The network is kept only when its mean paired held-out gain per row over the base exceeds
  /// this many standard errors. With cross-fitting each fold's gains are measured at the
  /// early-stopping step and scale chosen on the other folds (nested, so not optimistic); a
  /// single split measures them at choices made on its own rows. Chosen on the evaluation's
  /// tuning half (docs/TUNING.md, rounds 3 and 4).
  public var gainStandardErrors: Double = 3
  /// A richer base (a mixture with one more level of components) replaces the best Gaussian,
  /// or a smaller mixture, only when its mean paired held-out gain per row exceeds this many
  /// standard errors (each level's best ridge chosen, for each fold's rows, on the other folds).
  /// The Gaussian is the default (docs/TUNING.md, rounds 3 and 4).
  public var baseStandardErrors: Double = 3
  /// How bases treat lattice-valued columns (whole numbers, one-hot slots): fitted and chosen
  /// as if dequantized — the lattice variance h²/12 added to the covariance, candidates compared
  /// on held-out rows with uniform noise of the spacing (docs/TUNING.md, round 7).
  /// `--no-dequantize`: ``Dequantization/init(variance:heldoutNoise:integers:categories:)`` with
  /// no arguments (the bases of round 5).
  public var dequantization = Dequantization(variance: .add, heldoutNoise: true)
  /// Choose the network scale s ∈ [0, 1] on held-out rows (else s = 1).
  public var selectScale: Bool = true
  /// Draws from the base used to estimate the normaliser Z(s) by importance sampling.
  public var normalizerDraws: Int = 4096
  /// Ridge values tried for a Gaussian base's covariance (Ledoit–Wolf + ridge·I).
  public var ridges: [Double] = [0.001, 0.01, 0.05, 0.2, 0.5, 1]
  /// Mixture bases tried: components 2… up to this many (0 or 1: Gaussian bases only).
  public var maxComponents: Int = 4
  /// Ridge values tried for mixture bases' shared covariance (pooled + ridge·I).
  public var mixtureRidges: [Double] = [0.01, 0.05, 0.2]
  /// A mixture base is tried only when a fold's training rows number at least this many per
  /// component.
  public var rowsPerComponent: Int = 10
  /// Most rows of a class its model is fitted on; a larger class is fitted on a seeded random
  /// subsample of this size (its prior still counts every row). See docs/TRAINING.md.
  public var maxClassRows: Int = 50_000
  /// Most training rows (and half as many held-out rows) per fold on which the base
  /// candidates are compared (evenly spaced among the fold's randomly chosen rows). Only large
  /// classes have more.
  public var baseChoiceRows: Int = 4_000
  /// Most rows a mixture base is fitted on by EM (a Gaussian base uses every row).
  public var mixtureRows: Int = 10_000
  /// Most held-out rows in the early-stopping loss (evenly spaced among the held-out rows).
  public var stoppingRows: Int = 1_000

  /// Default settings.
  public init() {}

  /// Hidden widths for a class of `n` training rows: ``hidden`` when set, else two layers of
  /// 32 (under 100 rows), 64 (under 1,000) or 128 units — a bigger network only memorises a
  /// small class and costs time.
  public func widths(for n: Int) -> [Int] {
    if !hidden.isEmpty { return hidden }
    let w = n < 100 ? 32 : (n < 1000 ? 64 : 128)
    return [w, w]
  }
}

/// The result of one training run: the best network and the held-out loss curve.
struct TrainingRun {
  /// Network at the best checkpoint (or after the last step without validation rows).
  var net: MLP
  /// (step, held-out loss) of every checkpoint.
  var curve: [(step: Int, loss: Double)]
  /// Parameters at every checkpoint (kept only when asked).
  var checkpoints: [[Float]]
  /// Step of the returned network.
  var step: Int
  /// Whether the run stopped at its deadline.
  var outOfTime = false
}

/// Monotonic seconds for time budgets.
enum Clock {
  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }
}

/// Trains one class's residual network r(x) by noise-contrastive estimation against the
/// broadened base ν (covariance × τ²), with the model density b(x)·e^{r(x)}: the logit of a
/// row is r(x) + log b(x) − log ν(x), so r stays a correction to the base, and the noise
/// covers the base's tails. Mini-batches of data rows (jittered with N(0, σ²) at each step)
/// and fresh noise rows, equal weighting; AdamW.
///
/// Gradient penalty: ‖∇ₓr(x)‖² is estimated by the random finite difference
/// (r(x + σu) − r(x))²/σ², u ~ N(0, I), on a random subset of up to `penaltyRows` data and noise
/// rows per step; its weight gradient needs only ordinary backprop through the extra rows.
///
/// With validation rows, the held-out NCE loss (validation rows against a fixed set of noise
/// rows) is evaluated every `evaluateEvery` steps; training stops after `patience` checkpoints
/// without improvement and returns the best one.
struct ResidualTrainer {
  let settings: ObjectiveSettings
  let rows: [Float]
  let n: Int
  let d: Int
  let base: MixtureBase
  let noise: MixtureBase
  let validation: [Float]
  let nv: Int

  init(settings: ObjectiveSettings, rows: [Float], count n: Int, width d: Int, base: MixtureBase, validation: [Float] = []) {
    self.settings = settings
    self.rows = rows
    self.n = n
    self.d = d
    self.base = base
    noise = base.inflated(by: settings.noiseInflation)
    self.validation = validation
    nv = validation.count / max(d, 1)
  }

  /// Steps a run of `epochs` passes takes (at most `maxSteps`).
  static func steps(for n: Int, _ s: ObjectiveSettings) -> Int {
    let perEpoch = max(1, (n + s.batchRows - 1) / s.batchRows)
    return max(0, min(s.maxSteps, s.epochs * perEpoch))
  }

  /// Learning rate at `step` (1-based): linear warm-up over the first `warmup` steps, then
  /// inverse-square-root decay, lr·√(warmup/step). It depends on the step alone, so a refit for
  /// a chosen number of steps follows the same schedule as the runs that chose it.
  static func learningRate(_ base: Double, step: Int, warmup: Int = 50) -> Double {
    let t = Double(max(step, 1)), w = Double(warmup)
    return base * min(1, t / w) * (w / max(t, w)).squareRoot()
  }

  /// Trains for up to `steps` steps, or until `deadline` (a ``Clock`` reading) passes;
  /// `report(step, loss)` after every step.
  func train(
    rng: inout TrainerRandom, steps: Int, keepCheckpoints: Bool = false, earlyStop: Bool = true,
    deadline: Double? = nil, report: (Int, Double) -> Void
  ) -> TrainingRun {
    let s = settings
    var net = MLP(sizes: [d] + s.widths(for: n) + [1], activation: s.activation, rng: &rng)
    var opt = AdamW(count: net.params.count, lr: Float(s.learningRate), weightDecay: Float(s.weightDecay))
    let m = min(n, s.batchRows)
    let corners = s.objective == .tabebm ? (0..<(4 * d)).map { _ in Float(rng.below(2) == 0 ? -5 : 5) } : []
    let negatives = s.objective == .tabebm ? 4 : max(s.minimumNoiseRows, s.noisePerRow * m)
    let pd = min(m, s.penaltyRows), pn = min(negatives, s.penaltyRows)
    let penaltyCount = s.gradientPenalty > 0 ? pd + pn : 0
    let total = m + negatives + penaltyCount
    let ws = MLPWorkspace(sizes: net.sizes, capacity: max(total, nv + validationNoiseCount))
    var batch = [Float](repeating: 0, count: total * d)
    var offsets = [Double](repeating: 0, count: m + negatives)
    var upstream = [Float](repeating: 0, count: total)
    var grad = [Float](repeating: 0, count: net.params.count)
    var picks = [Int](repeating: 0, count: penaltyCount)
    var order = Array(0..<n)
    var cursor = n
    let jitter = Float(s.jitter), sigma = Float(s.penaltyStep), lambda = s.gradientPenalty
    let (vx, voff, vcount) = validationSet(rng: &rng)
    var run = TrainingRun(net: net, curve: [], checkpoints: [], step: 0)
    if let deadline, Clock.now() > deadline {
      run.outOfTime = true
      return run
    }
    var best = Double.infinity
    var sinceBest = 0
    for step in 1...max(steps, 1) where steps > 0 {
      // Data rows: the next m of a shuffled order (reshuffled after each pass), jittered.
      batch.withUnsafeMutableBufferPointer { bp in
        let b = bp.baseAddress!
        for i in 0..<m {
          if cursor == n {
            rng.shuffle(&order)
            cursor = 0
          }
          let src = order[cursor] * d
          cursor += 1
          for j in 0..<d { b[i * d + j] = rows[src + j] + jitter * Float(rng.gaussian()) }
        }
        if s.objective == .nce {
          noise.sample(negatives, into: b + m * d, rng: &rng)
        } else {
          for i in 0..<(4 * d) { b[m * d + i] = corners[i] }
        }
        for k in 0..<penaltyCount {
          let src = k < pd ? rng.below(m) : m + rng.below(negatives)
          picks[k] = src
          let dst = b + (m + negatives + k) * d
          for j in 0..<d { dst[j] = b[src * d + j] + sigma * Float(rng.gaussian()) }
        }
        if s.objective == .nce { logRatio(UnsafePointer(b), count: m + negatives, into: &offsets) }
      }
      for i in 0..<grad.count { grad[i] = 0 }
      var loss = 0.0
      batch.withUnsafeBufferPointer { bp in
        net.params.withUnsafeBufferPointer { pp in
          net.forward(bp.baseAddress!, count: total, params: pp.baseAddress!, workspace: ws)
          let r = ws.output
          let wData = 1 / Float(m), wNoise = 1 / Float(negatives)
          for i in 0..<(m + negatives) {
            let logit = Double(r[i]) + offsets[i]
            if i < m {
              loss += Double(wData) * softplus(-logit)
              upstream[i] = -wData * Float(sigmoid(-logit))
            } else {
              loss += Double(wNoise) * softplus(logit)
              upstream[i] = wNoise * Float(sigmoid(logit))
            }
          }
          if penaltyCount > 0 {
            let scale = Float(2 * lambda) / (sigma * sigma * Float(penaltyCount))
            for k in 0..<penaltyCount {
              let delta = r[m + negatives + k] - r[picks[k]]
              loss += lambda * Double(delta * delta) / Double(sigma * sigma) / Double(penaltyCount)
              upstream[m + negatives + k] = scale * delta
              upstream[picks[k]] -= scale * delta
            }
          }
          upstream.withUnsafeBufferPointer { up in
            grad.withUnsafeMutableBufferPointer { gp in
              net.backward(
                bp.baseAddress!, count: total, upstream: up.baseAddress!, params: pp.baseAddress!, workspace: ws,
                grad: gp.baseAddress!)
            }
          }
        }
      }
      opt.lr = Float(Self.learningRate(s.learningRate, step: step))
      opt.step(&net.params, grad)
      report(step, loss)
      if let deadline, Clock.now() > deadline {
        // Out of time: this step is the last; with validation rows, the best checkpoint so far
        // (including this step) is returned.
        if vcount > 0 {
          let v = validationLoss(net, vx, voff, vcount, ws)
          run.curve.append((step, v))
          if keepCheckpoints { run.checkpoints.append(net.params) }
          if v < best {
            run.net = net
            run.step = step
          }
        }
        run.outOfTime = true
        if vcount == 0 {
          run.net = net
          run.step = step
        }
        return run
      }
      if vcount > 0 && (step % s.evaluateEvery == 0 || step == steps) {
        let v = validationLoss(net, vx, voff, vcount, ws)
        run.curve.append((step, v))
        if keepCheckpoints { run.checkpoints.append(net.params) }
        if v < best {
          best = v
          sinceBest = 0
          run.net = net
          run.step = step
        } else {
          sinceBest += 1
          if earlyStop && sinceBest >= s.patience { break }
        }
      }
    }
    if vcount == 0 {
      run.net = net
      run.step = steps
    }
    return run
  }

  /// Noise rows held fixed for the held-out loss.
  var validationNoiseCount: Int { nv > 0 ? max(512, 4 * nv) : 0 }

  /// Validation rows followed by fixed noise rows, their log-ratios, and the row count.
  private func validationSet(rng: inout TrainerRandom) -> ([Float], [Double], Int) {
    guard nv > 0, settings.objective == .nce else { return ([], [], 0) }
    let k = validationNoiseCount
    var x = validation + [Float](repeating: 0, count: k * d)
    x.withUnsafeMutableBufferPointer { noise.sample(k, into: $0.baseAddress! + nv * d, rng: &rng) }
    var off = [Double](repeating: 0, count: nv + k)
    x.withUnsafeBufferPointer { logRatio($0.baseAddress!, count: nv + k, into: &off) }
    return (x, off, nv + k)
  }

  /// Mean NCE loss of the validation rows against the fixed noise rows (equal weighting).
  private func validationLoss(_ net: MLP, _ x: [Float], _ off: [Double], _ count: Int, _ ws: MLPWorkspace) -> Double {
    var data = 0.0, noiseLoss = 0.0
    x.withUnsafeBufferPointer { xp in
      net.params.withUnsafeBufferPointer { pp in
        net.forward(xp.baseAddress!, count: count, params: pp.baseAddress!, workspace: ws)
      }
    }
    for i in 0..<count {
      let logit = Double(ws.output[i]) + off[i]
      if i < nv { data += softplus(-logit) } else { noiseLoss += softplus(logit) }
    }
    return data / Double(nv) + noiseLoss / Double(count - nv)
  }

  /// log b(x) − log ν(x) for `count` rows (ν = b broadened by τ; 0 when τ = 1).
  func logRatio(_ x: UnsafePointer<Float>, count: Int, into out: inout [Double]) {
    guard settings.noiseInflation != 1 else {
      for i in 0..<count { out[i] = 0 }
      return
    }
    let b = base.logDensity(x, count: count)
    let v = noise.logDensity(x, count: count)
    for i in 0..<count { out[i] = b[i] - v[i] }
  }
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

@inline(__always) func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

@inline(__always) func softplus(_ x: Double) -> Double { x > 30 ? x : (x < -30 ? exp(x) : log1p(exp(x))) }

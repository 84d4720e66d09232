import EmberFormat
import Foundation

/// The per-class training objective.
public enum Objective: String, Sendable, CaseIterable {
  /// Noise-contrastive estimation of a residual log-odds r(x) against the broad Gaussian q_c
  /// (DESIGN §1 "NCE recipe"); energy E_c = −r(x) − log q_c(x).
  case nce
  /// TabEBM's surrogate task (class rows vs 4 random hypercube corners at ±5) with a single
  /// log-odds output, made safe by the same Gaussian base term: E_c = −r(x) − log q_c(x).
  case tabebm
}

/// Hyper-parameters of one class's training run.
public struct ObjectiveSettings: Sendable, Equatable {
  /// Objective.
  public var objective: Objective = .nce
  /// Hidden widths.
  public var hidden: [Int] = [128, 128]
  /// Hidden nonlinearity.
  public var activation: Activation = .silu
  /// Full-batch epochs.
  public var epochs: Int = 400
  /// AdamW learning rate.
  public var learningRate: Double = 1e-3
  /// AdamW decoupled weight decay.
  public var weightDecay: Double = 1e-3
  /// Standard deviation of the Gaussian jitter added to real rows every epoch.
  public var jitter: Double = 0.05
  /// Weight λ of the gradient penalty λ·E‖∇ₓr‖² (on data and noise rows).
  public var gradientPenalty: Double = 0.01
  /// Step σ of the finite-difference estimate of ‖∇ₓr‖² (see ``ClassTrainer``).
  public var penaltyStep: Double = 0.01
  /// Rows of data and of noise (each) the penalty is estimated on per epoch.
  public var penaltyRows: Int = 128
  /// Noise rows per epoch: max(minimum, perRow·n_c).
  public var minimumNoiseRows: Int = 512
  /// Noise rows per class row.
  public var noisePerRow: Int = 20

  /// Default settings.
  public init() {}
}

/// Trains one class's energy network on its encoded rows.
///
/// NCE: each epoch draws fresh noise from q_c (max(512, 20·n_c) rows), jitters the real rows
/// with N(0, 0.05²), and minimises mean softplus(−r(data)) + mean softplus(r(noise)) with equal
/// weighting. TabEBM: the negatives are 4 fixed random corners of the ±5 hypercube.
///
/// Gradient penalty: instead of a double-backward pass, ‖∇ₓr(x)‖² is estimated by the random
/// finite difference (r(x + σu) − r(x))²/σ², u ~ N(0, I), whose expectation over u is ‖∇ₓr‖²
/// up to O(σ²). Its weight gradient needs only ordinary backprop through the extra rows x + σu.
/// It is taken on a fresh random subset of up to 128 data and 128 noise rows each epoch.
struct ClassTrainer {
  let settings: ObjectiveSettings
  let rows: [Float]
  let n: Int
  let d: Int
  let noise: GaussianFit

  init(settings: ObjectiveSettings, rows: [Float], count n: Int, width d: Int) {
    self.settings = settings
    self.rows = rows
    self.n = n
    self.d = d
    noise = GaussianFit.nceNoise(rows, count: n, width: d)
  }

  /// Trains and returns the network; `report(epoch, loss)` is called after every epoch.
  func train(rng: inout TrainerRandom, report: (Int, Double) -> Void) -> MLP {
    let s = settings
    var net = MLP(sizes: [d] + s.hidden + [1], activation: s.activation, rng: &rng)
    var opt = AdamW(count: net.params.count, lr: Float(s.learningRate), weightDecay: Float(s.weightDecay))
    let negatives: Int
    var corners: [Float] = []
    switch s.objective {
    case .nce:
      negatives = max(s.minimumNoiseRows, s.noisePerRow * n)
    case .tabebm:
      negatives = 4
      corners = (0..<(4 * d)).map { _ in rng.below(2) == 0 ? -5 : 5 }
    }
    let pd = min(n, s.penaltyRows), pn = min(negatives, s.penaltyRows)
    let penaltyCount = s.gradientPenalty > 0 ? pd + pn : 0
    let total = n + negatives + penaltyCount
    let ws = MLPWorkspace(sizes: net.sizes, capacity: total)
    var batch = [Float](repeating: 0, count: total * d)
    var upstream = [Float](repeating: 0, count: total)
    var grad = [Float](repeating: 0, count: net.params.count)
    var picks = [Int](repeating: 0, count: penaltyCount)
    let jitter = Float(s.jitter), sigma = Float(s.penaltyStep)
    let lambda = s.gradientPenalty
    for epoch in 1...max(s.epochs, 1) where s.epochs > 0 {
      batch.withUnsafeMutableBufferPointer { bp in
        let b = bp.baseAddress!
        for i in 0..<(n * d) { b[i] = rows[i] + jitter * Float(rng.gaussian()) }
        if s.objective == .nce {
          noise.sample(negatives, into: b + n * d, rng: &rng)
        } else {
          for i in 0..<(4 * d) { b[n * d + i] = corners[i] }
        }
        for k in 0..<penaltyCount {
          let src = k < pd ? rng.below(n) : n + rng.below(negatives)
          picks[k] = src
          let dst = b + (n + negatives + k) * d
          for j in 0..<d { dst[j] = b[src * d + j] + sigma * Float(rng.gaussian()) }
        }
      }
      for i in 0..<grad.count { grad[i] = 0 }
      var loss = 0.0
      batch.withUnsafeBufferPointer { bp in
        net.params.withUnsafeBufferPointer { pp in
          net.forward(bp.baseAddress!, count: total, params: pp.baseAddress!, workspace: ws)
          let r = ws.output
          let wData = 1 / Float(n), wNoise = 1 / Float(negatives)
          for i in 0..<n {
            let v = r[i]
            loss += Double(wData) * softplus(-Double(v))
            upstream[i] = -wData * sigmoid(-v)
          }
          for i in n..<(n + negatives) {
            let v = r[i]
            loss += Double(wNoise) * softplus(Double(v))
            upstream[i] = wNoise * sigmoid(v)
          }
          if penaltyCount > 0 {
            let scale = Float(2 * lambda) / (sigma * sigma * Float(penaltyCount))
            for k in 0..<penaltyCount {
              let delta = r[n + negatives + k] - r[picks[k]]
              loss += lambda * Double(delta * delta) / Double(sigma * sigma) / Double(penaltyCount)
              upstream[n + negatives + k] = scale * delta
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
      opt.step(&net.params, grad)
      report(epoch, loss)
    }
    return net
  }
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

@inline(__always) func softplus(_ x: Double) -> Double { x > 30 ? x : (x < -30 ? exp(x) : log1p(exp(x))) }

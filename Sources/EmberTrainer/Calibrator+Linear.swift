import EmberFormat
import Foundation

extension Calibrator {
  /// A multinomial logistic regression logit_c = Σ_j W[c][j]·z_j + b_c over standardised
  /// features z, with an L2 penalty λ·‖W − W₀‖² towards a prior W₀ (biases free).
  /// Deterministic full-batch Adam in double precision. `features[i]` are row i's raw feature
  /// values; `truth[i]` its class.
  struct LinearFit {
    /// C×p weights on the standardised features, row-major.
    var weights: [Double]
    /// C biases.
    var bias: [Double]
    /// Feature means and scales used to standardise.
    var mean: [Double]
    var scale: [Double]

    /// Weights and biases on the raw features: Σ_j (W_cj/σ_j)·f_j + (b_c − Σ_j W_cj μ_j/σ_j).
    func raw(classes: Int) -> (weights: [Double], bias: [Double]) {
      let p = mean.count
      var w = [Double](repeating: 0, count: classes * p)
      var b = bias
      for c in 0..<classes {
        for j in 0..<p {
          w[c * p + j] = weights[c * p + j] / scale[j]
          b[c] -= weights[c * p + j] * mean[j] / scale[j]
        }
      }
      return (w, b)
    }

    /// Logits of a raw feature row.
    func logits(_ f: [Double]) -> [Double] {
      let p = mean.count
      return bias.indices.map { c in
        var s = bias[c]
        for j in 0..<p { s += weights[c * p + j] * (f[j] - mean[j]) / scale[j] }
        return s
      }
    }
  }

  /// Fits a ``LinearFit`` on `rows` of `features`. `steps` full-batch Adam steps (lr 0.05).
  /// The penalty is `lambda`·‖W‖² (biases free) on the mean log-loss.
  /// Only the first `standardised` features are standardised (the energies, whose scale varies
  /// by class); the rest (an encoded row: z-scored numbers and 0/1 one-hot slots) are used as
  /// they are — standardising a rare category's slot would inflate it and weaken its penalty.
  static func fitLinear(
    features: [[Double]], truth: [Int], rows: [Int], classes: Int, lambda: Double,
    standardised: Int? = nil, steps: Int = 600
  ) -> LinearFit {
    let p = features.first?.count ?? 0
    let n = Double(max(rows.count, 1))
    var mean = [Double](repeating: 0, count: p)
    var scale = [Double](repeating: 1, count: p)
    for j in 0..<min(p, standardised ?? p) {
      var m = 0.0
      for i in rows { m += features[i][j] }
      m /= n
      var v = 0.0
      for i in rows { v += (features[i][j] - m) * (features[i][j] - m) }
      v /= n
      mean[j] = m
      scale[j] = v > 1e-12 ? v.squareRoot() : 1
    }
    let z = rows.map { i in (0..<p).map { (features[i][$0] - mean[$0]) / scale[$0] } }
    let count = classes * p + classes
    var w = [Double](repeating: 0, count: count)
    var m1 = [Double](repeating: 0, count: count)
    var m2 = [Double](repeating: 0, count: count)
    var logits = [Double](repeating: 0, count: classes)
    var g = [Double](repeating: 0, count: count)
    let lr = 0.05, b1 = 0.9, b2 = 0.999
    for step in 1...max(steps, 1) {
      for k in 0..<count { g[k] = 0 }
      for (r, zi) in z.enumerated() {
        var top = -Double.infinity
        for c in 0..<classes {
          var s = w[classes * p + c]
          for j in 0..<p { s += w[c * p + j] * zi[j] }
          logits[c] = s
          top = max(top, s)
        }
        var total = 0.0
        for c in 0..<classes {
          logits[c] = exp(logits[c] - top)
          total += logits[c]
        }
        let y = truth[rows[r]]
        for c in 0..<classes {
          let dl = logits[c] / total - (c == y ? 1 : 0)
          guard dl != 0 else { continue }
          for j in 0..<p { g[c * p + j] += dl * zi[j] }
          g[classes * p + c] += dl
        }
      }
      let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
      for k in 0..<count {
        var grad = g[k] / n
        if k < classes * p { grad += 2 * lambda * w[k] }
        m1[k] = b1 * m1[k] + (1 - b1) * grad
        m2[k] = b2 * m2[k] + (1 - b2) * grad * grad
        w[k] -= lr * (m1[k] / c1) / ((m2[k] / c2).squareRoot() + 1e-12)
      }
    }
    return LinearFit(
      weights: Array(w[0..<(classes * p)]), bias: Array(w[(classes * p)...]), mean: mean, scale: scale)
  }

  /// The stacked read-out of a linear fit on [−E, x] features (or −E only).
  static func stackedReadout(_ fit: LinearFit, classes: Int, width d: Int?) -> StackedReadout {
    let (w, b) = fit.raw(classes: classes)
    let p = fit.mean.count
    var energyWeights = [Float](repeating: 0, count: classes * classes)
    var inputWeights: [Float]? = d.map { [Float](repeating: 0, count: classes * $0) }
    for c in 0..<classes {
      // The file's convention: logit_c = Σ_k W_ck·(−E_k) + Σ_i V_ci·x_i + b_c.
      for k in 0..<classes { energyWeights[c * classes + k] = Float(w[c * p + k]) }
      if let d {
        for i in 0..<d { inputWeights![c * d + i] = Float(w[c * p + classes + i]) }
      }
    }
    return StackedReadout(weights: energyWeights, bias: b.map { Float($0) }, inputWeights: inputWeights)
  }

  /// Class-balanced mean log-loss of logits (`logits[i]` for row i with class `truth[i]`).
  static func balancedLogLoss(_ logits: [[Double]], truth: [Int], classes: Int) -> Double {
    var sums = [Double](repeating: 0, count: classes)
    var counts = [Double](repeating: 0, count: classes)
    for (l, y) in zip(logits, truth) {
      let top = l.max() ?? 0
      let lse = top + log(l.reduce(0) { $0 + exp($1 - top) })
      sums[y] += lse - l[y]
      counts[y] += 1
    }
    var total = 0.0
    var present = 0.0
    for c in 0..<classes where counts[c] > 0 {
      total += sums[c] / counts[c]
      present += 1
    }
    return present > 0 ? total / present : .nan
  }
}

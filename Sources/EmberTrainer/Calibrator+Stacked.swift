import EmberFormat
import EmberRuntime
import Foundation

extension Calibrator {
  /// Fits a stacked read-out, logit_c = Σ_k W[c][k]·(−E_k) + b_c, by multinomial logistic
  /// regression on the given held-out `rows` (energies standardised per class for
  /// conditioning, then folded back into W and b), with an L2 penalty 0.01·‖W‖² on the
  /// standardised weights. Deterministic full-batch Adam in double precision (1500 steps).
  /// `energies[c][i]` is E_c of row i.
  public static func fitStacked(energies: [[Double]], truth: [Int], rows: [Int]) -> StackedReadout {
    let classes = energies.count
    let n = Double(rows.count)
    var mean = [Double](repeating: 0, count: classes)
    var scale = [Double](repeating: 1, count: classes)
    for k in 0..<classes {
      let v = rows.map { -energies[k][$0] }
      mean[k] = v.reduce(0, +) / n
      let variance = v.reduce(0) { $0 + ($1 - mean[k]) * ($1 - mean[k]) } / n
      scale[k] = variance > 1e-12 ? variance.squareRoot() : 1
    }
    let z = rows.map { i in (0..<classes).map { k in (-energies[k][i] - mean[k]) / scale[k] } }
    let params = classes * classes + classes
    var w = [Double](repeating: 0, count: params)  // W row-major, then b
    for c in 0..<classes { w[c * classes + c] = 1 }
    var m = [Double](repeating: 0, count: params)
    var v = [Double](repeating: 0, count: params)
    let lr = 0.05, b1 = 0.9, b2 = 0.999, lambda = 0.01
    var logits = [Double](repeating: 0, count: classes)
    for step in 1...1500 {
      var g = [Double](repeating: 0, count: params)
      for (r, zi) in z.enumerated() {
        var top = -Double.infinity
        for c in 0..<classes {
          var s = w[classes * classes + c]
          for k in 0..<classes { s += w[c * classes + k] * zi[k] }
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
          let d = logits[c] / total - (c == y ? 1 : 0)
          for k in 0..<classes { g[c * classes + k] += d * zi[k] }
          g[classes * classes + c] += d
        }
      }
      let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
      for p in 0..<params {
        var grad = g[p] / n
        if p < classes * classes { grad += 2 * lambda * w[p] }
        m[p] = b1 * m[p] + (1 - b1) * grad
        v[p] = b2 * v[p] + (1 - b2) * grad * grad
        w[p] -= lr * (m[p] / c1) / ((v[p] / c2).squareRoot() + 1e-12)
      }
    }
    // Back to raw energies: Σ_k W_ck (−E_k − μ_k)/σ_k + b_c.
    var weights = [Float](repeating: 0, count: classes * classes)
    var bias = [Float](repeating: 0, count: classes)
    for c in 0..<classes {
      var b = w[classes * classes + c]
      for k in 0..<classes {
        weights[c * classes + k] = Float(w[c * classes + k] / scale[k])
        b -= w[c * classes + k] * mean[k] / scale[k]
      }
      bias[c] = Float(b)
    }
    return StackedReadout(weights: weights, bias: bias)
  }

  /// Predicted class of every row in `rows` under a stacked read-out, by the runtime's formula.
  public static func predict(energies: [[Double]], rows: [Int], stacked: StackedReadout) -> [Int] {
    let classes = energies.count
    let r = EnergyReadout(
      logPriors: [Float](repeating: 0, count: classes), offsets: [Float](repeating: 0, count: classes), temperature: 1,
      stacked: StackedReadout(weights: stacked.weights, bias: stacked.bias), width: 0)
    return classify(energies, rows: rows, with: r)
  }
}

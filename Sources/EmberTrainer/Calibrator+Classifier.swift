import EmberRuntime
import Foundation

extension Calibrator {
  /// A fitted classification read-out: logit_c = −E_c/T + log π_c + offset_c.
  public struct Readout: Sendable, Equatable {
    /// Shared temperature T.
    public var temperature: Double
    /// Per-class offsets.
    public var offsets: [Double]
  }

  /// Fits T and the offsets by minimising the mean multinomial log-loss of `truth` over the
  /// given `rows`, plus 0.01·((log T)² + Σ offset²) so separable data keep finite values (this
  /// also fixes the offsets' common shift). Only offsets with `free[c]` move; T moves when
  /// `fitTemperature`. Deterministic full-batch Adam in double precision (1500 steps).
  /// `energies[c][i]` is E_c of row i.
  public static func fitReadout(
    energies: [[Double]], truth: [Int], rows: [Int], logPriors: [Double], start: Readout, free: [Bool],
    fitTemperature: Bool
  ) -> Readout {
    let classes = energies.count
    guard !rows.isEmpty, classes > 1 else { return start }
    let lambda = 0.01
    var tau = log(start.temperature)
    var off = start.offsets
    var m = [Double](repeating: 0, count: classes + 1)
    var v = [Double](repeating: 0, count: classes + 1)
    let lr = 0.02, b1 = 0.9, b2 = 0.999
    var logits = [Double](repeating: 0, count: classes)
    for step in 1...1500 {
      var gOff = [Double](repeating: 0, count: classes)
      var gTau = 0.0
      let t = exp(tau)
      for i in rows {
        var mx = -Double.infinity
        for c in 0..<classes {
          logits[c] = -energies[c][i] / t + logPriors[c] + off[c]
          mx = max(mx, logits[c])
        }
        var s = 0.0
        for c in 0..<classes {
          logits[c] = exp(logits[c] - mx)
          s += logits[c]
        }
        for c in 0..<classes {
          // d(−log p_y)/d logit_c = p_c − [c = y]
          let g = logits[c] / s - (c == truth[i] ? 1 : 0)
          gOff[c] += g
          gTau += g * energies[c][i] / t  // d logit_c / dτ = E_c / T
        }
      }
      let n = Double(rows.count)
      var grads = gOff.map { $0 / n }
      for c in 0..<classes { grads[c] += 2 * lambda * off[c] }
      grads.append(gTau / n + 2 * lambda * tau)
      let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
      for k in 0...classes {
        let movable = k < classes ? free[k] : fitTemperature
        guard movable else { continue }
        m[k] = b1 * m[k] + (1 - b1) * grads[k]
        v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
        let delta = lr * (m[k] / c1) / ((v[k] / c2).squareRoot() + 1e-12)
        if k < classes { off[k] -= delta } else { tau = min(max(tau - delta, log(0.05)), log(20)) }
      }
    }
    return Readout(temperature: exp(tau), offsets: off)
  }

  /// Predicted class of every row in `rows` under `readout`, by the runtime's formula.
  public static func predict(energies: [[Double]], rows: [Int], logPriors: [Double], readout: Readout) -> [Int] {
    let r = EnergyReadout(
      logPriors: logPriors.map { Float($0) }, offsets: readout.offsets.map { Float($0) },
      temperature: Float(readout.temperature), stacked: nil, width: 0)
    return classify(energies, rows: rows, with: r)
  }
}

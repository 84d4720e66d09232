import EmberFormat
import EmberRuntime
import Foundation

/// Held-out statistics: quantile tables, thresholds, balanced accuracy and AUROC.
public enum Calibrator {
  /// Levels of every calibration table: 0, 0.01, …, 1.
  public static let levels: [Float] = (0...100).map { Float($0) / 100 }
  /// Level of the anomaly threshold.
  public static let thresholdLevel = 0.99

  /// The q-quantile of ascending `sorted` values, with linear interpolation between order
  /// statistics (numpy's default).
  public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    precondition(!sorted.isEmpty)
    let h = q * Double(sorted.count - 1)
    let lo = Int(h.rounded(.down))
    let hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
  }

  /// A calibration table of `values` (threshold at the 99th percentile), or nil when empty.
  public static func table(_ values: [Double]) -> Calibration? {
    let v = values.filter(\.isFinite).sorted()
    guard !v.isEmpty else { return nil }
    var q = levels.map { Float(quantile(v, Double($0))) }
    for i in 1..<q.count where q[i] < q[i - 1] { q[i] = q[i - 1] }  // Float rounding
    return Calibration(levels: levels, quantiles: q, threshold: Float(quantile(v, thresholdLevel)), rows: v.count)
  }

  /// Probability that a random `positive` scores above a random `negative` (ties count ½).
  /// NaN when either side is empty. O((p + n) log(p + n)).
  public static func auroc(positive: [Double], negative: [Double]) -> Double {
    guard !positive.isEmpty, !negative.isEmpty else { return .nan }
    let all = (positive.map { ($0, true) } + negative.map { ($0, false) }).sorted { $0.0 < $1.0 }
    // Mann–Whitney U with average ranks for ties.
    var rankSum = 0.0
    var i = 0
    while i < all.count {
      var j = i
      while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
      let rank = Double(i + j) / 2 + 1
      for k in i...j where all[k].1 { rankSum += rank }
      i = j + 1
    }
    let p = Double(positive.count), n = Double(negative.count)
    return (rankSum - p * (p + 1) / 2) / (p * n)
  }

  /// Mean per-class recall over the classes that occur in `truth`.
  public static func balancedAccuracy(predicted: [Int], truth: [Int], classes: Int) -> Double {
    var hit = [Int](repeating: 0, count: classes)
    var total = [Int](repeating: 0, count: classes)
    for (p, t) in zip(predicted, truth) {
      total[t] += 1
      if p == t { hit[t] += 1 }
    }
    var sum = 0.0
    var present = 0
    for c in 0..<classes where total[c] > 0 {
      sum += Double(hit[c]) / Double(total[c])
      present += 1
    }
    return present > 0 ? sum / Double(present) : .nan
  }

  /// The class the runtime's `readout` predicts for every row in `rows` of `energies`
  /// (`energies[c][i]` is E_c of row i): the trainer judges candidate read-outs with the very
  /// formula (``EnergyReadout/posteriors(_:into:)``, in Float) a device will apply.
  static func classify(_ energies: [[Double]], rows: [Int], with readout: EnergyReadout) -> [Int] {
    let classes = energies.count
    var e = [Float](repeating: 0, count: classes)
    var p = [Float](repeating: 0, count: classes)
    return rows.map { i in
      for c in 0..<classes { e[c] = Float(energies[c][i]) }
      return e.withUnsafeBufferPointer { ep in
        p.withUnsafeMutableBufferPointer { readout.posteriors(ep.baseAddress!, row: nil, into: $0.baseAddress!) }
      }
    }
  }
}

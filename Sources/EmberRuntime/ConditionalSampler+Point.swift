
/// Point estimates from the chains: E[x_slot | observed] for numeric slots and
/// P(category | observed) for categorical slots, Rao–Blackwellised along each chain.
///
/// A Metropolis–Hastings move from x with proposal y and acceptance probability α lands on y
/// with probability α, so α·y + (1 − α)·x is the expected next value given (x, y): an unbiased
/// estimate of the conditional mean at stationarity with less variance than the next state
/// itself. Each kept sweep adds one such estimate per free numeric slot from the block move and
/// one from its coordinate move, and the exact Gibbs probabilities of every free categorical
/// group (every category is evaluated anyway). Numeric estimates are clipped to the slot's
/// point bounds first, as decoding clips a draw.
extension ConditionalBlock {
  /// Clears the point sums of the first n chains.
  func resetPoint(_ n: Int) {
    if pointSums.count < batch * d {
      pointSums = [Double](repeating: 0, count: batch * d)
      pointCounts = [Double](repeating: 0, count: batch * d)
    }
    for t in 0..<(n * d) {
      pointSums[t] = 0
      pointCounts[t] = 0
    }
  }

  /// Probability that chain i accepts its evaluated candidate (0 when its energy is not finite).
  func acceptance(_ i: Int) -> Double {
    let ey = candidateE.pointer[i]
    guard ey < Float.greatestFiniteMagnitude else { return 0 }
    let logRatio = (eqy[i] - Double(ey)) - (eq[i] - Double(e.pointer[i]))
    return logRatio >= 0 ? 1 : Double.exp(logRatio)
  }

  /// Adds α·y + (1 − α)·x (each clipped to the slot's point bounds) for chain i's `slot`, whose
  /// current value is x and proposed value y.
  func addNumeric(_ i: Int, slot: Int, proposed y: Double, alpha: Double) {
    let lo = pointLower[slot]
    let hi = pointUpper[slot]
    let x = Swift.min(Swift.max(Double(self.x.pointer[i * d + slot]), lo), hi)
    let yc = Swift.min(Swift.max(y, lo), hi)
    pointSums[i * d + slot] += alpha * yc + (1 - alpha) * x
    pointCounts[i * d + slot] += 1
  }

  /// Adds probability `probability` to chain i's categorical `slot` (counted once per group
  /// and sweep through `countGroup`).
  func addCategory(_ i: Int, slot: Int, probability: Double) {
    pointSums[i * d + slot] += probability
  }

  /// Counts one more Gibbs step for chain i's group of `count` slots at `offset`.
  func countGroup(_ i: Int, offset: Int, count: Int) {
    for s in 0..<count { pointCounts[i * d + offset + s] += 1 }
  }

  /// Chain i's point estimate of `slot` after ``run(…, burnIn:)``: the mean of its estimates,
  /// or the chain's final value when none was added (no kept sweep, or a fixed slot).
  func pointEstimate(_ i: Int, slot: Int) -> Double {
    let c = pointCounts.isEmpty ? 0 : pointCounts[i * d + slot]
    return c > 0 ? pointSums[i * d + slot] / c : Double(x.pointer[i * d + slot])
  }
}

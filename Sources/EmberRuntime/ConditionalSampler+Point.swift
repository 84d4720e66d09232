
/// Point estimates from the chains: E[x_slot | observed] for numeric slots and
/// P(category | observed) for categorical slots, Rao–Blackwellised along each chain.
///
/// A Metropolis–Hastings move from x with proposal y ~ q and acceptance probability α lands on
/// y with probability α, so α·y + (1 − α)·x is the expected next value given (x, y): at
/// stationarity an unbiased estimate of the conditional mean, with less variance than the next
/// state itself. Values are clipped to the slot's point bounds (as decoding clips a draw), and
/// the proposal's clipped mean m_q = E_q[clip(y)] is known in closed form (a mixture of
/// normals, the base's conditional), so clip(y) − m_q is a control variate of mean 0: the
/// estimate used is α·clip(y) + (1 − α)·clip(x) − (clip(y) − m_q), which is exactly the base's
/// clipped conditional mean where the energy equals its base (α ≡ 1) and keeps only the noise
/// of the energy's correction elsewhere. The control variate is used only for slots without
/// sampling bounds (bounded slots have truncated proposals, whose mean is not computed). Each kept sweep adds one such estimate per free numeric slot from the block move and
/// one from its coordinate move, and the exact Gibbs probabilities of every free categorical
/// group (every category is evaluated anyway).
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

  /// E_q[clip(y)] of the k-component proposal held in `logc` (log weights) and `mu` (component
  /// j's mean of this entry at mu[j·stride + entry]), each component normal with standard
  /// deviation `sd`, clipped to `slot`'s point bounds. O(k).
  func clippedProposalMean(k: Int, stride: Int, entry: Int, sd: Double, slot: Int) -> Double {
    let total = logTotal(k)
    guard total.isFinite else { return 0 }
    var s = 0.0
    for j in 0..<k {
      s += Double.exp(logc[j] - total)
        * NormalTail.clippedMean(mu[j * stride + entry], sd, lower: pointLower[slot], upper: pointUpper[slot])
    }
    return s
  }

  /// Adds chain i's estimate for free slot a (pattern index) whose proposed value is y and
  /// acceptance probability α: α·clip(y) + (1 − α)·clip(x) − (clip(y) − m_q) (see above).
  func addNumeric(_ i: Int, _ a: Int, _ pattern: ConditionalPattern, proposed y: Double, alpha: Double) {
    let slot = pattern.free[a]
    let lo = pointLower[slot]
    let hi = pointUpper[slot]
    let x = Swift.min(Swift.max(Double(self.x.pointer[i * d + slot]), lo), hi)
    let yc = Swift.min(Swift.max(y, lo), hi)
    var estimate = alpha * yc + (1 - alpha) * x
    if pattern.lower[a] == -.infinity && pattern.upper[a] == .infinity { estimate -= yc - proposalMean[i * d + a] }
    pointSums[i * d + slot] += estimate
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


/// The base mixture's analytic conditionals as Metropolis–Hastings proposals.
extension ConditionalBlock {
  /// The base's conditional of chain i's free numeric slots given the rest: component means
  /// into `mu` (k×|M|) and log weights log w_j − ½ Q*_j into `logc`. O(k·|M|²).
  func conditional(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal) {
    let m = pattern.freeCount
    let row = x.pointer + i * d
    let free = pattern.free
    work.withUnsafeMutableBufferPointer { w in
      let r = w.baseAddress!
      let pr = r + d
      let b = pr + d
      for j in 0..<p.k {
        let vj = i * kMax * d + j * d
        for a in 0..<m { r[a] = Double(row[free[a]]) - p.means[j * d + free[a]] }
        var rv = 0.0
        var rpr = 0.0
        for a in 0..<m {
          var s = 0.0
          let base = free[a] * d
          for t in 0..<m { s += p.precision[base + free[t]] * r[t] }
          pr[a] = s
          rv += r[a] * v[vj + free[a]]
          rpr += r[a] * s
        }
        for a in 0..<m { b[a] = v[vj + free[a]] - pr[a] }
        let outer = q[i * kMax + j] - 2 * rv + rpr  // r_Oᵀ P_OO r_O
        for a in 0..<m { mu[j * d + a] = b[a] }
        mu.withUnsafeMutableBufferPointer { pattern.solve($0.baseAddress! + j * d) }
        var bu = 0.0
        for a in 0..<m {
          bu += b[a] * mu[j * d + a]
          mu[j * d + a] = p.means[j * d + free[a]] - mu[j * d + a]
        }
        logc[j] = p.logWeights[j] - 0.5 * Swift.max(outer - bu, 0)
      }
    }
  }

  /// log Σ_j e^{logc_j}.
  func logTotal(_ k: Int) -> Double {
    var top = -Double.infinity
    for j in 0..<k { top = Swift.max(top, logc[j]) }
    guard top.isFinite else { return -.infinity }
    var s = 0.0
    for j in 0..<k { s += Double.exp(logc[j] - top) }
    return top + Double.log(s)
  }

  /// Draws j with probability ∝ e^{logc_j}.
  func component(_ k: Int, _ rng: inout RandomSource) -> Int {
    guard k > 1 else { return 0 }
    let total = logTotal(k)
    var u = rng.nextUniform()
    for j in 0..<k {
      u -= Double.exp(logc[j] - total)
      if u < 0 { return j }
    }
    return k - 1
  }

  /// Draws chain i's free numeric slots from the base's conditional into y[i] (Float-rounded
  /// values) and the proposal's Q_j and E_q at the proposed row into qy/eqy. Returns whether
  /// the draw is inside the bounds.
  func proposeBlock(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) -> Bool {
    let m = pattern.freeCount
    conditional(i, pattern, p)
    if accumulating {
      for a in 0..<m {
        proposalMean[i * d + a] = clippedProposalMean(
          k: p.k, stride: d, entry: a, sd: pattern.conditionalSD[a], slot: pattern.free[a])
      }
    }
    let j = component(p.k, &rng)
    let row = x.pointer + i * d
    var inside = true
    work.withUnsafeMutableBufferPointer { w in
      let z = w.baseAddress!
      for a in 0..<m { z[a] = rng.nextNormal() }
      pattern.backSubstitute(z)
      for a in 0..<m {
        let value = Double(Float(mu[j * d + a] + z[a]))
        y[i * d + a] = value
        if !(value >= pattern.lower[a] && value <= pattern.upper[a]) { inside = false }
        z[a] = value - Double(row[pattern.free[a]])  // Δ
      }
      // Q_j(y) = Q_j(x) + 2Δ·v_j[M] + Δᵀ P_MM Δ.
      var quad = 0.0
      for a in 0..<m {
        var s = 0.0
        for t in 0..<m { s += p.precision[pattern.free[a] * d + pattern.free[t]] * z[t] }
        quad += z[a] * s
      }
      for c in 0..<p.k {
        var lin = 0.0
        let vj = i * kMax * d + c * d
        for a in 0..<m { lin += z[a] * v[vj + pattern.free[a]] }
        qy[i * kMax + c] = q[i * kMax + c] + 2 * lin + quad
      }
    }
    qy.withUnsafeBufferPointer { eqy[i] = p.energy(quadratic: $0.baseAddress! + i * kMax) }
    return inside
  }

  /// Moves chain i to its proposed free values y[i] (v updated, Q and E_q from the proposal).
  func acceptBlock(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal) {
    let row = x.pointer + i * d
    for a in 0..<pattern.freeCount {
      let slot = pattern.free[a]
      let delta = y[i * d + a] - Double(row[slot])
      row[slot] = Float(y[i * d + a])
      guard delta != 0 else { continue }
      for c in 0..<p.k {
        let vj = i * kMax * d + c * d
        for t in 0..<d { v[vj + t] += delta * p.precision[t * d + slot] }
      }
    }
    for c in 0..<p.k { q[i * kMax + c] = qy[i * kMax + c] }
    eq[i] = eqy[i]
  }

  /// A draw of slot `a` of chain i from the base's conditional of that slot given the rest,
  /// truncated to its bounds; Q and E_q at the proposed row into qy/eqy.
  func proposeCoordinate(_ i: Int, _ a: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) -> Float {
    let slot = pattern.free[a]
    let pii = p.precision[slot * d + slot]
    let sigma = 1 / pii.squareRoot()
    let xi = Double(x.pointer[i * d + slot])
    let lo = pattern.lower[a]
    let hi = pattern.upper[a]
    for j in 0..<p.k {
      let vji = v[i * kMax * d + j * d + slot]
      let center = xi - vji / pii
      mu[j] = center
      logc[j] = p.logWeights[j] - 0.5 * (q[i * kMax + j] - vji * vji / pii)
        + NormalTail.logMass((lo - center) / sigma, (hi - center) / sigma)
    }
    if accumulating {
      proposalMean[i * d + a] = clippedProposalMean(k: p.k, stride: 1, entry: 0, sd: sigma, slot: slot)
    }
    let j = component(p.k, &rng)
    let t = mu[j] + sigma * NormalTail.draw((lo - mu[j]) / sigma, (hi - mu[j]) / sigma, using: &rng)
    let value = Float(Swift.min(Swift.max(t, lo), hi))
    let delta = Double(value) - xi
    for c in 0..<p.k {
      let vci = v[i * kMax * d + c * d + slot]
      qy[i * kMax + c] = q[i * kMax + c] + 2 * delta * vci + pii * delta * delta
    }
    qy.withUnsafeBufferPointer { eqy[i] = p.energy(quadratic: $0.baseAddress! + i * kMax) }
    return value
  }

  /// Metropolis–Hastings acceptance of chain i's candidate: log u < w(y) − w(x).
  @inline(__always)
  func accepts(_ i: Int, _ rng: inout RandomSource) -> Bool {
    let ey = candidateE.pointer[i]
    guard ey < Float.greatestFiniteMagnitude else { return false }
    let logRatio = (eqy[i] - Double(ey)) - (eq[i] - Double(e.pointer[i]))
    return logRatio >= 0 || Double.log(rng.nextUniform()) < logRatio
  }
}

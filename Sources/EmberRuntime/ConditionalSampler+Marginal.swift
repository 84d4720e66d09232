
extension ConditionalBlock {
  // MARK: Marginal probability of the fixed part

  /// Most category combinations a stratified ``logMarginal`` enumerates.
  static let stratumLimit = 4096

  /// log of an importance-sampling estimate of ∫ e^{−E_c(x)} 1[x within the pattern] dx_free
  /// at the fixed coordinates of `row` (the class-conditional density of the fixed values times
  /// the probability of the bounds), from `probes` draws: free categories uniform over the
  /// allowed ones, free numeric slots from the base's conditional (untruncated; draws outside
  /// the bounds weigh 0; so do draws whose decoded category of a `pattern.regions` feature is
  /// not allowed — with every categorical slot free, the estimate is a probability of the
  /// categories, not a density at their one-hot corners). E_c is normalised, so estimates
  /// compare across classes. −∞ when no draw met the bounds. `stratified`: when the free categories have P ≤ ``stratumLimit``
  /// combinations, every combination gets max(1, probes / P) draws instead (the same unbiased
  /// estimate without the noise of choosing categories at random).
  func logMarginal(
    classIndex: Int, proposal p: MixtureProposal, pattern: ConditionalPattern, row: UnsafePointer<Float>, probes requested: Int,
    rng: inout RandomSource, stratified: Bool = false
  ) -> Double {
    var combinations = 1
    for g in pattern.groups where combinations <= ConditionalBlock.stratumLimit { combinations *= g.allowed.count }
    let perStratum = stratified && combinations <= ConditionalBlock.stratumLimit ? Swift.max(1, requested / combinations) : 0
    let probes = perStratum > 0 ? perStratum * combinations : requested
    var logs: [Double] = []
    logs.reserveCapacity(probes)
    var done = 0
    let m = pattern.freeCount
    let logCategories = pattern.groups.reduce(0.0) { $0 + Double.log(Double($1.allowed.count)) }
    while done < probes {
      let n = Swift.min(batch, probes - done)
      var inside = [Bool](repeating: true, count: n)
      var logMarg = [Double](repeating: 0, count: n)
      for i in 0..<n {
        let state = x.pointer + i * d
        state.update(from: row, count: d)
        var stratum = perStratum > 0 ? (done + i) / perStratum : 0
        for g in pattern.groups {
          let choice = perStratum > 0 ? stratum % g.allowed.count : rng.nextInt(below: g.allowed.count)
          stratum /= g.allowed.count
          let pick = g.allowed[choice]
          for s in 0..<g.count { state[g.offset + s] = s == pick ? 1 : 0 }
        }
        prepare(i, p)
        if m > 0 {
          conditional(i, pattern, p)
          logMarg[i] = logTotal(p.k) - p.constant + 0.5 * Double(m) * Double.log(2 * Double.pi) - pattern.halfLogDet
          inside[i] = proposeBlock(i, pattern, p, &rng)
          for a in 0..<m { state[pattern.free[a]] = Float(y[i * d + a]) }
          if inside[i], !pattern.regions.isEmpty { inside[i] = pattern.meetsRegions(state) }
          prepare(i, p)
        }
      }
      copyStates(n)
      evaluateCandidates(classIndex, n)
      for i in 0..<n {
        guard inside[i], candidateE.pointer[i] < Float.greatestFiniteMagnitude else {
          logs.append(-.infinity)
          continue
        }
        // e^{−E(y)} / q(y_free | rest) · 1/(category probability).
        let logProposalFree = m > 0 ? -(eq[i] + p.constant) - logMarg[i] : 0
        logs.append(-Double(candidateE.pointer[i]) - logProposalFree + logCategories)
      }
      done += n
    }
    var top = -Double.infinity
    for l in logs { top = Swift.max(top, l) }
    guard top.isFinite else { return -.infinity }
    var s = 0.0
    for l in logs { s += Double.exp(l - top) }
    return top + Double.log(s / Double(probes))
  }
}


/// What a conditional sampling run did.
public struct ConditionalStats: Sendable, Equatable {
  /// No chains yet.
  public init() {}
  init(chains: Int) { self.chains = chains }
  /// Chains run (rows produced).
  public var chains = 0
  /// Block proposals of all free numeric slots from the base's conditional, and acceptances.
  public var blockProposals = 0
  public var blockAccepted = 0
  /// One-coordinate proposals from the base's truncated conditional, and acceptances.
  public var coordinateProposals = 0
  public var coordinateAccepted = 0

  /// Adds another run's counts.
  public mutating func merge(_ o: ConditionalStats) {
    chains += o.chains
    blockProposals += o.blockProposals
    blockAccepted += o.blockAccepted
    coordinateProposals += o.coordinateProposals
    coordinateAccepted += o.coordinateAccepted
  }

  /// Accepted / proposed over both kinds of move (NaN when none was proposed).
  public var acceptanceRate: Double {
    let p = blockProposals + coordinateProposals
    return p > 0 ? Double(blockAccepted + coordinateAccepted) / Double(p) : .nan
  }
}

/// Conditional sampling from one class's energy: some coordinates fixed, the rest free (numeric
/// slots within encoded bounds, categorical groups among allowed categories).
///
/// The target is p(x_free | x_fixed) ∝ e^{−E_c(x)} restricted to the bounds. A sweep is
///  1. a Gibbs step per free categorical group: every allowed category is evaluated and one is
///     drawn with probability ∝ e^{−E} (exact: a categorical is one of its categories);
///  2. one block independence Metropolis–Hastings proposal of all free numeric slots from the
///     base mixture's analytic conditional given the rest (a proposal outside the bounds is
///     rejected); the acceptance ratio is e^{w(y) − w(x)} with w = E_base − E;
///  3. one one-coordinate proposal per free slot from the base's conditional of that slot
///     given the rest, truncated to the slot's bounds (never outside them), with the same
///     acceptance ratio — local moves that accept often, and that move chains inside a box
///     however improbable it is.
/// Every move leaves the target invariant, every state of a chain satisfies the bounds, and
/// each loop has a fixed length: no condition can make it run forever. Each chain's arithmetic
/// is independent of the chains batched with it, so results never depend on threads.
final class ConditionalBlock: @unchecked Sendable {
  let energy: EnergyModel
  let d: Int
  let batch: Int
  let kMax: Int
  let workspace: EnergyWorkspace
  /// Chain states and candidates (batch×d).
  let x: AlignedBuffer
  let candidate: AlignedBuffer
  let e: AlignedBuffer
  let candidateE: AlignedBuffer
  /// Per chain: v_j = P(x − m_j) (k×d), Q_j (k), E_q(x) without its constant.
  var v: [Double]
  var q: [Double]
  var eq: [Double]
  /// Per chain: proposed Q_j, E_q, and the proposed free values.
  var qy: [Double]
  var eqy: [Double]
  var y: [Double]
  /// Scratch for one chain's conditional: μ (k×d), log weights (k), work (3·d).
  var mu: [Double]
  var logc: [Double]
  var work: [Double]
  var stats = ConditionalStats()

  init(_ energy: EnergyModel, proposals: [MixtureProposal], batch: Int) {
    self.energy = energy
    d = energy.width
    self.batch = batch
    kMax = proposals.map { $0.k }.max() ?? 1
    workspace = EnergyWorkspace(energy, batch: batch)
    x = AlignedBuffer(count: batch * d)
    candidate = AlignedBuffer(count: batch * d)
    e = AlignedBuffer(count: batch)
    candidateE = AlignedBuffer(count: batch)
    v = [Double](repeating: 0, count: batch * kMax * d)
    q = [Double](repeating: 0, count: batch * kMax)
    eq = [Double](repeating: 0, count: batch)
    qy = [Double](repeating: 0, count: batch * kMax)
    eqy = [Double](repeating: 0, count: batch)
    y = [Double](repeating: 0, count: batch * d)
    mu = [Double](repeating: 0, count: kMax * d)
    logc = [Double](repeating: 0, count: kMax)
    work = [Double](repeating: 0, count: 3 * d + 1)
  }

  // MARK: Energies

  /// E_c of the first n candidate rows into `candidateE` (non-finite → largest Float).
  private func evaluateCandidates(_ classIndex: Int, _ n: Int) {
    energy.energy(
      classIndex: classIndex, rows: candidate.pointer, count: n, into: candidateE.pointer, gradients: nil,
      workspace: workspace)
    Evaluator.sanitizeEnergies(candidateE.pointer, count: n)
  }

  private func copyStates(_ n: Int) {
    candidate.pointer.update(from: x.pointer, count: n * d)
  }

  // MARK: The proposal's state per chain

  private func prepare(_ i: Int, _ p: MixtureProposal) {
    v.withUnsafeMutableBufferPointer { vp in
      q.withUnsafeMutableBufferPointer { qp in
        p.prepare(x.pointer + i * d, v: vp.baseAddress! + i * kMax * d, q: qp.baseAddress! + i * kMax)
        eq[i] = p.energy(quadratic: qp.baseAddress! + i * kMax)
      }
    }
  }

  /// Sets x_i[slot] to `value` (as Float) and updates v, Q, E_q.
  private func set(_ i: Int, slot: Int, to value: Float, _ p: MixtureProposal) {
    let row = x.pointer + i * d
    let delta = Double(value) - Double(row[slot])
    row[slot] = value
    v.withUnsafeMutableBufferPointer { vp in
      q.withUnsafeMutableBufferPointer { qp in
        p.move(slot, by: delta, v: vp.baseAddress! + i * kMax * d, q: qp.baseAddress! + i * kMax)
        eq[i] = p.energy(quadratic: qp.baseAddress! + i * kMax)
      }
    }
  }

  /// The base's conditional of chain i's free numeric slots given the rest: component means
  /// into `mu` (k×|M|) and log weights log w_j − ½ Q*_j into `logc`. O(k·|M|²).
  private func conditional(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal) {
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
  private func logTotal(_ k: Int) -> Double {
    var top = -Double.infinity
    for j in 0..<k { top = Swift.max(top, logc[j]) }
    guard top.isFinite else { return -.infinity }
    var s = 0.0
    for j in 0..<k { s += Double.exp(logc[j] - top) }
    return top + Double.log(s)
  }

  /// Draws j with probability ∝ e^{logc_j}.
  private func component(_ k: Int, _ rng: inout RandomSource) -> Int {
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
  private func proposeBlock(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) -> Bool {
    let m = pattern.freeCount
    conditional(i, pattern, p)
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
  private func acceptBlock(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal) {
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
  private func proposeCoordinate(_ i: Int, _ a: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) -> Float {
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
  private func accepts(_ i: Int, _ rng: inout RandomSource) -> Bool {
    let ey = candidateE.pointer[i]
    guard ey < Float.greatestFiniteMagnitude else { return false }
    let logRatio = (eqy[i] - Double(ey)) - (eq[i] - Double(e.pointer[i]))
    return logRatio >= 0 || Double.log(rng.nextUniform()) < logRatio
  }

  // MARK: Chains

  /// Runs `n` ≤ batch chains of class `classIndex`: chain i starts from `rows[i]` (fixed
  /// coordinates set; free ones are overwritten), follows `patterns[i]` and draws from
  /// `rngs[i]`; the final states go back into `rows`.
  func run(
    classIndex: Int, proposal p: MixtureProposal, patterns: [ConditionalPattern], rows: UnsafeMutablePointer<Float>,
    rngs: inout [RandomSource], sweeps: Int
  ) {
    let n = patterns.count
    stats = ConditionalStats(chains: n)
    x.pointer.update(from: rows, count: n * d)
    for i in 0..<n { start(i, patterns[i], p, &rngs[i]) }
    copyStates(n)
    evaluateCandidates(classIndex, n)
    e.pointer.update(from: candidateE.pointer, count: n)
    for _ in 0..<sweeps {
      for i in 0..<n { prepare(i, p) }  // no drift of the incremental updates
      gibbsCategories(classIndex, patterns, p, &rngs)
      blockStep(classIndex, patterns, p, &rngs)
      coordinateSteps(classIndex, patterns, p, &rngs)
    }
    rows.update(from: x.pointer, count: n * d)
  }

  /// Chain i's first state: free categories at the base's most likely allowed one, free
  /// numeric slots at a draw from the base's conditional inside the bounds (up to 16 tries),
  /// else at the most likely component's conditional mean clamped into the bounds.
  private func start(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) {
    let row = x.pointer + i * d
    for g in pattern.groups {
      var best = g.allowed[0]
      var bestValue = -Double.infinity
      for a in g.allowed {
        var s = 0.0
        for j in 0..<p.k { s += Double.exp(p.logWeights[j]) * p.means[j * d + g.offset + a] }
        if s > bestValue {
          bestValue = s
          best = a
        }
      }
      for s in 0..<g.count { row[g.offset + s] = s == best ? 1 : 0 }
    }
    for slot in pattern.free { row[slot] = 0 }
    prepare(i, p)
    guard pattern.freeCount > 0 else { return }
    for _ in 0..<16 {
      guard proposeBlock(i, pattern, p, &rng) else { continue }
      acceptBlock(i, pattern, p)
      prepare(i, p)
      return
    }
    conditional(i, pattern, p)
    var j = 0
    for c in 1..<Swift.max(p.k, 1) where logc[c] > logc[j] { j = c }
    for a in 0..<pattern.freeCount {
      row[pattern.free[a]] = Float(Swift.min(Swift.max(mu[j * d + a], pattern.lower[a]), pattern.upper[a]))
    }
    prepare(i, p)
  }

  private func gibbsCategories(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    let groups = patterns.map { $0.groups.count }.max() ?? 0
    guard groups > 0 else { return }
    for g in 0..<groups {
      let choices = patterns.map { g < $0.groups.count ? $0.groups[g].allowed.count : 0 }.max() ?? 0
      guard choices > 1 else { continue }
      var logits = [Double](repeating: -.infinity, count: n * choices)
      for a in 0..<choices {
        copyStates(n)
        for i in 0..<n where g < patterns[i].groups.count && a < patterns[i].groups[g].allowed.count {
          let group = patterns[i].groups[g]
          let row = candidate.pointer + i * d
          for s in 0..<group.count { row[group.offset + s] = s == group.allowed[a] ? 1 : 0 }
        }
        evaluateCandidates(classIndex, n)
        for i in 0..<n where g < patterns[i].groups.count && a < patterns[i].groups[g].allowed.count {
          logits[i * choices + a] = -Double(candidateE.pointer[i])
        }
      }
      for i in 0..<n where g < patterns[i].groups.count && patterns[i].groups[g].allowed.count > 1 {
        let group = patterns[i].groups[g]
        let count = group.allowed.count
        var top = -Double.infinity
        for a in 0..<count { top = Swift.max(top, logits[i * choices + a]) }
        var total = 0.0
        for a in 0..<count { total += Double.exp(logits[i * choices + a] - top) }
        var u = rngs[i].nextUniform() * total
        var pick = count - 1
        for a in 0..<count {
          u -= Double.exp(logits[i * choices + a] - top)
          if u < 0 {
            pick = a
            break
          }
        }
        let row = x.pointer + i * d
        for s in 0..<group.count where row[group.offset + s] != 0 { set(i, slot: group.offset + s, to: 0, p) }
        set(i, slot: group.offset + group.allowed[pick], to: 1, p)
        e.pointer[i] = Float(-logits[i * choices + pick])
      }
    }
  }

  private func blockStep(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    guard patterns.contains(where: { $0.freeCount > 0 }) else { return }
    copyStates(n)
    var inside = [Bool](repeating: false, count: n)
    for i in 0..<n where patterns[i].freeCount > 0 {
      inside[i] = proposeBlock(i, patterns[i], p, &rngs[i])
      let row = candidate.pointer + i * d
      for a in 0..<patterns[i].freeCount { row[patterns[i].free[a]] = Float(y[i * d + a]) }
    }
    evaluateCandidates(classIndex, n)
    for i in 0..<n where patterns[i].freeCount > 0 {
      stats.blockProposals += 1
      // The uniform is drawn whatever the outcome, so the stream does not depend on it.
      let ok = accepts(i, &rngs[i])
      guard inside[i], ok else { continue }
      acceptBlock(i, patterns[i], p)
      e.pointer[i] = candidateE.pointer[i]
      stats.blockAccepted += 1
    }
  }

  private func coordinateSteps(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    let most = patterns.map { $0.freeCount }.max() ?? 0
    for a in 0..<most {
      copyStates(n)
      var proposed = [Float](repeating: 0, count: n)
      for i in 0..<n where a < patterns[i].freeCount {
        proposed[i] = proposeCoordinate(i, a, patterns[i], p, &rngs[i])
        candidate.pointer[i * d + patterns[i].free[a]] = proposed[i]
      }
      evaluateCandidates(classIndex, n)
      for i in 0..<n where a < patterns[i].freeCount {
        stats.coordinateProposals += 1
        guard accepts(i, &rngs[i]) else { continue }
        set(i, slot: patterns[i].free[a], to: proposed[i], p)
        e.pointer[i] = candidateE.pointer[i]
        stats.coordinateAccepted += 1
      }
    }
  }

  // MARK: Marginal probability of the fixed part

  /// log of an importance-sampling estimate of ∫ e^{−E_c(x)} 1[x within the pattern] dx_free
  /// at the fixed coordinates of `row` (the class-conditional density of the fixed values times
  /// the probability of the bounds), from `probes` draws: free categories uniform over the
  /// allowed ones, free numeric slots from the base's conditional (untruncated; draws outside
  /// the bounds weigh 0). E_c is normalised, so estimates compare across classes. −∞ when no
  /// draw met the bounds.
  func logMarginal(
    classIndex: Int, proposal p: MixtureProposal, pattern: ConditionalPattern, row: UnsafePointer<Float>, probes: Int,
    rng: inout RandomSource
  ) -> Double {
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
        for g in pattern.groups {
          let pick = g.allowed[rng.nextInt(below: g.allowed.count)]
          for s in 0..<g.count { state[g.offset + s] = s == pick ? 1 : 0 }
        }
        prepare(i, p)
        if m > 0 {
          conditional(i, pattern, p)
          logMarg[i] = logTotal(p.k) - p.constant + 0.5 * Double(m) * Double.log(2 * Double.pi) - pattern.halfLogDet
          inside[i] = proposeBlock(i, pattern, p, &rng)
          for a in 0..<m { state[pattern.free[a]] = Float(y[i * d + a]) }
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

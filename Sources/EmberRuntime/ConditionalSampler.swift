
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
  /// Point estimation (``run(…, burnIn:)``): per chain and slot (batch×d), running sums of the
  /// Rao–Blackwellised estimates of the kept sweeps and how many were added; numeric estimates
  /// are clipped to [pointLower, pointUpper] (encoded units, per slot; ±∞ unless set).
  var pointSums: [Double]
  var pointCounts: [Double]
  var pointLower: [Double]
  var pointUpper: [Double]
  /// Per chain (batch×d, by free index): the mean of the last proposal of each free slot.
  var proposalMean: [Double]
  /// Whether the current sweep adds to the point sums.
  var accumulating = false

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
    pointSums = []
    pointCounts = []
    proposalMean = [Double](repeating: 0, count: batch * d)
    pointLower = [Double](repeating: -.infinity, count: d)
    pointUpper = [Double](repeating: .infinity, count: d)
  }

  // MARK: Energies

  /// E_c of the first n candidate rows into `candidateE` (non-finite → largest Float).
  func evaluateCandidates(_ classIndex: Int, _ n: Int) {
    energy.energy(
      classIndex: classIndex, rows: candidate.pointer, count: n, into: candidateE.pointer, gradients: nil,
      workspace: workspace)
    Evaluator.sanitizeEnergies(candidateE.pointer, count: n)
  }

  func copyStates(_ n: Int) {
    candidate.pointer.update(from: x.pointer, count: n * d)
  }

  // MARK: The proposal's state per chain

  func prepare(_ i: Int, _ p: MixtureProposal) {
    v.withUnsafeMutableBufferPointer { vp in
      q.withUnsafeMutableBufferPointer { qp in
        p.prepare(x.pointer + i * d, v: vp.baseAddress! + i * kMax * d, q: qp.baseAddress! + i * kMax)
        eq[i] = p.energy(quadratic: qp.baseAddress! + i * kMax)
      }
    }
  }

  /// Sets x_i[slot] to `value` (as Float) and updates v, Q, E_q.
  func set(_ i: Int, slot: Int, to value: Float, _ p: MixtureProposal) {
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

  // MARK: Chains

  /// Runs `n` ≤ batch chains of class `classIndex`: chain i starts from `rows[i]` (fixed
  /// coordinates set; free ones are overwritten), follows `patterns[i]` and draws from
  /// `rngs[i]`; the final states go back into `rows`. With `burnIn`, every sweep from that
  /// one on also adds Rao–Blackwellised estimates of the conditional means and category
  /// probabilities to the point sums (read with ``pointEstimate(_:slot:)``); the draws from
  /// `rngs` are the same either way, so the states are too.
  func run(
    classIndex: Int, proposal p: MixtureProposal, patterns: [ConditionalPattern], rows: UnsafeMutablePointer<Float>,
    rngs: inout [RandomSource], sweeps: Int, burnIn: Int? = nil
  ) {
    let n = patterns.count
    stats = ConditionalStats(chains: n)
    x.pointer.update(from: rows, count: n * d)
    for i in 0..<n { start(i, patterns[i], p, &rngs[i]) }
    copyStates(n)
    evaluateCandidates(classIndex, n)
    e.pointer.update(from: candidateE.pointer, count: n)
    if burnIn != nil { resetPoint(n) }
    for sweep in 0..<sweeps {
      accumulating = burnIn.map { sweep >= $0 } ?? false
      for i in 0..<n { prepare(i, p) }  // no drift of the incremental updates
      gibbsCategories(classIndex, patterns, p, &rngs)
      blockStep(classIndex, patterns, p, &rngs)
      coordinateSteps(classIndex, patterns, p, &rngs)
    }
    accumulating = false
    rows.update(from: x.pointer, count: n * d)
  }

  /// Chain i's first state: free categories at the base's most likely allowed one, free
  /// numeric slots at a draw from the base's conditional inside the bounds (up to 16 tries),
  /// else at the most likely component's conditional mean clamped into the bounds.
  func start(_ i: Int, _ pattern: ConditionalPattern, _ p: MixtureProposal, _ rng: inout RandomSource) {
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
}

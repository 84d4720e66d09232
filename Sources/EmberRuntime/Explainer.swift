import EmberFormat

/// Attributions of a row's anomaly score to its raw columns: integrated gradients of the score
/// s(x) = −log Σ_c π_c e^{−E_c(x)} along the straight path from a reference point r to the row,
///
///     a_i = (x_i − r_i) ∫₀¹ ∂s/∂x_i (r + α(x − r)) dα,    ∂s/∂x = Σ_c p(c | x) ∇E_c(x),
///
/// summed over each feature's encoded slots (a categorical's one-hot slots fold into its
/// column; the base term is part of every E_c, so it folds in too). The reference is the mean
/// of the mixture component most responsible for the row among every class's base terms (the
/// "typical point" the row is nearest to). The integral is a 32-node Gauss–Legendre rule, exact
/// for polynomials of degree 63 along the path.
///
/// Faithfulness: the attributions are complete — they sum to s(x) − s(r), so each one is a
/// share of how much more anomalous the row is than its typical point; a column the score does
/// not depend on gets exactly 0; for a Gaussian class the attribution of column i is
/// ½(x − m)_i (P(x − m))_i, the column's share of the Mahalanobis distance.
///
/// An explainer owns scratch memory for one row at a time; use one per thread.
public final class Explainer: @unchecked Sendable {
  /// Quadrature nodes along the path.
  public static let nodes = 32
  public let session: EmberSession
  let evaluator: Evaluator
  let proposals: [MixtureProposal]
  let nodeAt: [Float]
  let nodeWeight: [Float]
  private var path: [Float]
  private var energies: [Float]
  private var gradients: [Float]
  private var slots: [Float]
  private var v: [Double]
  private var q: [Double]
  /// Per class, per feature: what leaving the feature out adds to a log density.
  let blocks: [[LeftOut]]

  /// Leaving feature slots G out of a Gaussian log density: with v = P(x − m),
  /// log N(x_{−G}) − log N(x) = ½ v_Gᵀ (P_GG)⁻¹ v_G − ½ log det P_GG + (|G|/2) log 2π.
  struct LeftOut {
    let slots: [Int]
    /// (P_GG)⁻¹, row-major |G|×|G|.
    let inverse: [Double]
    let constant: Double

    init(_ p: MixtureProposal, slots: [Int]) {
      self.slots = slots
      let g = slots.count
      var a = [Double](repeating: 0, count: g * g)
      for r in 0..<g { for c in 0..<g { a[r * g + c] = p.precision[slots[r] * p.d + slots[c]] } }
      // Gauss–Jordan inverse of the small SPD block.
      var inv = [Double](repeating: 0, count: g * g)
      for r in 0..<g { inv[r * g + r] = 1 }
      var logDet = 0.0
      for col in 0..<g {
        let pivot = Swift.max(a[col * g + col], 1e-300)
        logDet += Double.log(pivot)
        for t in 0..<g {
          a[col * g + t] /= pivot
          inv[col * g + t] /= pivot
        }
        for r in 0..<g where r != col {
          let factor = a[r * g + col]
          guard factor != 0 else { continue }
          for t in 0..<g {
            a[r * g + t] -= factor * a[col * g + t]
            inv[r * g + t] -= factor * inv[col * g + t]
          }
        }
      }
      inverse = inv
      constant = -0.5 * logDet + 0.5 * Double(g) * Double.log(2 * Double.pi)
    }

    @inline(__always)
    func gain(_ v: UnsafePointer<Double>) -> Double {
      let g = slots.count
      var s = 0.0
      for r in 0..<g {
        var t = 0.0
        for c in 0..<g { t += inverse[r * g + c] * v[slots[c]] }
        s += v[slots[r]] * t
      }
      return 0.5 * s + constant
    }
  }

  /// An explainer over `session` (O(C·d³) once, to prepare the base terms).
  public init(_ session: EmberSession) {
    self.session = session
    evaluator = Evaluator(session)
    proposals = session.proposals(session.energy)
    let (t, w) = Explainer.gaussLegendre(Explainer.nodes)
    nodeAt = t.map(Float.init)
    nodeWeight = w.map(Float.init)
    let d = session.width
    path = [Float](repeating: 0, count: Explainer.nodes * d)
    energies = [Float](repeating: 0, count: session.classCount * Explainer.nodes)
    gradients = [Float](repeating: 0, count: session.classCount * Explainer.nodes * d)
    slots = [Float](repeating: 0, count: d)
    let features = session.model.features
    blocks = proposals.map { p in features.map { LeftOut(p, slots: Array($0.slotOffset..<($0.slotOffset + $0.slotCount))) } }
    let kMax = proposals.map { $0.k }.max() ?? 1
    v = [Double](repeating: 0, count: kMax * d)
    q = [Double](repeating: 0, count: kMax)
  }

  /// The reference point of encoded row `x` (d values into `out`): the mean of the base
  /// component (over every class) the row is nearest to once its most deviant column is left
  /// out — the maximum over (c, j) of log π_c + log w_cj + max_f log N(x_{−f}; m_cj, P_c⁻¹),
  /// the marginal density of every column but f. A single wild column therefore cannot drag
  /// the reference to another class's typical point, and the explanation names it.
  public func reference(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
    let d = session.width
    var best = -Double.infinity
    var pick = (0, 0)
    v.withUnsafeMutableBufferPointer { vp in
      q.withUnsafeMutableBufferPointer { qp in
        for (c, p) in proposals.enumerated() {
          p.prepare(x, v: vp.baseAddress!, q: qp.baseAddress!)
          for j in 0..<p.k {
            var leftOut = -Double.infinity
            for block in blocks[c] { leftOut = Swift.max(leftOut, block.gain(vp.baseAddress! + j * d)) }
            let s = Double(session.energy.logPriors[c]) + p.logWeights[j] - 0.5 * qp[j] - p.constant + leftOut
            if s > best {
              best = s
              pick = (c, j)
            }
          }
        }
      }
    }
    let p = proposals[pick.0]
    for i in 0..<d { out[i] = Float(p.means[pick.1 * d + i]) }
  }

  /// Attributions of encoded row `x` (d values) to the model's raw features, into `out`
  /// (F values, feature order); returns the score of the reference point, so that
  /// Σ out ≈ s(x) − returned value (up to the quadrature error). O(32 · C · parameters + C·k·d²).
  @discardableResult
  public func attributions(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) -> Float {
    let d = session.width
    let cCount = session.classCount
    let n = Explainer.nodes
    var referenceScore: Float = 0
    slots.withUnsafeMutableBufferPointer { r in
      let ref = r.baseAddress!
      reference(x, into: ref)
      path.withUnsafeMutableBufferPointer { pp in
        let path = pp.baseAddress!
        for t in 0..<n {
          for i in 0..<d { path[t * d + i] = ref[i] + nodeAt[t] * (x[i] - ref[i]) }
        }
        energies.withUnsafeMutableBufferPointer { ep in
          gradients.withUnsafeMutableBufferPointer { gp in
            for c in 0..<cCount {
              evaluator.energyAndGradient(
                classIndex: c, rows: path, count: n, energies: ep.baseAddress! + c * n, gradients: gp.baseAddress! + c * n * d)
            }
          }
        }
        // Score of the reference point (for completeness checks).
        var e = [Float](repeating: 0, count: cCount)
        e.withUnsafeMutableBufferPointer { evaluator.energies(rows: ref, count: 1, into: $0.baseAddress!) }
        referenceScore = e.withUnsafeBufferPointer { session.score($0.baseAddress!) }
        // Σ_t ω_t ∇s(p_t) into the path buffer's first row (no longer needed).
        var integral = [Float](repeating: 0, count: d)
        var weight = [Float](repeating: 0, count: cCount)
        for t in 0..<n {
          var top = -Float.infinity
          for c in 0..<cCount {
            weight[c] = session.energy.logPriors[c] - energies[c * n + t]
            top = Swift.max(top, weight[c])
          }
          var total: Float = 0
          for c in 0..<cCount {
            weight[c] = Float.exp(weight[c] - top)
            total += weight[c]
          }
          for c in 0..<cCount {
            let w = nodeWeight[t] * weight[c] / total
            guard w > 0 else { continue }
            let g = c * n * d + t * d
            for i in 0..<d { integral[i] += w * gradients[g + i] }
          }
        }
        for (f, spec) in session.model.features.enumerated() {
          var a: Float = 0
          for s in spec.slotOffset..<(spec.slotOffset + spec.slotCount) { a += (x[s] - ref[s]) * integral[s] }
          out[f] = a.isFinite ? a : (a.isNaN ? 0 : (a > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude))
        }
      }
    }
    return referenceScore
  }

  /// The `k` features with the largest attributions (ties: lower index first) into `indices`,
  /// and their shares of the positive attributions, max(a, 0)/Σ max(a, 0), in [0, 1] (all 0
  /// when no attribution is positive: the row is no more anomalous than its typical point).
  public static func top(
    _ attributions: UnsafePointer<Float>, features: Int, k: Int, indices: UnsafeMutablePointer<Int32>,
    shares: UnsafeMutablePointer<Float>
  ) {
    var order = Array(0..<features)
    order.sort { attributions[$0] != attributions[$1] ? attributions[$0] > attributions[$1] : $0 < $1 }
    var positive: Float = 0
    for f in 0..<features { positive += Swift.max(attributions[f], 0) }
    for j in 0..<Swift.min(k, features) {
      indices[j] = Int32(order[j])
      shares[j] = positive > 0 ? Swift.min(Swift.max(attributions[order[j]], 0) / positive, 1) : 0
    }
  }

  /// Nodes and weights of the n-point Gauss–Legendre rule on [0, 1] (Newton's method on the
  /// Legendre polynomial from Chebyshev starting points, in double precision).
  static func gaussLegendre(_ n: Int) -> ([Double], [Double]) {
    var t = [Double](repeating: 0, count: n)
    var w = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var z = Double.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
      var derivative = 1.0
      for _ in 0..<100 {
        var p0 = 1.0
        var p1 = z
        for k in 2...Swift.max(n, 2) {
          let p2 = (Double(2 * k - 1) * z * p1 - Double(k - 1) * p0) / Double(k)
          p0 = p1
          p1 = p2
        }
        if n == 1 { p1 = z; p0 = 1 }
        derivative = Double(n) * (z * p1 - p0) / (z * z - 1)
        let step = p1 / derivative
        z -= step
        if abs(step) < 1e-15 { break }
      }
      t[n - 1 - i] = 0.5 * (z + 1)
      w[n - 1 - i] = 1 / ((1 - z * z) * derivative * derivative)
    }
    return (t, w)
  }
}

extension EmberSession {
  /// Attributions of `n` encoded rows (n×d) to the raw features (n×F into `out`), split across
  /// up to `threads` threads; each row's values do not depend on the others or on `threads`.
  /// See ``Explainer``.
  public func attributions(
    rows: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>, threads: Int = 1
  ) {
    guard n > 0 else { return }
    let workers = Swift.min(EmberSession.workers(threads), n)
    let explainers = (0..<workers).map { _ in Explainer(self) }
    let f = model.features.count
    let d = width
    let target = UncheckedPointer(out)
    Parallel.forEach(n, threads: workers) { r in
      explainers[r % workers].attributions(rows + r * d, into: target.value + r * f)
    }
  }
}

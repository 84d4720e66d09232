
/// A class's base term as a proposal for conditional sampling: a Gaussian mixture with shared
/// precision P over the encoded space, in double precision,
///
///     q(x) = Σ_j w_j N(x; m_j, P⁻¹),   E_q(x) = −log q(x) = −logsumexp_j(log w_j − ½ Q_j(x)) + c,
///     Q_j(x) = (x − m_j)ᵀ P (x − m_j),  c = ½ log det P⁻¹ + (d/2) log 2π.
///
/// Its conditionals are analytic (a mixture again, with updated weights), which makes them
/// exact independence proposals towards the conditionals of the full energy. A class without a
/// base term gets N(0, I): the encoded space is z-scored, so that is a broad, honest default.
struct MixtureProposal: Sendable {
  let d: Int
  let k: Int
  /// k×d component means.
  let means: [Double]
  let logWeights: [Double]
  /// d×d symmetric positive definite precision.
  let precision: [Double]
  /// c = ½ log det P⁻¹ + (d/2) log 2π: E_q(x) = −logsumexp_j(…) + c is a normalised density.
  let constant: Double

  init(_ base: PreparedBase?, width d: Int) {
    self.d = d
    guard let base else {
      k = 1
      means = [Double](repeating: 0, count: d)
      logWeights = [0]
      var p = [Double](repeating: 0, count: d * d)
      for i in 0..<d { p[i * d + i] = 1 }
      precision = p
      constant = 0.5 * Double(d) * Double.log(2 * Double.pi)
      return
    }
    k = base.k
    means = base.rawMeans
    logWeights = base.logWeights.map(Double.init)
    // P = L Lᵀ from the base's double-precision Cholesky factor.
    let l = base.lowerDouble
    var p = [Double](repeating: 0, count: d * d)
    var logDetP = 0.0
    for i in 0..<d {
      logDetP += 2 * Double.log(l[i * d + i])
      for j in 0...i {
        var s = 0.0
        for t in 0...j { s += l[i * d + t] * l[j * d + t] }
        p[i * d + j] = s
        p[j * d + i] = s
      }
    }
    precision = p
    constant = -0.5 * logDetP + 0.5 * Double(d) * Double.log(2 * Double.pi)
  }

  /// E_q up to the constant, from the quadratic forms Q_j.
  @inline(__always)
  func energy(quadratic q: UnsafePointer<Double>) -> Double {
    var top = -Double.infinity
    for j in 0..<k { top = Swift.max(top, logWeights[j] - 0.5 * q[j]) }
    guard top.isFinite else { return .infinity }
    var s = 0.0
    for j in 0..<k { s += Double.exp(logWeights[j] - 0.5 * q[j] - top) }
    return -(top + Double.log(s))
  }

  /// v_j = P (x − m_j) (k×d into `v`) and Q_j = (x − m_j)·v_j (into `q`). O(k·d²).
  func prepare(_ x: UnsafePointer<Float>, v: UnsafeMutablePointer<Double>, q: UnsafeMutablePointer<Double>) {
    for j in 0..<k {
      let vj = v + j * d
      var quad = 0.0
      for a in 0..<d {
        var s = 0.0
        let row = a * d
        for b in 0..<d { s += precision[row + b] * (Double(x[b]) - means[j * d + b]) }
        vj[a] = s
        quad += (Double(x[a]) - means[j * d + a]) * s
      }
      q[j] = quad
    }
  }

  /// Updates v and Q for x_i ← x_i + delta. O(k·d).
  @inline(__always)
  func move(_ i: Int, by delta: Double, v: UnsafeMutablePointer<Double>, q: UnsafeMutablePointer<Double>) {
    guard delta != 0 else { return }
    let pii = precision[i * d + i]
    for j in 0..<k {
      let vj = v + j * d
      q[j] += 2 * delta * vj[i] + pii * delta * delta
      for a in 0..<d { vj[a] += delta * precision[a * d + i] }
    }
  }
}

/// The fixed part of conditional sampling for one class and one set of free coordinates: which
/// numeric slots are free (with encoded bounds) and which categorical groups are free (with
/// the categories allowed), and the Cholesky factor of P restricted to the free numeric slots.
/// Shared by every chain with the same pattern.
final class ConditionalPattern: @unchecked Sendable {
  /// Free numeric slots (encoded indices), ascending.
  let free: [Int]
  /// Encoded bounds of each free slot (−∞/+∞ when open); a value is admissible when
  /// lower ≤ x ≤ upper.
  let lower: [Double]
  let upper: [Double]
  /// Whether any free slot has a finite bound.
  let bounded: Bool
  /// Free categorical groups.
  let groups: [FreeGroup]
  /// Categorical features whose slots are free numeric slots here (listed in `free`) and whose
  /// decoded category — the first largest slot, as ``RowDecoder`` reads it — must be one of
  /// `allowed` for a draw to count (``ConditionalBlock/logMarginal``: the probability of a
  /// category is the mass of its region, not the density at its one-hot corner).
  let regions: [FreeGroup]
  /// Cholesky factor L of P_MM (row-major |M|×|M|, lower).
  let cholesky: [Double]
  /// Σ log L_ii = ½ log det P_MM.
  let halfLogDet: Double
  /// Standard deviation of each free slot under N(·, P_MM⁻¹) (the base conditional's spread of
  /// one component): √(P_MM⁻¹)_aa. O(|M|³) once per pattern.
  let conditionalSD: [Double]

  /// A categorical feature to choose by Gibbs steps: its slots and the categories allowed.
  struct FreeGroup: Sendable {
    let offset: Int
    let count: Int
    /// Allowed category indices (non-empty).
    let allowed: [Int]
  }

  init(
    proposal p: MixtureProposal, free: [Int], lower: [Double], upper: [Double], groups: [FreeGroup],
    regions: [FreeGroup] = []
  ) {
    self.free = free
    self.lower = lower
    self.upper = upper
    self.groups = groups
    self.regions = regions
    bounded = zip(lower, upper).contains { $0.isFinite || $1.isFinite }
    let m = free.count
    var l = [Double](repeating: 0, count: m * m)
    var half = 0.0
    let d = p.d
    for a in 0..<m {
      for b in 0...a {
        var s = p.precision[free[a] * d + free[b]]
        for t in 0..<b { s -= l[a * m + t] * l[b * m + t] }
        if a == b {
          // P is positive definite, so every principal submatrix is: s > 0 up to rounding.
          let pivot = Swift.max(s, 1e-300).squareRoot()
          l[a * m + a] = pivot
          half += Double.log(pivot)
        } else {
          l[a * m + b] = s / l[b * m + b]
        }
      }
    }
    cholesky = l
    halfLogDet = half
    // Column t of L⁻ᵀ is L⁻ᵀ e_t; (P_MM⁻¹)_aa = Σ_t (L⁻ᵀ)_at².
    var variance = [Double](repeating: 0, count: m)
    var column = [Double](repeating: 0, count: m)
    for t in 0..<m {
      for a in 0..<m { column[a] = a == t ? 1 : 0 }
      column.withUnsafeMutableBufferPointer { Self.backSubstitute($0.baseAddress!, factor: l, m: m) }
      for a in 0..<m { variance[a] += column[a] * column[a] }
    }
    conditionalSD = variance.map { $0.squareRoot() }
  }

  var freeCount: Int { free.count }

  /// Whether every region's decoded category (first largest slot of `row`) is allowed.
  func meetsRegions(_ row: UnsafePointer<Float>) -> Bool {
    for g in regions where !g.allowed.contains(RowDecoder.largestSlot(row + g.offset, count: g.count)) { return false }
    return true
  }

  /// Solves P_MM u = b in place (b has |M| values).
  func solve(_ b: UnsafeMutablePointer<Double>) {
    let m = free.count
    for a in 0..<m {
      var s = b[a]
      for t in 0..<a { s -= cholesky[a * m + t] * b[t] }
      b[a] = s / cholesky[a * m + a]
    }
    backSubstitute(b)
  }

  /// Solves Lᵀ y = z in place: y = L⁻ᵀ z has covariance P_MM⁻¹ when z ~ N(0, I).
  func backSubstitute(_ z: UnsafeMutablePointer<Double>) {
    Self.backSubstitute(z, factor: cholesky, m: free.count)
  }

  /// Solves Lᵀ y = z in place for the m×m lower-triangular `factor` L (row-major).
  private static func backSubstitute(_ z: UnsafeMutablePointer<Double>, factor l: [Double], m: Int) {
    var a = m - 1
    while a >= 0 {
      var s = z[a]
      for t in (a + 1)..<Swift.max(a + 1, m) { s -= l[t * m + a] * z[t] }
      z[a] = s / l[a * m + a]
      a -= 1
    }
  }
}

/// Normal probabilities and truncated draws, in double precision, stable in the far tails.
enum NormalTail {
  /// E[min(max(Y, lower), upper)] for Y ~ N(mu, sigma²); bounds may be infinite.
  static func clippedMean(_ mu: Double, _ sigma: Double, lower: Double, upper: Double) -> Double {
    guard sigma > 0 else { return Swift.min(Swift.max(mu, lower), upper) }
    let root2 = 2.0.squareRoot()
    let norm = 1 / (2 * Double.pi).squareRoot()
    var mean = mu
    if lower.isFinite {
      let a = (lower - mu) / sigma
      // The part below `lower` moves to it: + (lower − mu)·Φ(a) + σ·φ(a).
      mean += (lower - mu) * 0.5 * Double.erfc(-a / root2) + sigma * norm * Double.exp(-0.5 * a * a)
    }
    if upper.isFinite {
      let b = (upper - mu) / sigma
      mean += (upper - mu) * 0.5 * Double.erfc(b / root2) - sigma * norm * Double.exp(-0.5 * b * b)
    }
    return mean
  }

  /// log(1 − Φ(a)) for any a (asymptotic series beyond 30, where erfc underflows).
  static func logUpper(_ a: Double) -> Double {
    if a < 30 { return Double.log(0.5 * Double.erfc(a / 2.0.squareRoot())) }
    let a2 = a * a
    let series: Double = 1 - 1 / a2 + 3 / (a2 * a2)
    let logDensity: Double = -0.5 * a2 - 0.5 * Double.log(2 * Double.pi)
    return logDensity - Double.log(a) + Double.log(series)
  }

  /// log(Φ(b) − Φ(a)) for a ≤ b (−∞ when the interval is empty or has no mass in Double).
  static func logMass(_ a: Double, _ b: Double) -> Double {
    guard a < b else { return -.infinity }
    if a >= 0 {
      let la = logUpper(a)
      let lb = logUpper(b)
      return la + Double.log(onePlus: -Double.exp(lb - la))
    }
    if b <= 0 { return logMass(-b, -a) }
    // a < 0 < b: 1 − upper(b) − upper(−a).
    let ub = b.isFinite ? Double.exp(logUpper(b)) : 0
    let ua = a.isFinite ? Double.exp(logUpper(-a)) : 0
    return Double.log(Swift.max(1 - ub - ua, 1e-300))
  }

  /// A standard normal draw conditioned on [a, b] (a < b; either may be infinite): normal,
  /// exponential (Robert 1995) or uniform rejection, whichever accepts best for the interval.
  /// At most `attempts` tries, then the point of the interval nearest 0 (never reached in
  /// practice: every branch accepts with probability ≥ ~0.3).
  static func draw(_ a: Double, _ b: Double, using rng: inout RandomSource, attempts: Int = 10_000) -> Double {
    guard a < b else { return a.isFinite ? a : b }
    if b <= 0 { return -draw(-b, -a, using: &rng, attempts: attempts) }
    if a < 0 {
      // The interval holds 0.
      if b - a >= (2 * Double.pi).squareRoot() {
        for _ in 0..<attempts {
          let z = rng.nextNormal()
          if z >= a, z <= b { return z }
        }
      } else {
        for _ in 0..<attempts {
          let z = a + (b - a) * rng.nextUniform()
          if rng.nextUniform() < Double.exp(-0.5 * z * z) { return z }
        }
      }
      return 0
    }
    // 0 ≤ a < b: a one-sided tail, or a two-sided interval right of 0.
    let lambda = 0.5 * (a + (a * a + 4).squareRoot())
    let uniformBetter = b.isFinite && b - a < Double.exp(0.25 * (a * a - a * (a * a + 4).squareRoot()) + 0.5) / lambda
    if uniformBetter {
      for _ in 0..<attempts {
        let z = a + (b - a) * rng.nextUniform()
        if rng.nextUniform() < Double.exp(0.5 * (a * a - z * z)) { return z }
      }
    } else {
      for _ in 0..<attempts {
        let z = a - Double.log(1 - rng.nextUniform()) / lambda
        if z <= b, rng.nextUniform() < Double.exp(-0.5 * (z - lambda) * (z - lambda)) { return z }
      }
    }
    return a
  }
}

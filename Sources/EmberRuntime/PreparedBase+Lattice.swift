import EmberFormat

/// The base with its lattice variance taken out, for conditioning on exact values.
///
/// A trainer that fits a base to dequantized lattice columns (whole numbers, one-hot slots;
/// `ember train`'s default, docs/TUNING.md round 7) adds each slot's lattice variance h²/12 to
/// the diagonal of the base's covariance S and records it (``BaseInfo/latticeVariance``). That
/// is the right density for a value spread over its lattice cell, but an observed cell is an
/// exact lattice point: conditioning on it with S attenuates the regression on it (errors in
/// variables, the conditional mean moves by S_MO S_OO⁻¹ (x_O − m_O) with the extra variance in
/// S_OO). Sheppard's correction takes the term back out: S' = S − diag(h²/12), the covariance
/// of the exact values. The conditional means and component weights given exact values are
/// then those of the un-dequantized data.
extension PreparedBase {
  /// Halvings of the correction tried when S − t·diag(v) is not positive definite (t = 1, ½,
  /// ¼, …); after them the base is left as it is.
  static let latticeHalvings = 8

  /// The base of `base` with covariance S − t·diag(`variance`) (means and weights unchanged),
  /// t the largest of 1, ½, ¼, … (``latticeHalvings`` halvings) for which it is positive
  /// definite; nil when `variance` is all zero or no t > 0 works. O(d³), in double.
  static func withoutLatticeVariance(_ base: BaseInfo, variance: [Double], width d: Int) -> PreparedBase? {
    guard variance.count == d, variance.contains(where: { $0 > 0 }) else { return nil }
    guard let covariance = inverse(base.precision.map(Double.init), d) else { return nil }
    var t = 1.0
    for _ in 0...latticeHalvings {
      var s = covariance
      for i in 0..<d { s[i * d + i] -= t * variance[i] }
      if let factor = cholesky(s, d) {
        var logDet = 0.0
        for i in 0..<d { logDet += 2 * Double.log(factor[i * d + i]) }
        return try? PreparedBase(
          componentMeans: Array(base.means), logWeights: Array(base.logWeights), precision: inverse(cholesky: factor, d),
          logDetCovariance: logDet, width: d, at: "")
      }
      t /= 2
    }
    return nil
  }

  /// Lower Cholesky factor of the d×d symmetric matrix `a` (row-major), or nil when it is not
  /// numerically positive definite: a pivot not finite or not above `relativeFloor` × its
  /// diagonal entry (the default treats a pivot lost to rounding as not positive definite).
  /// O(d³/3).
  static func cholesky(_ a: [Double], _ d: Int, relativeFloor: Double = 1e-12) -> [Double]? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = a[i * d + j]
        for p in 0..<j { s -= l[i * d + p] * l[j * d + p] }
        if i == j {
          guard s > relativeFloor * Swift.max(a[i * d + i], 0), s.isFinite else { return nil }
          l[i * d + i] = s.squareRoot()
        } else {
          l[i * d + j] = s / l[j * d + j]
        }
      }
    }
    return l
  }

  /// A⁻¹ = L⁻ᵀ L⁻¹ from the lower Cholesky factor L of A (row-major d×d). O(d³).
  static func inverse(cholesky l: [Double], _ d: Int) -> [Double] {
    // M = L⁻¹ (lower), by forward substitution column by column.
    var m = [Double](repeating: 0, count: d * d)
    for c in 0..<d {
      m[c * d + c] = 1 / l[c * d + c]
      for i in (c + 1)..<Swift.max(c + 1, d) {
        var s = 0.0
        for p in c..<i { s -= l[i * d + p] * m[p * d + c] }
        m[i * d + c] = s / l[i * d + i]
      }
    }
    // A⁻¹[i][j] = Σ_p M[p][i] M[p][j], p ≥ max(i, j).
    var out = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = 0.0
        for p in i..<d { s += m[p * d + i] * m[p * d + j] }
        out[i * d + j] = s
        out[j * d + i] = s
      }
    }
    return out
  }

  /// The inverse of the symmetric positive definite d×d `a`, or nil when it is not. O(d³).
  static func inverse(_ a: [Double], _ d: Int) -> [Double]? {
    cholesky(a, d).map { inverse(cholesky: $0, d) }
  }
}

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
    guard let covariance = SymmetricMatrix.inverse(base.precision.map(Double.init), d) else { return nil }
    var t = 1.0
    for _ in 0...latticeHalvings {
      var s = covariance
      for i in 0..<d { s[i * d + i] -= t * variance[i] }
      if let factor = SymmetricMatrix.cholesky(s, d) {
        var logDet = 0.0
        for i in 0..<d { logDet += 2 * Double.log(factor[i * d + i]) }
        return try? PreparedBase(
          componentMeans: Array(base.means), logWeights: Array(base.logWeights), precision: SymmetricMatrix.inverse(cholesky: factor, d),
          logDetCovariance: logDet, width: d, at: "")
      }
      t /= 2
    }
    return nil
  }
}

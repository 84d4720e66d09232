/// Symmetric positive definite matrices in double precision (row-major d×d): the Cholesky
/// factorisation and the inverse from it, shared by the runtime's bases (loading, the lattice
/// correction) and the trainer's Gaussian fits, so both compute a precision the same way.
package enum SymmetricMatrix {
  /// Lower Cholesky factor of the d×d symmetric matrix `a` (row-major), or nil when it is not
  /// numerically positive definite: a pivot not finite or not above `relativeFloor` × its
  /// diagonal entry (the default treats a pivot lost to rounding as not positive definite).
  /// O(d³/3).
  package static func cholesky(_ a: [Double], _ d: Int, relativeFloor: Double = 1e-12) -> [Double]? {
    factor(a, d) { s, i in s > relativeFloor * Swift.max(a[i * d + i], 0) && s.isFinite ? s : nil }
  }

  /// Lower Cholesky factor of the d×d symmetric matrix `a` with every pivot raised to at least
  /// `floor` (a covariance estimate that rounding left barely singular still gets a factor).
  /// O(d³/3).
  package static func cholesky(_ a: [Double], _ d: Int, clampingPivotsTo floor: Double) -> [Double] {
    factor(a, d) { s, _ in Swift.max(s, floor) }!
  }

  /// The factorisation both share: `pivot(s, i)` is the value whose square root becomes
  /// L[i][i] (nil: not positive definite).
  private static func factor(_ a: [Double], _ d: Int, pivot: (Double, Int) -> Double?) -> [Double]? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = a[i * d + j]
        for p in 0..<j { s -= l[i * d + p] * l[j * d + p] }
        if i == j {
          guard let q = pivot(s, i) else { return nil }
          l[i * d + i] = q.squareRoot()
        } else {
          l[i * d + j] = s / l[j * d + j]
        }
      }
    }
    return l
  }

  /// A⁻¹ = L⁻ᵀ L⁻¹ from the lower Cholesky factor L of A (row-major d×d). O(d³).
  package static func inverse(cholesky l: [Double], _ d: Int) -> [Double] {
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
  package static func inverse(_ a: [Double], _ d: Int) -> [Double]? {
    cholesky(a, d).map { inverse(cholesky: $0, d) }
  }
}

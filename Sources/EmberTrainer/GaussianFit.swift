import EmberFormat
import EmberRuntime
import Foundation

/// A multivariate Gaussian in double precision: mean, covariance S, its Cholesky factor, the
/// precision P = S⁻¹ and log det S. Used for the NCE noise distribution q_c and its base term.
public struct GaussianFit: Sendable {
  /// Dimension d.
  public let d: Int
  /// Mean (d).
  public let mean: [Double]
  /// Covariance S (d×d, row-major).
  public let covariance: [Double]
  /// Lower Cholesky factor L of S (S = L·Lᵀ).
  public let lower: [Double]
  /// Precision P = S⁻¹.
  public let precision: [Double]
  /// log det S.
  public let logDet: Double
  /// P in single precision (row-major), for batched Mahalanobis distances.
  let precisionFloat: [Float]

  /// A Gaussian with the given mean and (symmetric positive definite) covariance.
  public init(mean: [Double], covariance: [Double]) {
    let d = mean.count
    self.d = d
    self.mean = mean
    self.covariance = covariance
    let l = SymmetricMatrix.cholesky(covariance, d, clampingPivotsTo: 1e-12)
    lower = l
    var ld = 0.0
    for i in 0..<d { ld += 2 * log(l[i * d + i]) }
    logDet = ld
    // P = L⁻ᵀ L⁻¹, as the runtime computes a base's precision.
    let p = SymmetricMatrix.inverse(cholesky: l, d)
    precision = p
    precisionFloat = p.map { Float($0) }
  }

  /// The Ledoit–Wolf shrunk covariance of `n` rows of `x` (n×d) and their mean, with the same
  /// formula as scikit-learn's `ledoit_wolf` (shrinkage towards μ·I, μ = tr(S)/d).
  public static func ledoitWolf(_ x: [Float], count n: Int, width d: Int) -> (mean: [Double], covariance: [Double]) {
    var mean = [Double](repeating: 0, count: d)
    for r in 0..<n { for j in 0..<d { mean[j] += Double(x[r * d + j]) } }
    for j in 0..<d { mean[j] /= Double(max(n, 1)) }
    var s = [Double](repeating: 0, count: d * d)
    var s2 = [Double](repeating: 0, count: d * d)  // Σ_k x_ki² x_kj²
    var c = [Double](repeating: 0, count: d)
    for r in 0..<n {
      for j in 0..<d { c[j] = Double(x[r * d + j]) - mean[j] }
      for i in 0..<d {
        let ci = c[i], ci2 = ci * ci
        for j in 0...i {
          s[i * d + j] += ci * c[j]
          s2[i * d + j] += ci2 * c[j] * c[j]
        }
      }
    }
    let nn = Double(max(n, 1))
    for i in 0..<d {
      for j in 0...i {
        s[i * d + j] /= nn
        s[j * d + i] = s[i * d + j]
        s2[j * d + i] = s2[i * d + j]
      }
    }
    var trace = 0.0
    for i in 0..<d { trace += s[i * d + i] }
    let mu = trace / Double(d)
    var beta_ = 0.0, delta_ = 0.0
    for i in 0..<(d * d) {
      beta_ += s2[i]
      delta_ += s[i] * s[i]
    }
    // sklearn: delta_ = Σ(XᵀX)² / n², beta = (β_/n − delta_)/(d·n); delta = (delta_ − 2μ tr + dμ²)/d
    var beta = 1 / (Double(d) * nn) * (beta_ / nn - delta_)
    var delta = (delta_ - 2 * mu * trace + Double(d) * mu * mu) / Double(d)
    beta = min(beta, delta)
    delta = max(delta, 0)
    let shrinkage = (beta <= 0 || delta <= 0) ? 0 : beta / delta
    var shrunk = s
    for i in 0..<(d * d) { shrunk[i] *= (1 - shrinkage) }
    for i in 0..<d { shrunk[i * d + i] += shrinkage * mu }
    return (mean, shrunk)
  }

  /// The NCE noise distribution of DESIGN §1: class mean, covariance 4·(Ledoit–Wolf + 0.05·I).
  public static func nceNoise(_ x: [Float], count n: Int, width d: Int, scale: Double = 4, ridge: Double = 0.05)
    -> GaussianFit
  {
    var (mean, cov) = ledoitWolf(x, count: n, width: d)
    for i in 0..<d { cov[i * d + i] += ridge }
    for i in 0..<(d * d) { cov[i] *= scale }
    return GaussianFit(mean: mean, covariance: cov)
  }

  /// The class base: mean and Ledoit–Wolf covariance of `n` rows, plus `ridge`·I.
  public static func fitted(_ x: [Float], count n: Int, width d: Int, ridge: Double) -> GaussianFit {
    var (mean, cov) = ledoitWolf(x, count: n, width: d)
    for i in 0..<d { cov[i * d + i] += ridge }
    return GaussianFit(mean: mean, covariance: cov)
  }

  /// The same Gaussian with its covariance multiplied by τ².
  public func inflated(by tau: Double) -> GaussianFit {
    GaussianFit(mean: mean, covariance: covariance.map { $0 * tau * tau })
  }

  /// Squared Mahalanobis distances (x − μ)ᵀP(x − μ) of `n` rows, in double precision
  /// accumulation over a single-precision product. O(n·d²).
  public func mahalanobis(_ x: UnsafePointer<Float>, count n: Int) -> [Double] {
    guard n > 0 else { return [] }
    var centred = [Float](repeating: 0, count: n * d)
    var product = [Float](repeating: 0, count: n * d)
    for r in 0..<n { for j in 0..<d { centred[r * d + j] = x[r * d + j] - Float(mean[j]) } }
    let p = precisionFloat
    centred.withUnsafeBufferPointer { cp in
      p.withUnsafeBufferPointer { pp in
        product.withUnsafeMutableBufferPointer { tp in
          DenseKernels.gemm(
            m: n, p: d, q: d, a: cp.baseAddress!, ars: d, ats: 1, b: pp.baseAddress!, c: tp.baseAddress!,
            accumulate: false)
        }
      }
    }
    var q = [Double](repeating: 0, count: n)
    for r in 0..<n {
      var s = 0.0
      for j in 0..<d { s += Double(centred[r * d + j]) * Double(product[r * d + j]) }
      q[r] = max(s, 0)
    }
    return q
  }

  /// log N(x; μ, S) of `n` rows.
  public func logDensity(_ x: UnsafePointer<Float>, count n: Int) -> [Double] {
    let c = -0.5 * logDet - 0.5 * Double(d) * log(2 * Double.pi)
    return mahalanobis(x, count: n).map { c - 0.5 * $0 }
  }

  /// log N(x; μ, S) of the rows of a flat array.
  public func logDensity(_ x: [Float]) -> [Double] {
    x.withUnsafeBufferPointer { logDensity($0.baseAddress!, count: x.count / max(d, 1)) }
  }


  /// Draws `n` rows (n×d, Float) into `out`: mean + z·Lᵀ with z ~ N(0, I), the product in
  /// single precision through the training kernel.
  public func sample(_ n: Int, into out: UnsafeMutablePointer<Float>, rng: inout TrainerRandom) {
    guard n > 0 else { return }
    var z = [Float](repeating: 0, count: n * d)
    for i in 0..<(n * d) { z[i] = Float(rng.gaussian()) }
    let m = mean.map { Float($0) }
    for r in 0..<n {
      for j in 0..<d { out[r * d + j] = m[j] }
    }
    z.withUnsafeBufferPointer { zp in
      lowerTransposed.withUnsafeBufferPointer { lp in
        DenseKernels.gemm(
          m: n, p: d, q: d, a: zp.baseAddress!, ars: d, ats: 1, b: lp.baseAddress!, c: out, accumulate: true)
      }
    }
  }

  /// Lᵀ in single precision (d×d, row-major), for sampling.
  var lowerTransposed: [Float] {
    var t = [Float](repeating: 0, count: d * d)
    for i in 0..<d {
      for k in 0...i { t[k * d + i] = Float(lower[i * d + k]) }
    }
    return t
  }

  /// The base term as stored in a model: one component at the mean, precision and log det S.
  public var baseSpec: GaussianBaseSpec {
    GaussianBaseSpec(
      means: mean.map { Float($0) }, logWeights: [0], precision: precision.map { Float($0) }, logDetCovariance: logDet)
  }
}

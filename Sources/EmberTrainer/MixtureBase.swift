import EmberFormat
import Foundation

/// A class's base density: a Gaussian mixture whose components share one covariance S
/// (k = 1: a single Gaussian), in double precision. This is exactly the `GaussianBase` of the
/// file: E_base(x) = −logsumexp_j(log w_j − ½(x−m_j)ᵀS⁻¹(x−m_j)) + ½ log det S + (d/2) log 2π.
public struct MixtureBase: Sendable {
  /// Dimension d.
  public let d: Int
  /// Component means (k×d, row-major).
  public let means: [Double]
  /// Log mixture weights (k; they log-sum-exp to 0).
  public let logWeights: [Double]
  /// The shared covariance (its mean is unused).
  public let shape: GaussianFit
  /// What the lattice term added to the covariance's diagonal (d values; empty: nothing), as
  /// recorded in the file (``GaussianBaseSpec/latticeVariance``).
  public var latticeVariance: [Double] = []

  /// Number of components k.
  public var components: Int { logWeights.count }

  /// A mixture with the given means, log weights and shared covariance.
  public init(means: [Double], logWeights: [Double], covariance: [Double]) {
    d = logWeights.isEmpty ? 0 : means.count / logWeights.count
    self.means = means
    self.logWeights = logWeights
    shape = GaussianFit(mean: [Double](repeating: 0, count: d), covariance: covariance)
  }

  /// One Gaussian: the mean and Ledoit–Wolf covariance of `n` rows, with the lattice term
  /// `lattice` on its diagonal (``LatticeVariance``), plus `ridge`·I.
  public static func gaussian(_ x: [Float], count n: Int, width d: Int, ridge: Double) -> MixtureBase {
    gaussian(x, count: n, width: d, ridge: ridge, lattice: .none)
  }

  static func gaussian(_ x: [Float], count n: Int, width d: Int, ridge: Double, lattice: LatticeVariance) -> MixtureBase {
    var (mean, cov) = GaussianFit.ledoitWolf(x, count: n, width: d)
    let added = lattice.apply(to: &cov, width: d)
    for i in 0..<d { cov[i * d + i] += ridge }
    var base = MixtureBase(means: mean, logWeights: [0], covariance: cov)
    base.latticeVariance = added
    return base
  }

  /// The same mixture with its covariance multiplied by τ².
  public func inflated(by tau: Double) -> MixtureBase {
    MixtureBase(means: means, logWeights: logWeights, covariance: shape.covariance.map { $0 * tau * tau })
  }

  /// log density of `n` rows. O(n·d·(d + k)).
  public func logDensity(_ x: UnsafePointer<Float>, count n: Int) -> [Double] {
    let q = distances(x, count: n)
    let k = components
    let c = -0.5 * shape.logDet - 0.5 * Double(d) * log(2 * Double.pi)
    var out = [Double](repeating: 0, count: n)
    for r in 0..<n {
      var top = -Double.infinity
      for j in 0..<k { top = max(top, logWeights[j] - 0.5 * q[r * k + j]) }
      var s = 0.0
      for j in 0..<k { s += exp(logWeights[j] - 0.5 * q[r * k + j] - top) }
      out[r] = c + top + log(s)
    }
    return out
  }

  /// log density of the rows of a flat array.
  public func logDensity(_ x: [Float]) -> [Double] {
    x.withUnsafeBufferPointer { logDensity($0.baseAddress!, count: x.count / max(d, 1)) }
  }

  /// Squared Mahalanobis distances (x_r − m_j)ᵀS⁻¹(x_r − m_j), row-major n×k: rows and means
  /// whitened by the Cholesky factor of S (y = L⁻¹(x − m_0)), then Euclidean distances.
  /// Rows go four at a time through the same operations in the same order (one SIMD lane each),
  /// so every distance has the bits of the one-row computation, about 3× faster.
  /// O(n·d·(d + k)).
  func distances(_ x: UnsafePointer<Float>, count n: Int) -> [Double] {
    let k = components
    var wm = [Double](repeating: 0, count: k * d)
    var row = [Double](repeating: 0, count: d)
    var y = [Double](repeating: 0, count: d)
    var v4 = [SIMD4<Double>](repeating: .zero, count: d)
    var y4 = [SIMD4<Double>](repeating: .zero, count: d)
    var out = [Double](repeating: 0, count: n * k)
    shape.lower.withUnsafeBufferPointer { lp in
      means.withUnsafeBufferPointer { mp in
        let l = lp.baseAddress!, m = mp.baseAddress!
        row.withUnsafeMutableBufferPointer { rp in
          y.withUnsafeMutableBufferPointer { yp in
            wm.withUnsafeMutableBufferPointer { wp in
              for j in 0..<k {
                for i in 0..<d { rp[i] = m[j * d + i] - m[i] }
                Self.whiten(rp.baseAddress!, into: wp.baseAddress! + j * d, lower: l, d)
              }
              out.withUnsafeMutableBufferPointer { op in
                v4.withUnsafeMutableBufferPointer { vp in
                  y4.withUnsafeMutableBufferPointer { y4p in
                    let blocked = n - n % 4
                    var r = 0
                    while r < blocked {
                      for i in 0..<d {
                        vp[i] = SIMD4(
                          Double(x[r * d + i]) - m[i], Double(x[(r + 1) * d + i]) - m[i],
                          Double(x[(r + 2) * d + i]) - m[i], Double(x[(r + 3) * d + i]) - m[i])
                      }
                      Self.whiten4(vp.baseAddress!, into: y4p.baseAddress!, lower: l, d)
                      for j in 0..<k {
                        var s = SIMD4<Double>.zero
                        for i in 0..<d {
                          let t = y4p[i] - SIMD4(repeating: wp[j * d + i])
                          s += t * t
                        }
                        for q in 0..<4 { op[(r + q) * k + j] = s[q] }
                      }
                      r += 4
                    }
                    for r in blocked..<n {
                      for i in 0..<d { rp[i] = Double(x[r * d + i]) - m[i] }
                      Self.whiten(rp.baseAddress!, into: yp.baseAddress!, lower: l, d)
                      for j in 0..<k {
                        var s = 0.0
                        for i in 0..<d {
                          let t = yp[i] - wp[j * d + i]
                          s += t * t
                        }
                        op[r * k + j] = s
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return out
  }

  /// ``whiten(_:into:lower:_:)`` for four rows at once, one per lane (the same operations).
  @inline(__always)
  private static func whiten4(
    _ v: UnsafePointer<SIMD4<Double>>, into y: UnsafeMutablePointer<SIMD4<Double>>, lower l: UnsafePointer<Double>,
    _ d: Int
  ) {
    for i in 0..<d {
      var s = v[i]
      let li = l + i * d
      for p in 0..<i { s -= SIMD4(repeating: li[p]) * y[p] }
      y[i] = s / SIMD4(repeating: li[i])
    }
  }

  /// y = L⁻¹v by forward substitution (S = L·Lᵀ).
  @inline(__always)
  private static func whiten(_ v: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, lower l: UnsafePointer<Double>, _ d: Int) {
    for i in 0..<d {
      var s = v[i]
      let li = l + i * d
      for p in 0..<i { s -= li[p] * y[p] }
      y[i] = s / li[i]
    }
  }

  /// Draws `n` rows (n×d) into `out`: a component by weight, then m_j + L·z.
  public func sample(_ n: Int, into out: UnsafeMutablePointer<Float>, rng: inout TrainerRandom) {
    guard n > 0 else { return }
    shape.sample(n, into: out, rng: &rng)
    let cumulative = cumulativeWeights
    for r in 0..<n {
      var j = 0
      if components > 1 {
        let u = rng.uniform()
        j = cumulative.firstIndex { u < $0 } ?? components - 1
      }
      for i in 0..<d { out[r * d + i] += Float(means[j * d + i]) }
    }
  }

  private var cumulativeWeights: [Double] {
    var acc = 0.0
    return logWeights.map {
      acc += exp($0)
      return acc
    }
  }

  /// The base term as stored in a model.
  public var baseSpec: GaussianBaseSpec {
    GaussianBaseSpec(
      means: means.map { Float($0) }, logWeights: logWeights.map { Float($0) },
      precision: shape.precision.map { Float($0) }, logDetCovariance: shape.logDet,
      latticeVariance: latticeVariance.map { Float($0) })
  }
}

extension MixtureBase {
  /// A k-component shared-covariance mixture fitted by EM to `n` rows: k-means++ seeding and
  /// Lloyd iterations for the starting means, then EM (responsibilities; weights, means and the
  /// pooled within-component covariance + `ridge`·I) until the mean log-likelihood improves by
  /// less than 1e-5 or 200 iterations. Deterministic for a generator state. O(n·d² + iterations·n·d·(d + k)).
  public static func fitted(
    _ x: [Float], count n: Int, width d: Int, components k: Int, ridge: Double, rng: inout TrainerRandom
  ) -> MixtureBase {
    fitted(x, count: n, width: d, components: k, ridge: ridge, lattice: .none, rng: &rng)
  }

  /// ``fitted(_:count:width:components:ridge:rng:)`` with the lattice term `lattice` on the
  /// shared covariance's diagonal at every M-step (before the ridge).
  static func fitted(
    _ x: [Float], count n: Int, width d: Int, components k: Int, ridge: Double, lattice: LatticeVariance,
    rng: inout TrainerRandom
  ) -> MixtureBase {
    guard k > 1, n > k else { return gaussian(x, count: n, width: d, ridge: ridge, lattice: lattice) }
    func sq(_ r: Int, _ m: [Double], _ j: Int) -> Double {
      var s = 0.0
      for i in 0..<d {
        let t = Double(x[r * d + i]) - m[j * d + i]
        s += t * t
      }
      return s
    }
    // k-means++ seeding.
    var centres = [Double](repeating: 0, count: k * d)
    let first = rng.below(n)
    for i in 0..<d { centres[i] = Double(x[first * d + i]) }
    var nearest = (0..<n).map { sq($0, centres, 0) }
    for j in 1..<k {
      let total = nearest.reduce(0, +)
      var pick = rng.below(n)
      if total > 0 {
        var u = rng.uniform() * total
        for r in 0..<n {
          u -= nearest[r]
          if u <= 0 {
            pick = r
            break
          }
        }
      }
      for i in 0..<d { centres[j * d + i] = Double(x[pick * d + i]) }
      for r in 0..<n { nearest[r] = min(nearest[r], sq(r, centres, j)) }
    }
    // Lloyd iterations.
    var assign = [Int](repeating: 0, count: n)
    for _ in 0..<20 {
      var changed = false
      for r in 0..<n {
        var best = 0
        var bestD = Double.infinity
        for j in 0..<k {
          let dist = sq(r, centres, j)
          if dist < bestD {
            bestD = dist
            best = j
          }
        }
        if assign[r] != best {
          assign[r] = best
          changed = true
        }
      }
      var sums = [Double](repeating: 0, count: k * d)
      var counts = [Double](repeating: 0, count: k)
      for r in 0..<n {
        counts[assign[r]] += 1
        for i in 0..<d { sums[assign[r] * d + i] += Double(x[r * d + i]) }
      }
      for j in 0..<k where counts[j] > 0 { for i in 0..<d { centres[j * d + i] = sums[j * d + i] / counts[j] } }
      if !changed { break }
    }
    var resp = [Double](repeating: 0, count: n * k)
    for r in 0..<n { resp[r * k + assign[r]] = 1 }
    let total = scatter(x, n: n, d: d)
    var model = mStep(x, n: n, d: d, k: k, resp: resp, ridge: ridge, lattice: lattice, scatter: total)
    var previous = -Double.infinity
    for _ in 0..<200 {
      // E-step.
      let q = x.withUnsafeBufferPointer { model.distances($0.baseAddress!, count: n) }
      var ll = 0.0
      for r in 0..<n {
        var top = -Double.infinity
        for j in 0..<k { top = max(top, model.logWeights[j] - 0.5 * q[r * k + j]) }
        var s = 0.0
        for j in 0..<k {
          let v = exp(model.logWeights[j] - 0.5 * q[r * k + j] - top)
          resp[r * k + j] = v
          s += v
        }
        for j in 0..<k { resp[r * k + j] /= s }
        ll += top + log(s)
      }
      ll = ll / Double(n) - 0.5 * model.shape.logDet
      model = mStep(x, n: n, d: d, k: k, resp: resp, ridge: ridge, lattice: lattice, scatter: total)
      if ll - previous < 1e-5 { break }
      previous = ll
    }
    return model
  }

  /// The mean μ of `n` rows and their scatter about it, Σ_r (x_r − μ)(x_r − μ)ᵀ (d×d). O(n·d²).
  static func scatter(_ x: [Float], n: Int, d: Int) -> (mean: [Double], scatter: [Double]) {
    var mu = [Double](repeating: 0, count: d)
    for r in 0..<n { for i in 0..<d { mu[i] += Double(x[r * d + i]) } }
    for i in 0..<d { mu[i] /= Double(max(n, 1)) }
    var s = [Double](repeating: 0, count: d * d)
    var row = [Double](repeating: 0, count: d)
    for r in 0..<n {
      for i in 0..<d { row[i] = Double(x[r * d + i]) - mu[i] }
      for a in 0..<d {
        let va = row[a]
        for b in 0...a { s[a * d + b] += va * row[b] }
      }
    }
    return (mu, s)
  }

  /// Weights, means and pooled covariance (+ ridge·I) from responsibilities (n×k). The pooled
  /// within-component scatter is Σ_r (x_r − μ)(x_r − μ)ᵀ − Σ_j n_j (m_j − μ)(m_j − μ)ᵀ for any
  /// μ (exact when every row's responsibilities sum to 1), so with the first term precomputed
  /// (``scatter(_:n:d:)``, about the data mean) an M-step is O(n·k·d + k·d²), not O(n·k·d²).
  static func mStep(
    _ x: [Float], n: Int, d: Int, k: Int, resp: [Double], ridge: Double, lattice: LatticeVariance = .none,
    scatter: (mean: [Double], scatter: [Double])
  ) -> MixtureBase {
    var counts = [Double](repeating: 0, count: k)
    var means = [Double](repeating: 0, count: k * d)
    for r in 0..<n {
      for j in 0..<k {
        let w = resp[r * k + j]
        guard w > 0 else { continue }
        counts[j] += w
        for i in 0..<d { means[j * d + i] += w * Double(x[r * d + i]) }
      }
    }
    for j in 0..<k {
      let c = max(counts[j], 1e-12)
      for i in 0..<d { means[j * d + i] /= c }
    }
    var cov = scatter.scatter
    var centred = [Double](repeating: 0, count: d)
    for j in 0..<k {
      let c = counts[j]
      for i in 0..<d { centred[i] = means[j * d + i] - scatter.mean[i] }
      for a in 0..<d {
        let ca = c * centred[a]
        for b in 0...a { cov[a * d + b] -= ca * centred[b] }
      }
    }
    for a in 0..<d {
      for b in 0...a {
        cov[a * d + b] /= Double(n)
        cov[b * d + a] = cov[a * d + b]
      }
    }
    let added = lattice.apply(to: &cov, width: d)
    for a in 0..<d { cov[a * d + a] += ridge }
    let total = counts.reduce(0, +)
    let logWeights = counts.map { log(max($0, 1e-12) / total) }
    var base = MixtureBase(means: means, logWeights: logWeights, covariance: cov)
    base.latticeVariance = added
    return base
  }
}

import EmberFormat
import _EmberKernels

/// A Gaussian / shared-covariance mixture base term prepared for batched evaluation.
///
/// With P = L·Lᵀ (Cholesky) and every row centred on the mean of the component means c,
/// x' = (x − c)·L, m'_j = (m_j − c)·L, the quadratic forms are ‖x' − m'_j‖², computed as
/// ‖x'‖² − 2 x'·m'_j + ‖m'_j‖² with one matrix product over all components; the gradient is
/// (x' − Σ_j w_j m'_j)·Lᵀ with w the component responsibilities.
final class PreparedBase: @unchecked Sendable {
  let d: Int
  let dPad: Int
  let k: Int
  let kPad: Int
  /// Centre c (d).
  let center: [Float]
  /// [d × dPad]: L.
  let lower: AlignedBuffer
  /// [d × dPad]: Lᵀ.
  let lowerT: AlignedBuffer
  /// [d × kPad]: M'ᵀ (k > 1 only).
  let meansT: AlignedBuffer
  /// [k × dPad]: M' (k > 1 only).
  let means: AlignedBuffer
  /// ‖m'_j‖².
  let meanNorms: [Float]
  let logWeights: [Float]
  /// ½ log det S + (d/2) log 2π.
  let constant: Float
  /// Double-precision L (row-major d×d) and raw means for drawing samples.
  let lowerDouble: [Double]
  let rawMeans: [Double]

  convenience init(_ base: BaseInfo, width d: Int, at location: String) throws(EmberRuntimeError) {
    try self.init(
      componentMeans: Array(base.means), logWeights: Array(base.logWeights), precision: base.precision.map(Double.init),
      logDetCovariance: base.logDetCovariance, width: d, at: location)
  }

  /// A base from its parts: k×d component means, k log weights, the d×d precision (double) and log det S.
  init(
    componentMeans raw: [Float], logWeights: [Float], precision: [Double], logDetCovariance: Double, width d: Int, at location: String
  ) throws(EmberRuntimeError) {
    self.d = d
    dPad = padded(d)
    k = logWeights.count
    kPad = padded(k)
    // Cholesky in double precision (any positive finite pivot accepted).
    guard let l = SymmetricMatrix.cholesky(precision, d, relativeFloor: 0) else {
      throw EmberRuntimeError(.unusableModel, "the base precision matrix is not positive definite", at: location)
    }
    lowerDouble = l
    rawMeans = raw.map(Double.init)
    var c = [Double](repeating: 0, count: d)
    for j in 0..<k { for i in 0..<d { c[i] += Double(raw[j * d + i]) / Double(k) } }
    center = c.map { Float($0) }
    lower = AlignedBuffer(count: d * dPad)
    lowerT = AlignedBuffer(count: d * dPad)
    for i in 0..<d {
      for j in 0..<d {
        lower.pointer[i * dPad + j] = Float(l[i * d + j])
        lowerT.pointer[i * dPad + j] = Float(l[j * d + i])
      }
    }
    meansT = AlignedBuffer(count: k > 1 ? d * kPad : 1)
    means = AlignedBuffer(count: k > 1 ? k * dPad : 1)
    var norms = [Float](repeating: 0, count: k)
    if k > 1 {
      for j in 0..<k {
        var norm = 0.0
        for col in 0..<d {
          // m'_j[col] = Σ_i (m_j[i] − c[i]) · L[i][col]
          var s = 0.0
          for i in col..<d { s += (Double(raw[j * d + i]) - c[i]) * l[i * d + col] }
          means.pointer[j * dPad + col] = Float(s)
          meansT.pointer[col * kPad + j] = Float(s)
          norm += s * s
        }
        norms[j] = Float(norm)
      }
    }
    meanNorms = norms
    self.logWeights = logWeights
    constant = Float(0.5 * logDetCovariance + 0.5 * Double(d) * Double.log(2 * Double.pi))
  }

  /// Adds E_base to `energies[i·stride]` and, when `gradients` is given, writes ∇E_base into
  /// rows of `gradients` (row stride dPad). O(n·d·(d + k)).
  func evaluate(
    rows x: UnsafePointer<Float>, count n: Int, workspace w: BaseWorkspace,
    energies: UnsafeMutablePointer<Float>, stride: Int, gradients: UnsafeMutablePointer<Float>?
  ) {
    let xc = w.centered.pointer
    center.withUnsafeBufferPointer { c in
      // One flat loop without overflow checks (vectorised; the same subtractions).
      let c = c.baseAddress!
      for r in 0..<n {
        let row = x + r &* d, out = xc + r &* d
        for i in 0..<d { out[i] = row[i] - c[i] }
      }
    }
    let xp = w.transformed.pointer
    ek_gemm(n, d, d, xc, d, lower.pointer, dPad, nil, xp, dPad)
    if k == 1 {
      for r in 0..<n {
        let q = Deterministic.sumOfSquares(xp + r * dPad, d)
        energies[r * stride] += 0.5 * q - logWeights[0] + constant
      }
      if let g = gradients { ek_gemm(n, d, d, xp, dPad, lowerT.pointer, dPad, nil, g, dPad) }
      return
    }
    let s = w.cross.pointer
    ek_gemm(n, k, d, xp, dPad, meansT.pointer, kPad, nil, s, kPad)
    let resp = w.responsibilities.pointer
    for r in 0..<n {
      let xnorm = Deterministic.sumOfSquares(xp + r * dPad, d)
      let row = s + r * kPad
      var top = -Float.infinity
      for j in 0..<k {
        let q = max(xnorm - 2 * row[j] + meanNorms[j], 0)
        row[j] = logWeights[j] - 0.5 * q
        top = max(top, row[j])
      }
      for j in 0..<k { row[j] -= top }
      ek_exp(row, resp + r * kPad, k)
      var total: Float = 0
      for j in 0..<k { total += resp[r * kPad + j] }
      energies[r * stride] += -(top + Float.log(total)) + constant
      if gradients != nil {
        let inv = 1 / total
        for j in 0..<k { resp[r * kPad + j] *= inv }
      }
    }
    guard let g = gradients else { return }
    let mbar = w.mixed.pointer
    ek_gemm(n, d, k, resp, kPad, means.pointer, dPad, nil, mbar, dPad)
    for r in 0..<n {
      for i in 0..<d { mbar[r * dPad + i] = xp[r * dPad + i] - mbar[r * dPad + i] }
    }
    ek_gemm(n, d, d, mbar, dPad, lowerT.pointer, dPad, nil, g, dPad)
  }

  /// Draws one point from the base at temperature `temperature` (component j by weight, then
  /// m_j + √T · L⁻ᵀ z with z ~ N(0, I)), in double: each component's covariance is scaled by
  /// T, its mean and weight are not. T = 1 is the base itself (the same bytes as an untempered
  /// draw). O(d²).
  func draw(using rng: inout RandomSource, into out: UnsafeMutablePointer<Float>, temperature: Float = 1) {
    var j = 0
    if k > 1 {
      let u = Float(rng.nextUniform())
      var acc: Float = 0
      j = k - 1
      for c in 0..<k {
        acc += Float.exp(logWeights[c])
        if u < acc {
          j = c
          break
        }
      }
    }
    var z = [Double](repeating: 0, count: d)
    for i in 0..<d { z[i] = rng.nextNormal() }
    if temperature != 1 {
      let scale = Double(temperature).squareRoot()
      for i in 0..<d { z[i] *= scale }
    }
    // Solve Lᵀ u = z (Lᵀ upper triangular): back substitution.
    var u = [Double](repeating: 0, count: d)
    for i in stride(from: d - 1, through: 0, by: -1) {
      var s = z[i]
      for p in (i + 1)..<max(i + 1, d) { s -= lowerDouble[p * d + i] * u[p] }
      u[i] = s / lowerDouble[i * d + i]
    }
    for i in 0..<d { out[i] = Float(rawMeans[j * d + i] + u[i]) }
  }
}

/// Scratch buffers for ``PreparedBase/evaluate`` at a given batch size.
final class BaseWorkspace: @unchecked Sendable {
  let centered: AlignedBuffer
  let transformed: AlignedBuffer
  let cross: AlignedBuffer
  let responsibilities: AlignedBuffer
  let mixed: AlignedBuffer

  init(batch: Int, d: Int, k: Int) {
    let dPad = padded(d)
    let kPad = padded(k)
    centered = AlignedBuffer(count: batch * d)
    transformed = AlignedBuffer(count: batch * dPad)
    cross = AlignedBuffer(count: k > 1 ? batch * kPad : 1)
    responsibilities = AlignedBuffer(count: k > 1 ? batch * kPad : 1)
    mixed = AlignedBuffer(count: k > 1 ? batch * dPad : 1)
  }
}

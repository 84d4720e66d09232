import EmberFormat
import Foundation

typealias V4 = SIMD4<Float>

@inline(__always) private func load4(_ p: UnsafePointer<Float>) -> V4 {
  UnsafeRawPointer(p).loadUnaligned(as: V4.self)
}

@inline(__always) private func store4(_ v: V4, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V4.self)
}

/// Dense single-precision kernels for training: one register-tiled matrix product and the
/// activations with their derivatives. Deterministic: the summation order depends only on shapes.
enum DenseKernels {
  /// C[m×p] (+)= A·B, where A(r, t) = a[r·ars + t·ats] (so A may be a transposed view), B is
  /// row-major q×p and C row-major m×p. 4×8 register tiles of SIMD4 accumulators.
  static func gemm(
    m: Int, p: Int, q: Int, a: UnsafePointer<Float>, ars: Int, ats: Int, b: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    var r = 0
    while r + 4 <= m {
      let a0 = a + r * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars
      var col = 0
      while col + 8 <= p {
        let cp0 = c + r * p + col, cp1 = cp0 + p, cp2 = cp1 + p, cp3 = cp2 + p
        var c00 = V4(), c01 = V4(), c10 = V4(), c11 = V4()
        var c20 = V4(), c21 = V4(), c30 = V4(), c31 = V4()
        if accumulate {
          c00 = load4(cp0); c01 = load4(cp0 + 4); c10 = load4(cp1); c11 = load4(cp1 + 4)
          c20 = load4(cp2); c21 = load4(cp2 + 4); c30 = load4(cp3); c31 = load4(cp3 + 4)
        }
        var bp = b + col
        var off = 0
        for _ in 0..<q {
          let b0 = load4(bp), b1 = load4(bp + 4)
          let x0 = V4(repeating: a0[off]), x1 = V4(repeating: a1[off])
          let x2 = V4(repeating: a2[off]), x3 = V4(repeating: a3[off])
          c00 += x0 * b0; c01 += x0 * b1
          c10 += x1 * b0; c11 += x1 * b1
          c20 += x2 * b0; c21 += x2 * b1
          c30 += x3 * b0; c31 += x3 * b1
          bp += p
          off += ats
        }
        store4(c00, cp0); store4(c01, cp0 + 4); store4(c10, cp1); store4(c11, cp1 + 4)
        store4(c20, cp2); store4(c21, cp2 + 4); store4(c30, cp3); store4(c31, cp3 + 4)
        col += 8
      }
      if col + 4 <= p {
        let cp0 = c + r * p + col, cp1 = cp0 + p, cp2 = cp1 + p, cp3 = cp2 + p
        var c0 = accumulate ? load4(cp0) : V4(), c1 = accumulate ? load4(cp1) : V4()
        var c2 = accumulate ? load4(cp2) : V4(), c3 = accumulate ? load4(cp3) : V4()
        var bp = b + col
        var off = 0
        for _ in 0..<q {
          let b0 = load4(bp)
          c0 += V4(repeating: a0[off]) * b0
          c1 += V4(repeating: a1[off]) * b0
          c2 += V4(repeating: a2[off]) * b0
          c3 += V4(repeating: a3[off]) * b0
          bp += p
          off += ats
        }
        store4(c0, cp0); store4(c1, cp1); store4(c2, cp2); store4(c3, cp3)
        col += 4
      }
      if col < p {
        for rr in r..<(r + 4) { scalarRow(rr, from: col, p: p, q: q, a: a, ars: ars, ats: ats, b: b, c: c, accumulate) }
      }
      r += 4
    }
    while r < m {
      let ar = a + r * ars
      var col = 0
      while col + 8 <= p {
        let cp = c + r * p + col
        var s0 = accumulate ? load4(cp) : V4(), s1 = accumulate ? load4(cp + 4) : V4()
        var bp = b + col
        var off = 0
        for _ in 0..<q {
          let x = V4(repeating: ar[off])
          s0 += x * load4(bp)
          s1 += x * load4(bp + 4)
          bp += p
          off += ats
        }
        store4(s0, cp); store4(s1, cp + 4)
        col += 8
      }
      if col < p { scalarRow(r, from: col, p: p, q: q, a: a, ars: ars, ats: ats, b: b, c: c, accumulate) }
      r += 1
    }
  }

  @inline(__always)
  private static func scalarRow(
    _ r: Int, from col: Int, p: Int, q: Int, a: UnsafePointer<Float>, ars: Int, ats: Int,
    b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, _ accumulate: Bool
  ) {
    let ar = a + r * ars
    for cc in col..<p {
      // Four partial sums so long dot products vectorise without reassociation.
      var s = V4()
      var t = 0
      while t + 4 <= q {
        s += V4(ar[t * ats], ar[(t + 1) * ats], ar[(t + 2) * ats], ar[(t + 3) * ats])
          * V4(b[t * p + cc], b[(t + 1) * p + cc], b[(t + 2) * p + cc], b[(t + 3) * p + cc])
        t += 4
      }
      var total = (s[0] + s[1]) + (s[2] + s[3])
      while t < q {
        total += ar[t * ats] * b[t * p + cc]
        t += 1
      }
      c[r * p + cc] = accumulate ? c[r * p + cc] + total : total
    }
  }

  /// In place z ← act(z) over `n` values, writing act′(z) to `deriv`. GELU is the exact (erf) form.
  static func activate(_ kind: Activation, _ z: UnsafeMutablePointer<Float>, deriv: UnsafeMutablePointer<Float>, count n: Int) {
    switch kind {
    case .identity:
      for i in 0..<n { deriv[i] = 1 }
    case .silu:
      for i in 0..<n {
        let v = z[i]
        let s = 1 / (1 + expf(-v))
        z[i] = v * s
        deriv[i] = s * (1 + v * (1 - s))
      }
    case .relu:
      for i in 0..<n {
        let pos = z[i] > 0
        z[i] = pos ? z[i] : 0
        deriv[i] = pos ? 1 : 0
      }
    case .tanh:
      for i in 0..<n {
        let y = tanhf(z[i])
        z[i] = y
        deriv[i] = 1 - y * y
      }
    case .softplus:
      for i in 0..<n {
        let v = z[i]
        z[i] = v > 20 ? v : (v < -20 ? expf(v) : log1pf(expf(v)))
        deriv[i] = 1 / (1 + expf(-v))
      }
    case .gelu:
      for i in 0..<n {
        let v = z[i]
        let cdf = 0.5 * (1 + erff(v * 0.707_106_781_186_547_52))
        z[i] = v * cdf
        deriv[i] = cdf + v * 0.398_942_280_401_432_68 * expf(-0.5 * v * v)
      }
    }
  }
}

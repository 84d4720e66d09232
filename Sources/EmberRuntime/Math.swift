import _EmberKernels

// Elementary functions and reductions of the runtime, written so that every build gives the
// same bits: an x86_64 glibc build, a static musl build, aarch64 and armv7, debug or release,
// Embedded Swift or not. The C library's exp/log differ between libraries and CPU variants
// (glibc's FMA paths vs musl), and a reduction the optimiser may reassociate is summed in a
// different order at each optimisation level; both would change printed scores by an ulp.
// Internal: other modules keep their own math.

extension Float {
  /// e^x, correctly rounded in practice (`ek_det_expf`: IEEE operations only, same bits
  /// everywhere).
  @inline(__always) static func exp(_ x: Float) -> Float { ek_det_expf(x) }
  /// Natural logarithm (`ek_det_logf`, same bits everywhere).
  @inline(__always) static func log(_ x: Float) -> Float { ek_det_logf(x) }
}

extension Double {
  /// e^x within 1 ulp (`ek_det_exp`, same bits everywhere).
  @inline(__always) static func exp(_ x: Double) -> Double { ek_det_exp(x) }
  /// Natural logarithm within 1 ulp (`ek_det_log`, same bits everywhere).
  @inline(__always) static func log(_ x: Double) -> Double { ek_det_log(x) }
  /// log(1 + x) for x > −1, exact for small x (`ek_det_log1p`, same bits everywhere).
  @inline(__always) static func log(onePlus x: Double) -> Double { ek_det_log1p(x) }
  /// 1 − erf(x), without cancellation for large x (`ek_det_erfc`, same bits everywhere).
  @inline(__always) static func erfc(_ x: Double) -> Double { ek_det_erfc(x) }
  /// cos x by its Taylor series after reducing x to [−π, π] (IEEE operations only, same bits
  /// everywhere; within a few ulp for moderate |x|, meant for starting points and constants).
  static func cos(_ x: Double) -> Double {
    let twoPi = 2 * Double.pi
    let r = x - twoPi * (x / twoPi).rounded()
    let r2 = r * r
    var term = 1.0
    var sum = 1.0
    var k = 2
    while k <= 60 {
      term = -term * r2 / Double((k - 1) * k)
      sum += term
      if Swift.abs(term) < 1e-18 { break }
      k += 2
    }
    return sum
  }
}

/// Sums in a fixed order (no reassociation, no fused multiply-add): the same result on every
/// CPU and at every optimisation level.
enum Deterministic {
  /// c + a·b, rounded twice (never fused).
  @inline(__always) static func multiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float { c + a * b }

  /// Σ p[i]² for i < n: eight lanes (lane j sums the i ≡ j mod 8 in order, as an explicit
  /// SIMD8 so that it vectorises), the lanes added as (0+4, 1+5, 2+6, 3+7), then (0+2, 1+3),
  /// then 0+1, then the last n mod 8 squares in order.
  @inline(__always) static func sumOfSquares(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
      let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      acc = acc + v * v
      i += 8
    }
    let half = acc.lowHalf + acc.highHalf
    let quarter = half.lowHalf + half.highHalf
    var s = quarter[0] + quarter[1]
    while i < n {
      s = s + p[i] * p[i]
      i += 1
    }
    return s
  }
}

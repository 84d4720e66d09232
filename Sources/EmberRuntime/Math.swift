import _EmberKernels

// Elementary functions for the runtime, straight from the C math library (what
// swift-numerics' RealModule called), so that the runtime needs no package and builds in
// Embedded Swift. Internal: other modules keep their own math imports.

extension Float {
  /// e^x (C `expf`).
  @inline(__always) static func exp(_ x: Float) -> Float { ek_scalar_expf(x) }
  /// Natural logarithm (C `logf`).
  @inline(__always) static func log(_ x: Float) -> Float { ek_scalar_logf(x) }
}

extension Double {
  /// e^x (C `exp`).
  @inline(__always) static func exp(_ x: Double) -> Double { ek_scalar_exp(x) }
  /// Natural logarithm (C `log`).
  @inline(__always) static func log(_ x: Double) -> Double { ek_scalar_log(x) }
}

/// Arithmetic the optimiser may reassociate and contract (swift-numerics' `Relaxed`, same IR
/// flags), so that dot-product loops vectorise.
enum Relaxed {
  /// a × b + c, possibly fused and reordered with neighbouring relaxed operations.
  @inline(__always) static func multiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
    ek_relaxed_addf(c, ek_relaxed_mulf(a, b))
  }
}

import XCTest
import _EmberKernels

/// The float exp and log (`ek_det_expf`, `ek_det_logf`) take a short evaluation when its
/// rounding is unambiguous and the full double function otherwise: their bits must always be
/// those of the double function rounded to float. (Checked once on all 2^32 floats when the
/// short path was written; these tests check millions of them on every run.)
final class DeterministicMathTests: XCTestCase {
  /// Inputs where a float function and its double function rounded differ (at most 5 kept).
  private var mismatches: [String] = []
  private var checked = 0

  private func compare(_ name: String, _ x: Float, _ got: Float, _ want: Float) {
    checked += 1
    if got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN) { return }
    if mismatches.count < 5 { mismatches.append("\(name)(\(x)) = \(got), the double function gives \(want)") }
  }

  private func checkExp(_ x: Float) { compare("exp", x, ek_det_expf(x), Float(ek_det_exp(Double(x)))) }
  private func checkLog(_ x: Float) { compare("log", x, ek_det_logf(x), Float(ek_det_log(Double(x)))) }

  private static let special: [Float] = [
    0, -0.0, 1, -1, 80, -80, 80.00001, -80.00001, 88.72, 88.73, -103.9, -104, 0.5, 2, 0x1p-126, 0x1p-149,
    .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, 1.4142135, 1.4142137,
    0.70710677, 0.9999999, 1.0000001,
  ]

  /// `check` on the special values, a million random bit patterns (from `seed`), and every
  /// `step`th float of each of `ranges` (bit patterns, lower bound included).
  private func sweep(_ check: (Float) -> Void, seed: UInt64, ranges: [(UInt32, UInt32)], step: UInt32) {
    for x in Self.special { check(x) }
    var state = seed
    for _ in 0..<1_000_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      check(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)))
    }
    for (low, high) in ranges {
      var b = low
      while b < high {
        check(Float(bitPattern: b))
        b += step
      }
    }
  }

  func testFloatExpIsTheDoubleExpRoundedOnRandomAndDenseInputs() {
    // The range scores use, densely: every 4099th float in [-90, 90].
    sweep(checkExp, seed: 0x9E37_79B9_7F4A_7C15, ranges: [(0, Float(90).bitPattern), (0x8000_0000, Float(-90).bitPattern)], step: 4099)
    XCTAssertGreaterThan(checked, 1_500_000)
    XCTAssertEqual(mismatches, [])
  }

  func testFloatLogIsTheDoubleLogRoundedOnRandomAndDenseInputs() {
    // [0.25, 8] (sums of class terms), every 97th float.
    sweep(checkLog, seed: 0x2545_F491_4F6C_DD1D, ranges: [(Float(0.25).bitPattern, Float(8).bitPattern)], step: 97)
    XCTAssertGreaterThan(checked, 1_400_000)
    XCTAssertEqual(mismatches, [])
  }
}

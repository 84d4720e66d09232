import XCTest

@testable import EmberFormat

/// The validator's C scans of weights in place (`ember_sys_scan_floats`, `ember_sys_abs_sums`)
/// against the plain Swift loops they replace: same indices, same maxima, same sums to the bit.
final class FloatScanTests: XCTestCase {
  func testTheFirstNonFiniteValueAndTheLargestMagnitudeAreTheLoopsAnswers() {
    var rng = SplitMix64(seed: 5)
    let specials: [Float] = [.nan, -.nan, .infinity, -.infinity, .signalingNaN]
    for trial in 0..<3_000 {
      let n = trial < 600 ? trial : rng.below(2_000)
      var values = (0..<n).map { _ in rng.float() }
      if n > 0 && rng.below(3) == 0 {
        for _ in 0...rng.below(3) { values[rng.below(n)] = specials[rng.below(specials.count)] }
      }
      if n > 0 && rng.below(4) == 0 { values[n - 1 - rng.below(min(n, 9))] = .greatestFiniteMagnitude }
      let expectedBad = values.firstIndex { !$0.isFinite }
      values.withUnsafeBufferPointer { p in
        XCTAssertEqual(ModelValidator.firstNonFinite(p), expectedBad, "n \(n)")
        let top = ModelValidator.maxAbs(p)
        if expectedBad == nil {
          XCTAssertEqual(top.bitPattern, values.reduce(Float(0)) { max($0, abs($1)) }.bitPattern, "n \(n)")
        } else {
          XCTAssertEqual(top, .infinity)
        }
      }
    }
  }

  func testWeightAbsSumsInPlaceEqualTheAccessorPathToTheBit() {
    var rng = SplitMix64(seed: 11)
    let shapes = [(1, 1), (3, 5), (7, 30), (8, 30), (9, 17), (128, 30), (128, 128), (1, 128), (13, 1), (33, 64)]
    for (outputs, inputs) in shapes + (0..<40).map({ _ in (1 + rng.below(70), 1 + rng.below(70)) }) {
      let w = (0..<(outputs * inputs)).map { _ in rng.float() }
      w.withUnsafeBufferPointer { p in
        let inPlace = ModelValidator.LayerFacts(
          inputs: inputs, outputs: outputs, activation: .silu, weightCount: w.count, bias: [0], badWeight: nil,
          floats: p, weight: { w[$0] })
        let accessor = ModelValidator.LayerFacts(
          inputs: inputs, outputs: outputs, activation: .silu, weightCount: w.count, bias: [0], badWeight: nil,
          weight: { w[$0] })
        XCTAssertEqual(inPlace.maxAbsWeight.bitPattern, accessor.maxAbsWeight.bitPattern, "\(outputs)×\(inputs)")
        XCTAssertEqual(inPlace.maxRowAbsSum.bitPattern, accessor.maxRowAbsSum.bitPattern, "\(outputs)×\(inputs)")
        XCTAssertEqual(inPlace.maxColAbsSum.bitPattern, accessor.maxColAbsSum.bitPattern, "\(outputs)×\(inputs)")
        if w.contains(where: { $0 != 0 }) { XCTAssertGreaterThan(inPlace.maxRowAbsSum, 0) }
      }
    }
  }
}

extension SplitMix64 {
  fileprivate mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  /// A finite float of any magnitude and sign (subnormals and zeros included).
  fileprivate mutating func float() -> Float {
    switch below(4) {
    case 0: return Float(bitPattern: UInt32(truncatingIfNeeded: next()) & 0x7F7F_FFFF | (below(2) == 0 ? 0 : 0x8000_0000))
    case 1: return below(2) == 0 ? 0 : -0.0
    default: return Float(Double(below(2_000_001)) / 1e6 - 1)
    }
  }
}

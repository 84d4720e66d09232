import Foundation
import XCTest

@testable import EmberTrainer

/// The linear read-out's L2 penalty shrinks by the evidence: fixed at 0.01 on the mean log-loss
/// of a few dozen rows, 0.5/rows beyond (a fixed penalty on the summed loss).
final class ReadoutPenaltyTests: XCTestCase {
  func testPenaltyIsTheTunedValueForSmallFitsAndFallsWithTheRowCount() {
    XCTAssertEqual(Trainer.linearReadoutPenalty(rows: 16), 0.01)
    XCTAssertEqual(Trainer.linearReadoutPenalty(rows: 50), 0.01)
    XCTAssertEqual(Trainer.linearReadoutPenalty(rows: 1_000), 0.0005, accuracy: 1e-15)
    XCTAssertEqual(Trainer.linearReadoutPenalty(rows: 0), 0.01)
  }

  /// Three classes (70/25/5 %) differing by small mean shifts in 20 columns, as issue 11's scale
  /// tables: on 2,000 rows the penalty by row count reaches a clearly higher balanced accuracy on
  /// fresh rows than the fixed 0.01 (which shrinks the minority class's weights towards the prior).
  func testManyRowsAreNotShrunkAsIfTheyWereFifty() {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Double(state >> 11) + 0.5) / 9_007_199_254_740_992
    }
    func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
    let d = 20
    let shifts: [[Double]] = (0..<3).map { c in (0..<d).map { j in j % 3 == c ? 0.4 : 0 } }
    func table(_ n: Int) -> (features: [[Double]], truth: [Int]) {
      var f: [[Double]] = []
      var t: [Int] = []
      for _ in 0..<n {
        let u = uniform()
        let c = u < 0.7 ? 0 : u < 0.95 ? 1 : 2
        f.append((0..<d).map { normal() + shifts[c][$0] })
        t.append(c)
      }
      return (f, t)
    }
    let train = table(2_000)
    let test = table(4_000)
    func accuracy(_ lambda: Double) -> Double {
      let fit = Calibrator.fitLinear(
        features: train.features, truth: train.truth, rows: Array(0..<2_000), classes: 3, lambda: lambda, standardised: 0)
      let predicted = test.features.map { row -> Int in
        let l = fit.logits(row)
        return l.indices.max { l[$0] < l[$1] }!
      }
      return Calibrator.balancedAccuracy(predicted: predicted, truth: test.truth, classes: 3)
    }
    let byRows = accuracy(Trainer.linearReadoutPenalty(rows: 2_000))
    let fixed = accuracy(0.01)
    XCTAssertGreaterThan(byRows, fixed + 0.02, "penalty by rows \(byRows), fixed 0.01 \(fixed)")
  }
}

import EmberFormat
import XCTest

@testable import EmberTrainer

/// The keep-or-drop tests measure each fold's gain at choices made on the other folds only, so
/// rows cannot vouch for a choice made on themselves.
final class NestedGainTests: XCTestCase {
  func testEachFoldsBaseRidgeIsChosenOnTheOtherFolds() {
    // Two folds of two rows; candidate 0 shines on fold 0 only, candidate 1 is steady.
    let scores: [[Double]] = [[5, 5, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]]
    let diff = ClassFitter.nestedDifferences(scores, sizes: [2, 2], challenger: [0, 1], incumbent: [2])
    // Fold 0 gets candidate 1 (best on fold 1), fold 1 gets candidate 0 (best on fold 0); the
    // plain choice (candidate 0 everywhere) would give 5, 5, 0, 0.
    XCTAssertEqual(diff, [1, 1, 0, 0])
    // One candidate per level: the plain paired differences.
    XCTAssertEqual(
      ClassFitter.nestedDifferences(scores, sizes: [2, 2], challenger: [1], incumbent: [0]), [-4, -4, 1, 1])
  }

  func testBestCheckpointMinimisesTheSummedLossAndHoldsShortRunsAtTheirEnd() {
    func run(_ losses: [Double]) -> TrainingRun {
      TrainingRun(
        net: MLP(sizes: [1, 1], activation: .identity),
        curve: losses.enumerated().map { ($0.offset * 10, $0.element) }, checkpoints: [], step: 0)
    }
    XCTAssertEqual(ClassFitter.bestCheckpoint([run([3, 2, 1, 2]), run([3, 1, 2, 3])]), 1, "the first of equal totals")
    XCTAssertEqual(ClassFitter.bestCheckpoint([run([3, 2, 1, 2]), run([3, 2, 1, 3])]), 2)
    // The short run stays at its last loss (0), which makes later checkpoints of the long one win.
    XCTAssertEqual(ClassFitter.bestCheckpoint([run([5, 0]), run([3, 2, 1, 2])]), 2)
  }

  func testAFoldAloneCannotVouchForTheNetwork() {
    // r(x) = x on one column; base draws N(0, 1). Fold 0's rows sit far up (a gain there),
    // folds 1 and 2 below the draws (a loss): chosen on all folds s > 0, and the plain gains
    // on fold 0 are large, but the scale chosen on folds 1 and 2 alone is 0, so fold 0's honest
    // gains are 0.
    var net = MLP(sizes: [1, 1], activation: .identity)
    net.params = [1, 0]
    let run = TrainingRun(net: net, curve: [(0, 1)], checkpoints: [], step: 0)
    var rng = TrainerRandom(seed: 5)
    let draws = (0..<4000).map { _ in Float(rng.gaussian()) }
    let held: [[Float]] = [
      Array(repeating: 5, count: 10), (0..<30).map { _ in Float(rng.gaussian() - 0.5) },
      (0..<30).map { _ in Float(rng.gaussian() - 0.5) },
    ]
    let fitter = ClassFitter(settings: ObjectiveSettings(), heldoutFraction: 0.2, refit: false, d: 1)
    let heldR = held.map { $0.map(Double.init) }
    let drawR = Array(repeating: draws.map(Double.init), count: 3)
    let s = ClassFitter.bestScale(held: heldR, draws: drawR)
    XCTAssertGreaterThan(s, 0)
    let plain = ClassFitter.gains(held: heldR, draws: drawR, scale: s)
    XCTAssertGreaterThan(plain[0], 1)
    let nested = fitter.nestedGains([run, run, run], held: held, draws: Array(repeating: draws, count: 3))
    XCTAssertEqual(nested.count, 70)
    XCTAssertEqual(Array(nested[0..<10]), Array(repeating: 0, count: 10))
    XCTAssertLessThan(nested.reduce(0, +), plain.reduce(0, +))
  }
}

import EmberFormat
import Foundation
import XCTest

@testable import EmberTrainer

/// The row caps for large classes (`maxClassRows`, `baseChoiceRows`, `mixtureRows`,
/// `stoppingRows`, `readoutRows`): classes under them train exactly as without them; classes
/// over them train on a seeded subset, independently of the thread count. (In TrainingTests for
/// its small-data helpers.)
extension TrainingTests {
  /// Every cap off (0 = no limit).
  func uncapped(_ o: TrainingOptions) -> TrainingOptions {
    var o = o
    o.settings.maxClassRows = 0
    o.settings.baseChoiceRows = 0
    o.settings.mixtureRows = 0
    o.settings.stoppingRows = 0
    o.readoutRows = 0
    return o
  }

  /// Caps exactly at the sizes the classes reach (60 rows a class, 120 held-out rows), so
  /// none of them bites.
  func capsAtClassSize(_ o: TrainingOptions) -> TrainingOptions {
    var o = o
    o.settings.maxClassRows = 60
    o.settings.baseChoiceRows = 60
    o.settings.mixtureRows = 60
    o.settings.stoppingRows = 60
    o.readoutRows = 120
    return o
  }

  func testClassesUnderTheCapsGiveTheSameBytesAsWithoutCaps() throws {
    let table = blobs(classes: ["a", "b"])
    // Cross-fitted (small classes) and single-split (large classes) paths alike.
    var split = quickOptions()
    split.settings.crossFitMaxRows = 10
    split.settings.networkMinRows = 1
    for o in [quickOptions(), split] {
      let none = try ModelWriter.serialize(Trainer.train(table: table, options: uncapped(o)).0)
      let atSize = try ModelWriter.serialize(Trainer.train(table: table, options: capsAtClassSize(o)).0)
      let defaults = try ModelWriter.serialize(Trainer.train(table: table, options: o).0)
      XCTAssertEqual(none, atSize, "caps at the class size change nothing")
      XCTAssertEqual(none, defaults, "the default caps change nothing for small classes")
    }
  }

  func testClassesOverTheCapsTrainOnASeededSubsetWhateverTheThreadCount() throws {
    let table = blobs(classes: ["a", "b"])
    var o = quickOptions()
    o.settings.crossFitMaxRows = 10
    o.settings.networkMinRows = 1
    o.settings.maxClassRows = 40
    o.settings.baseChoiceRows = 16
    o.settings.mixtureRows = 20
    o.settings.stoppingRows = 5
    o.readoutRows = 12
    let (spec, summary) = try Trainer.train(table: table, options: o)
    // 40 rows a class: 32 trained on, 8 held out; priors still count all 60 rows.
    XCTAssertEqual(spec.classes.map(\.trainRows), [32, 32])
    XCTAssertEqual(spec.classes.map(\.prior), [0.5, 0.5])
    XCTAssertEqual(summary.heldoutRows, 16)
    XCTAssertEqual(summary.warnings.filter { $0.contains("fitted on a random 40 of its 60 rows") }.count, 2)
    XCTAssertGreaterThan(summary.balancedAccuracy, 0.9)
    var one = o
    one.threads = 1
    let bytes = try ModelWriter.serialize(spec)
    XCTAssertEqual(bytes, try ModelWriter.serialize(Trainer.train(table: table, options: one).0))
    XCTAssertNotEqual(bytes, try ModelWriter.serialize(Trainer.train(table: table, options: uncapped(o)).0))
  }

  func testSubsampleIsASortedSeededSubsetOwnedByItsClass() {
    let rows = Array(stride(from: 3, to: 300, by: 3))
    XCTAssertEqual(Trainer.subsample(rows, limit: 99, seed: 1, classIndex: 0), rows)
    XCTAssertEqual(Trainer.subsample(rows, limit: 0, seed: 1, classIndex: 0), rows)
    let a = Trainer.subsample(rows, limit: 20, seed: 1, classIndex: 0)
    XCTAssertEqual(a.count, 20)
    XCTAssertEqual(a, a.sorted())
    XCTAssertEqual(Set(a).count, 20)
    XCTAssertTrue(Set(a).isSubset(of: Set(rows)))
    XCTAssertEqual(a, Trainer.subsample(rows, limit: 20, seed: 1, classIndex: 0))
    XCTAssertNotEqual(a, Trainer.subsample(rows, limit: 20, seed: 1, classIndex: 1))
    XCTAssertNotEqual(a, Trainer.subsample(rows, limit: 20, seed: 2, classIndex: 0))
  }

  func testSpacedAndProportionalSubsetsKeepEveryClassAndTheirShares() {
    XCTAssertEqual(ClassFitter.spaced([5, 6, 7], 3), [5, 6, 7])
    XCTAssertEqual(ClassFitter.spaced(Array(0..<10), 5), [0, 2, 4, 6, 8])
    // 90 rows of class 0, 10 of class 1, at most 20 rows: shares kept, at least 5 a class.
    let truth = [Int](repeating: 0, count: 90) + [Int](repeating: 1, count: 10)
    let picked = Trainer.proportionalSubset(truth, classes: 2, limit: 20)
    XCTAssertEqual(picked.filter { truth[$0] == 0 }.count, 18)
    XCTAssertEqual(picked.filter { truth[$0] == 1 }.count, 5)
    XCTAssertEqual(Trainer.proportionalSubset(truth, classes: 2, limit: 100), Array(0..<100))
  }
}

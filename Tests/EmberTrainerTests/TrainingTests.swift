import EmberFormat
import EmberRuntime
import Foundation
import XCTest

@testable import EmberTrainer

final class TrainingTests: XCTestCase {
  /// Gaussian blobs in 3-D (class k centred at (3k, −3k, 0)), with a categorical column.
  func blobs(classes: [String], rows: Int = 60, seed: UInt64 = 11) -> CSVTable {
    var rng = TrainerRandom(seed: seed)
    var out: [[String]] = []
    for (k, label) in classes.enumerated() {
      for i in 0..<rows {
        let c = Double(k) * 3
        out.append([
          String(c + rng.gaussian()), String(-c + rng.gaussian()), String(rng.gaussian()),
          i % 3 == 0 ? "p" : "q", label,
        ])
      }
    }
    return CSVTable(file: "blobs.csv", header: ["u", "v", "w", "tag", "y"], rows: out)
  }

  /// Small, fast settings for tests.
  func quickOptions(seed: UInt64 = 1) -> TrainingOptions {
    var o = TrainingOptions(target: "y")
    o.settings.hidden = [16, 16]
    o.settings.epochs = 60
    o.settings.learningRate = 1e-2
    o.settings.minimumNoiseRows = 96
    o.settings.noisePerRow = 2
    o.settings.penaltyRows = 16
    o.seed = seed
    o.sourceDateEpoch = 0
    o.threads = 2
    o.storeStartingRows = true
    return o
  }

  func tmp(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-trainer-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  func testSeparatesTwoBlobsAndWritesAValidModel() throws {
    let (spec, summary) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: quickOptions())
    XCTAssertGreaterThan(summary.balancedAccuracy, 0.9)
    XCTAssertGreaterThan(summary.oodAUROC, 0.9)
    // Small classes are cross-fitted: every row is held out once and the shipped model is
    // refitted on all rows.
    XCTAssertEqual(summary.heldoutRows, 120)
    XCTAssertEqual(spec.classes.map(\.trainRows), [60, 60])
    XCTAssertEqual(spec.classes.map(\.prior), [0.5, 0.5])
    XCTAssertEqual(spec.provenance.heldoutBalancedAccuracy, summary.balancedAccuracy)
    XCTAssertEqual(spec.provenance.created, 0)
    XCTAssertEqual(spec.provenance.trainSeconds, 0)
    XCTAssertEqual(spec.encodedWidth, 5)
    for c in spec.classes {
      // The network is kept only when it earns its place on held-out rows; either way the
      // base is there.
      XCTAssertTrue(c.layers.isEmpty || c.layers.map(\.outputs) == [16, 16, 1])
      XCTAssertNotNil(c.base)
      XCTAssertEqual(c.calibration?.rows, 60)
      XCTAssertEqual(c.startingRows?.count, 60 * 5)
      XCTAssertEqual(c.calibration?.levels.count, 101)
    }
    XCTAssertEqual(spec.scoreCalibration?.rows, 120)
    let model = try EmberModel(bytes: try ModelWriter.serialize(spec))
    XCTAssertEqual(model.classes.count, 2)
  }

  func testTrainerEnergiesMatchTheRuntime() throws {
    let (spec, _) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: quickOptions())
    let model = try EmberModel(bytes: try ModelWriter.serialize(spec))
    let runtime = try EnergyModel(model)
    var rng = TrainerRandom(seed: 9)
    let n = 20, d = spec.encodedWidth
    let x = (0..<(n * d)).map { _ in Float(rng.gaussian() * 2) }
    let fromRuntime = runtime.energies(x)
    for (c, cls) in spec.classes.enumerated() {
      let mine = ReferenceEnergy(cls, width: d).energies(x, count: n)
      for i in 0..<n {
        XCTAssertEqual(Double(fromRuntime[i * spec.classes.count + c]), mine[i], accuracy: 1e-3 * max(1, abs(mine[i])))
      }
    }
  }

  func testSameSeedSameBytesOtherSeedOtherBytes() throws {
    let table = blobs(classes: ["a", "b", "c"], rows: 30)
    let one = try ModelWriter.serialize(Trainer.train(table: table, options: quickOptions(seed: 4)).0)
    var fewerThreads = quickOptions(seed: 4)
    fewerThreads.threads = 1
    let two = try ModelWriter.serialize(Trainer.train(table: table, options: fewerThreads).0)
    XCTAssertEqual(one, two, "same seed, different thread count → same bytes")
    let other = try ModelWriter.serialize(Trainer.train(table: table, options: quickOptions(seed: 5)).0)
    XCTAssertNotEqual(one, other)
  }

  func testAddClassKeepsOtherClassesIdentical() throws {
    let path = tmp("two.ember")
    let (spec, _) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: quickOptions())
    try ModelWriter.write(spec, to: path)
    var options = quickOptions(seed: 2)
    options.addTo = path
    let (grown, summary) = try Trainer.train(table: blobs(classes: ["a", "b", "c"], seed: 99), options: options)
    XCTAssertEqual(grown.classes.map(\.label), ["a", "b", "c"])
    XCTAssertEqual(summary.classes.map(\.trained), [false, false, true])
    XCTAssertEqual(grown.features, spec.features)
    let original = try EmberModel(path: path)
    for i in 0..<2 {
      var kept = grown.classes[i]
      XCTAssertEqual(kept.prior, 48.0 / 144.0, accuracy: 1e-12, "priors recomputed")
      kept.prior = original.classSpec(i).prior
      XCTAssertEqual(kept, original.classSpec(i))
      // Byte-level: the class serialises to the same bytes alone.
      let alone = { (c: ClassSpec) in
        try ModelWriter.serialize(ModelSpec(target: "y", features: spec.features, classes: [c]))
      }
      XCTAssertEqual(try alone(kept), try alone(spec.classes[i]))
    }
    XCTAssertGreaterThan(summary.balancedAccuracy, 0.9)
    // A CSV with no new class is refused.
    XCTAssertThrowsError(try Trainer.train(table: blobs(classes: ["a"]), options: options)) { e in
      XCTAssertEqual((e as? TrainerError)?.code, .incompatibleModel)
    }
  }

  func testTabEBMObjectiveTrains() throws {
    var o = quickOptions()
    o.settings.objective = .tabebm
    let (spec, summary) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: o)
    XCTAssertEqual(spec.provenance.objective, "tabebm")
    XCTAssertGreaterThan(summary.balancedAccuracy, 0.9)
    // Bounded below: far from the data the energy is large, not −∞.
    let far = [Float](repeating: 40, count: spec.encodedWidth)
    for c in spec.classes {
      XCTAssertGreaterThan(ReferenceEnergy(c, width: spec.encodedWidth).energies(far, count: 1)[0], 100)
    }
  }

  func testByDefaultNoTrainingRowsAreStoredAndChainsStartFromTheBase() throws {
    var o = quickOptions()
    o.storeStartingRows = TrainingOptions(target: "y").storeStartingRows
    XCTAssertFalse(o.storeStartingRows)
    let (spec, _) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: o)
    for c in spec.classes {
      XCTAssertNil(c.startingRows)
      XCTAssertEqual(c.sampler?.initialization, .base)
      XCTAssertEqual(c.sampler?.proposals, 100)
    }
  }

  func testKeptStartingRowsStartChainsSMOTEStyle() throws {
    let (spec, _) = try Trainer.train(table: blobs(classes: ["a", "b"]), options: quickOptions())
    for c in spec.classes {
      XCTAssertEqual(c.sampler?.initialization, .interpolate)
      XCTAssertEqual(c.sampler?.kind, .langevin)
      XCTAssertEqual(c.startingRows?.count, 60 * spec.encodedWidth)
    }
  }

  func testAOneRowClassTrainsWithMinClassRowsOneAndCanBeSampled() throws {
    let base = blobs(classes: ["a", "b"], rows: 20)
    let table = CSVTable(file: base.file, header: base.header, rows: base.rows + [["9", "9", "0", "p", "lonely"]])
    var o = quickOptions()
    o.minClassRows = 1
    let (spec, _) = try Trainer.train(table: table, options: o)
    let lonely = try XCTUnwrap(spec.classes.first { $0.label == "lonely" })
    XCTAssertEqual(lonely.trainRows, 1)
    XCTAssertEqual(lonely.startingRows?.count, spec.encodedWidth)
    let model = try EmberModel(bytes: try ModelWriter.serialize(spec))
    let energy = try EnergyModel(model)
    let c = try XCTUnwrap(model.classIndex(of: "lonely"))
    var rows: [Float] = []
    let stats = try Sampler(energy).run(classIndex: c, count: 50, seed: 1, settings: lonely.sampler!) { b, _ in rows += b; return true }
    XCTAssertEqual(rows.count, 50 * spec.encodedWidth)
    XCTAssertTrue(rows.allSatisfy(\.isFinite))
    XCTAssertEqual(stats.restarts, 0)
    // With one row there is nothing to interpolate: chains start at the row itself, so the
    // samples stay near it (encoded u of the row is far above the blobs').
    let u = model.features[0]
    let meanU = stride(from: 0, to: rows.count, by: spec.encodedWidth).map { Double(rows[$0]) * u.std + u.mean }.reduce(0, +) / 50
    XCTAssertEqual(meanU, 9, accuracy: 1.5)
    o.minClassRows = 2
    let (without, _) = try Trainer.train(table: table, options: o)
    XCTAssertNil(without.classes.first { $0.label == "lonely" })
  }

  func testRefitShipsNetworksTrainedOnAllRows() throws {
    let table = blobs(classes: ["a", "b"])
    var split = quickOptions()
    split.settings.crossFitMaxRows = 10  // one held-out split, as for a large class
    split.settings.networkMinRows = 1
    split.settings.selectScale = false  // keep the network whatever it scores
    let (plain, _) = try Trainer.train(table: table, options: split)
    XCTAssertEqual(plain.classes.map(\.trainRows), [48, 48])
    var o = split
    o.refit = true
    let (refit, _) = try Trainer.train(table: table, options: o)
    XCTAssertEqual(refit.classes.map(\.trainRows), [60, 60])
    for (p, r) in zip(plain.classes, refit.classes) {
      XCTAssertEqual(p.calibration, r.calibration, "calibration comes from the held-out split")
      XCTAssertFalse(r.layers.isEmpty)
      XCTAssertNotEqual(p.layers, r.layers)
      XCTAssertNotEqual(p.base, r.base)
    }
    XCTAssertNotNil(refit.metadata["trainer.refit"])
    XCTAssertNoThrow(try ModelWriter.serialize(refit))
  }
}

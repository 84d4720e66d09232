import EmberFormat
import Foundation
import XCTest

@testable import EmberTrainer

/// Bases on lattice-valued columns (whole numbers, one-hot slots): the variance term h²/12,
/// the dequantized held-out rows of the base test, and what they change about the base chosen.
final class DequantizationTests: XCTestCase {
  /// `n` rows of width 2: one Gaussian cluster (spread `sigma` per axis) rounded to whole
  /// numbers, then divided by `sigma` (what z-scoring does: lattice spacing h = 1/sigma).
  func latticeRows(_ n: Int, sigma: Double, seed: UInt64 = 3) -> [Float] {
    var rng = TrainerRandom(seed: seed)
    var x: [Float] = []
    for _ in 0..<n { x += [Float((sigma * rng.gaussian()).rounded() / sigma), Float((sigma * rng.gaussian()).rounded() / sigma)] }
    return x
  }

  func testSpacingsComeFromTheFeatureKinds() {
    let features = [
      FeatureSpec(name: "a", kind: .numeric, std: 3, slotOffset: 0),
      FeatureSpec(name: "b", kind: .integer, std: 4, slotOffset: 1),
      FeatureSpec(name: "c", kind: .categorical, categories: ["x", "y", "z"], slotOffset: 2, slotCount: 3),
    ]
    XCTAssertEqual(Dequantization().spacings(features, width: 5), [0, 0.25, 1, 1, 1])
    XCTAssertEqual(Dequantization(categories: false).spacings(features, width: 5), [0, 0.25, 0, 0, 0])
    XCTAssertEqual(Dequantization(integers: false).spacings(features, width: 5), [0, 0, 1, 1, 1])
  }

  func testALatticeColumnsFittedVarianceRespectsTheFloor() {
    // Column 0: 95% zeros, 5% ones (variance 0.0475 < 1/12); column 1 continuous.
    var rng = TrainerRandom(seed: 4)
    var x: [Float] = []
    for i in 0..<400 { x += [i % 20 == 0 ? 1 : 0, Float(rng.gaussian())] }
    let floor = LatticeVariance(spacings: [1, 0], rule: .floor)
    let g = MixtureBase.gaussian(x, count: 400, width: 2, ridge: 0.001, lattice: floor)
    XCTAssertEqual(g.shape.covariance[0], 1.0 / 12 + 0.001, accuracy: 1e-9, "floored, then the ridge")
    let plain = MixtureBase.gaussian(x, count: 400, width: 2, ridge: 0.001)
    XCTAssertLessThan(plain.shape.covariance[0], 0.06)
    XCTAssertEqual(g.shape.covariance[3], plain.shape.covariance[3], "a continuous column is untouched")
    let add = MixtureBase.gaussian(x, count: 400, width: 2, ridge: 0.001, lattice: LatticeVariance(spacings: [1, 0], rule: .add))
    XCTAssertEqual(add.shape.covariance[0], plain.shape.covariance[0] + 1.0 / 12, accuracy: 1e-9)
    // What each rule added is what the file records (and what conditioning takes back out).
    XCTAssertEqual(add.latticeVariance, [1.0 / 12, 0])
    XCTAssertEqual(add.baseSpec.latticeVariance, [Float(1.0 / 12), 0])
    XCTAssertEqual(g.latticeVariance[0], 1.0 / 12 - (plain.shape.covariance[0] - 0.001), accuracy: 1e-12, "the floor's top-up")
    XCTAssertEqual(plain.latticeVariance, [], "nothing added, nothing recorded")
    XCTAssertEqual(plain.baseSpec.latticeVariance, [])
    // A mixture's shared covariance: components on the lattice values would have no spread.
    var r = TrainerRandom(seed: 5)
    let m = MixtureBase.fitted(x, count: 400, width: 2, components: 2, ridge: 0.01, lattice: floor, rng: &r)
    XCTAssertGreaterThanOrEqual(m.shape.covariance[0], 1.0 / 12 + 0.01 - 1e-12)
    XCTAssertEqual(m.latticeVariance.count, 2, "the last M-step's term is recorded")
    var r2 = TrainerRandom(seed: 5)
    let unfloored = MixtureBase.fitted(x, count: 400, width: 2, components: 2, ridge: 0.01, rng: &r2)
    XCTAssertLessThan(unfloored.shape.covariance[0], 1.0 / 12 + 0.01, "without the floor the spread is below h²/12")
  }

  func testAMixtureNoLongerBeatsTheGaussianOnALatticeOfOneCluster() {
    let n = 400
    let x = latticeRows(n, sigma: 0.6)
    let folds = (0..<5).map { f in stride(from: f, to: n, by: 5).map { $0 } }
    let training = folds.map { v in (0..<n).filter { !v.contains($0) } }
    let spacings = [1 / 0.6, 1 / 0.6]
    // Without dequantization a mixture latches onto the lattice values and wins.
    var off = ObjectiveSettings()
    off.dequantization = Dequantization()
    let plain = ClassFitter(settings: off, heldoutFraction: 0.2, refit: false, d: 2, spacings: spacings)
    var r1 = TrainerRandom(seed: 2)
    XCTAssertGreaterThanOrEqual(plain.chooseBase(x, training: training, validation: folds, rng: &r1).components, 2)
    // Seen dequantized, it is one Gaussian cluster.
    let settings = ObjectiveSettings()
    XCTAssertEqual(settings.dequantization, Dequantization(variance: .add, heldoutNoise: true), "the default")
    let fitter = ClassFitter(settings: settings, heldoutFraction: 0.2, refit: false, d: 2, spacings: spacings)
    var r2 = TrainerRandom(seed: 2)
    XCTAssertEqual(fitter.chooseBase(x, training: training, validation: folds, rng: &r2).components, 1)
    // A clearly bimodal lattice class still gets its mixture.
    var bimodal = x
    for i in stride(from: 0, to: n * 2, by: 4) { bimodal[i] += 8 / 0.6 }
    var r3 = TrainerRandom(seed: 2)
    XCTAssertGreaterThanOrEqual(fitter.chooseBase(bimodal, training: training, validation: folds, rng: &r3).components, 2)
  }

  func testDequantizedHeldOutRowsStayInTheirLatticeCells() {
    var x: [Float] = [0, 0.5, 1, 0.5, 2, 0.5]
    var rng = TrainerRandom(seed: 1)
    ClassFitter.dequantize(&x, spacings: [1, 0], rng: &rng)
    for r in 0..<3 {
      XCTAssertEqual(x[r * 2], Float(r), accuracy: 0.5)
      XCTAssertNotEqual(x[r * 2], Float(r))
      XCTAssertEqual(x[r * 2 + 1], 0.5, "a continuous column gets no noise")
    }
  }

  /// A table with whole-number and category columns: three classes of Likert-like answers.
  func likert(classes: [String], rows: Int = 60, seed: UInt64 = 11) -> CSVTable {
    var rng = TrainerRandom(seed: seed)
    var out: [[String]] = []
    for (k, label) in classes.enumerated() {
      for i in 0..<rows {
        let a = min(5, max(1, (3 + Double(k) + rng.gaussian()).rounded()))
        let b = min(5, max(1, (3 - Double(k) + rng.gaussian()).rounded()))
        out.append([String(Int(a)), String(Int(b)), String(rng.gaussian() + Double(k)), i % 3 == 0 ? "p" : "q", label])
      }
    }
    return CSVTable(file: "likert.csv", header: ["a", "b", "w", "tag", "y"], rows: out)
  }

  func options(seed: UInt64) -> TrainingOptions {
    var o = TrainingOptions(target: "y")
    o.settings.hidden = [8, 8]
    o.settings.epochs = 30
    o.seed = seed
    o.sourceDateEpoch = 0
    o.threads = 2
    return o
  }

  func testDequantizedTrainingIsReproducibleAndAddToKeepsOtherClassesIdentical() throws {
    let table = likert(classes: ["a", "b"])
    let one = try ModelWriter.serialize(Trainer.train(table: table, options: options(seed: 1)).0)
    var single = options(seed: 1)
    single.threads = 1
    XCTAssertEqual(one, try ModelWriter.serialize(Trainer.train(table: table, options: single).0))
    var plain = options(seed: 1)
    plain.settings.dequantization = Dequantization()
    XCTAssertNotEqual(one, try ModelWriter.serialize(Trainer.train(table: table, options: plain).0))

    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-\(getpid()).ember").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (spec, _) = try Trainer.train(table: table, options: options(seed: 1))
    try ModelWriter.write(spec, to: path)
    var grow = options(seed: 2)
    grow.addTo = path
    let (grown, summary) = try Trainer.train(table: likert(classes: ["a", "b", "c"], seed: 99), options: grow)
    XCTAssertEqual(summary.classes.map(\.trained), [false, false, true])
    for i in 0..<2 {
      var kept = grown.classes[i]
      kept.prior = spec.classes[i].prior
      XCTAssertEqual(kept, spec.classes[i])
    }
  }

  func testANetworkCannotWinBackTheLatticeOnDequantizedHeldOutRows() {
    // One Gaussian cluster on a coarse lattice: what a network can add over the dequantized
    // base is the lattice itself, which dequantized held-out rows do not reward.
    let n = 300
    let x = latticeRows(n, sigma: 0.6, seed: 9)
    var settings = ObjectiveSettings()
    settings.hidden = [16, 16]
    settings.epochs = 150
    settings.learningRate = 1e-2
    settings.jitter = 0.01
    let spacings = [1 / 0.6, 1 / 0.6]
    func fit(_ networkTest: Bool) -> ClassFit {
      var s = settings
      s.dequantization.networkTest = networkTest
      let fitter = ClassFitter(settings: s, heldoutFraction: 0.2, refit: false, d: 2, spacings: spacings)
      var rng = TrainerRandom(seed: 4)
      return fitter.fit(x, count: n, rng: &rng) { _, _, _, _, _, _ in }
    }
    let dequantized = fit(true), raw = fit(false)
    XCTAssertNil(dequantized.net, "no network kept on dequantized held-out rows")
    XCTAssertNotNil(raw.net, "on the rows themselves the network wins the lattice back")
    XCTAssertEqual(dequantized.heldout.count, n)
    XCTAssertGreaterThanOrEqual(raw.heldoutLL, raw.heldoutBaseLL)
  }
}

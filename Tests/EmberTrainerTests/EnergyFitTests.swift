import EmberFormat
import EmberRuntime
import Foundation
import XCTest

@testable import EmberTrainer

/// The pieces of a class's energy fit: the base family, the scale selection and the normaliser.
final class EnergyFitTests: XCTestCase {
  /// `n` rows of width 2 around (±4, 0) (half each) or one blob at the origin.
  func rows(_ n: Int, bimodal: Bool, seed: UInt64 = 3) -> [Float] {
    var rng = TrainerRandom(seed: seed)
    var x: [Float] = []
    for i in 0..<n {
      let centre: Double = bimodal ? (i % 2 == 0 ? 4 : -4) : 0
      x += [Float(centre + 0.7 * rng.gaussian()), Float(0.7 * rng.gaussian())]
    }
    return x
  }

  func testMixtureEMRecoversTwoSeparatedClusters() {
    var rng = TrainerRandom(seed: 1)
    let m = MixtureBase.fitted(rows(400, bimodal: true), count: 400, width: 2, components: 2, ridge: 0.01, rng: &rng)
    let firsts = [m.means[0], m.means[2]].sorted()
    XCTAssertEqual(firsts[0], -4, accuracy: 0.2)
    XCTAssertEqual(firsts[1], 4, accuracy: 0.2)
    for w in m.logWeights { XCTAssertEqual(exp(w), 0.5, accuracy: 0.05) }
    // The shared covariance is the within-cluster one (0.7² + ridge), not the overall spread.
    XCTAssertEqual(m.shape.covariance[0], 0.49 + 0.01, accuracy: 0.08)
  }

  func testBaseChoiceTakesAMixtureOnlyWhenHeldOutRowsSaySo() {
    let fitter = ClassFitter(settings: ObjectiveSettings(), heldoutFraction: 0.2, refit: false, d: 2)
    let folds = (0..<5).map { f in stride(from: f, to: 300, by: 5).map { $0 } }
    let training = folds.map { v in (0..<300).filter { !v.contains($0) } }
    var rng = TrainerRandom(seed: 2)
    let bimodal = fitter.chooseBase(rows(300, bimodal: true), training: training, validation: folds, rng: &rng)
    XCTAssertGreaterThanOrEqual(bimodal.components, 2)
    let single = fitter.chooseBase(rows(300, bimodal: false), training: training, validation: folds, rng: &rng)
    XCTAssertEqual(single.components, 1)
  }

  func testPairedGainMustExceedTheGivenStandardErrors() {
    // 400 paired differences with mean 0.1 and spread 1: about 2 standard errors (0.05).
    var rng = TrainerRandom(seed: 5)
    let noise = (0..<400).map { _ in rng.gaussian() }
    let m = noise.reduce(0, +) / 400
    let diff = noise.map { $0 - m + 0.1 }
    XCTAssertTrue(ClassFitter.clearlyPositive(diff, standardErrors: 1))
    XCTAssertFalse(ClassFitter.clearlyPositive(diff, standardErrors: 3))
    XCTAssertFalse(ClassFitter.clearlyPositive(diff.map { -$0 }, standardErrors: 0), "a loss is never a gain")
    XCTAssertFalse(ClassFitter.clearlyPositive([1], standardErrors: 0), "one row is no evidence")
  }

  func testAMixtureThatBarelyBeatsTheGaussianDoesNotReplaceIt() {
    // Two overlapping blobs (±0.8, within-blob spread 0.7): a mixture fits the held-out rows a
    // little better than one Gaussian, by a few standard errors at most. The stricter the
    // paired test, the likelier the Gaussian stays; a clear bimodal class still gets a mixture.
    var x: [Float] = []
    var rng = TrainerRandom(seed: 6)
    for i in 0..<300 { x += [Float((i % 2 == 0 ? 0.8 : -0.8) + 0.7 * rng.gaussian()), Float(0.7 * rng.gaussian())] }
    let folds = (0..<5).map { f in stride(from: f, to: 300, by: 5).map { $0 } }
    let training = folds.map { v in (0..<300).filter { !v.contains($0) } }
    var strict = ObjectiveSettings()
    strict.baseStandardErrors = 1000
    let fitter = ClassFitter(settings: strict, heldoutFraction: 0.2, refit: false, d: 2)
    var r1 = TrainerRandom(seed: 2)
    XCTAssertEqual(fitter.chooseBase(x, training: training, validation: folds, rng: &r1).components, 1)
    var r2 = TrainerRandom(seed: 2)
    let relaxed = ClassFitter(settings: ObjectiveSettings(), heldoutFraction: 0.2, refit: false, d: 2)
    XCTAssertGreaterThanOrEqual(
      relaxed.chooseBase(rows(300, bimodal: true), training: training, validation: folds, rng: &r2).components, 2)
  }

  func testUselessNetworkOutputsGetScaleZero() {
    // Network outputs on held-out rows drawn like those on base draws: no evidence of a gain.
    var rng = TrainerRandom(seed: 4)
    let held = [(0..<40).map { _ in rng.gaussian() }]
    let draws = [(0..<4000).map { _ in rng.gaussian() }]
    let s = ClassFitter.bestScale(held: held, draws: draws)
    XCTAssertFalse(s > 0 && ClassFitter.clearGain(held: held, draws: draws, scale: s))
    // Outputs clearly higher on held-out rows than on base draws: a real gain, kept.
    let better = [(0..<40).map { _ in 1 + 0.3 * rng.gaussian() }]
    let t = ClassFitter.bestScale(held: better, draws: draws)
    XCTAssertGreaterThan(t, 0.5)
    XCTAssertTrue(ClassFitter.clearGain(held: better, draws: draws, scale: t))
  }

  func testHeldOutLikelihoodIsNeverBelowTheBase() {
    var settings = ObjectiveSettings()
    settings.hidden = [16, 16]
    settings.epochs = 80
    settings.networkMinRows = 1
    let fitter = ClassFitter(settings: settings, heldoutFraction: 0.2, refit: false, d: 2)
    for bimodal in [false, true] {
      var rng = TrainerRandom(seed: 7)
      let fit = fitter.fit(rows(120, bimodal: bimodal), count: 120, rng: &rng) { _, _, _, _, _ in }
      XCTAssertEqual(fit.heldout.count, 120, "cross-fitted: every row held out once")
      XCTAssertGreaterThanOrEqual(fit.heldoutLL, fit.heldoutBaseLL - 1e-9)
      XCTAssertTrue((0...1).contains(fit.scale))
    }
  }

  /// A class shipped with a network has a normalised energy: E_{x∼base}[e^{E_base(x) − E(x)}] = 1
  /// (the normaliser is folded into the network's last bias), checked on the runtime's energies.
  func testShippedEnergyIsNormalised() throws {
    var settings = ObjectiveSettings()
    settings.hidden = [16, 16]
    settings.epochs = 120
    settings.networkMinRows = 1
    settings.selectScale = false
    settings.normalizerDraws = 20000
    let fitter = ClassFitter(settings: settings, heldoutFraction: 0.2, refit: false, d: 2)
    var rng = TrainerRandom(seed: 8)
    let fit = fitter.fit(rows(200, bimodal: true), count: 200, rng: &rng) { _, _, _, _, _ in }
    let net = try XCTUnwrap(fit.net)
    let spec = ModelSpec(
      target: "y", features: [FeatureSpec(name: "a", kind: .numeric), FeatureSpec(name: "b", kind: .numeric, slotOffset: 1)],
      classes: [
        ClassSpec(
          label: "c", prior: 1, layers: net.layerSpecs(), output: .logOdds, base: fit.base.baseSpec,
          networkScale: Float(fit.scale))
      ])
    let energy = try EnergyModel(EmberModel(bytes: ModelWriter.serialize(spec)))
    let m = 40000
    var draws = [Float](repeating: 0, count: m * 2)
    var other = TrainerRandom(seed: 99)
    draws.withUnsafeMutableBufferPointer { fit.base.sample(m, into: $0.baseAddress!, rng: &other) }
    let e = energy.energies(draws)
    let logBase = fit.base.logDensity(draws)
    var total = 0.0
    for i in 0..<m { total += exp(-Double(e[i]) - logBase[i]) }
    XCTAssertEqual(log(total / Double(m)), 0, accuracy: 0.1)
  }
}

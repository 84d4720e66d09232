import EmberFormat
import XCTest
@testable import EmberRuntime

/// Chains that start from the base at temperature T: draws with each component's covariance
/// × T, independence Metropolis–Hastings with log weight (E_base − E)/T.
final class TemperedBaseTests: XCTestCase {
  func model(_ classes: [ClassSpec]) throws -> EnergyModel {
    try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(ModelSpec(target: "y", features: TestModels.features(2), classes: classes))))
  }

  /// Rows of class 0 (n × 2, as doubles).
  func rows(_ energy: EnergyModel, _ s: SamplerDefaults, count: Int, seed: UInt64 = 1) throws -> [Double] {
    var out: [Float] = []
    _ = try Sampler(energy).run(classIndex: 0, count: count, seed: seed, settings: s) { b, _ in out += b; return true }
    return out.map(Double.init)
  }

  func moments(_ x: [Double], column j: Int, where keep: (Double) -> Bool = { _ in true }) -> (mean: Double, variance: Double, n: Int) {
    let v = stride(from: j, to: x.count, by: 2).map { x[$0] }.enumerated().filter { keep(x[$0.offset * 2]) }.map(\.element)
    let mean = v.reduce(0, +) / Double(v.count)
    let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)
    return (mean, variance, v.count)
  }

  /// Base draws (no proposals, no steps) from N((1, −2), diag(0.25, 4)) at T have covariance
  /// T·Σ and the same mean. Tolerances: 5 standard errors of n = 20,000 independent draws
  /// (variance: σ²·√(2/(n−1)); mean: σ/√n).
  func testTemperedBaseDrawsHaveCovarianceTimesT() throws {
    let energy = try model([
      ClassSpec(label: "g", prior: 1, base: GaussianBaseSpec(means: [1, -2], logWeights: [0], precision: [4, 0, 0, 0.25], logDetCovariance: 0))
    ])
    let n = 20_000
    for t: Float in [0.5, 1, 2] {
      let s = SamplerDefaults(kind: .langevin, steps: 0, stepSize: 0.01, temperature: t, initNoise: 0, initialization: .base)
      let x = try rows(energy, s, count: n)
      for (j, (mu, sigma2)) in [(1.0, 0.25), (-2.0, 4.0)].enumerated() {
        let m = moments(x, column: j)
        let v = Double(t) * sigma2
        XCTAssertEqual(m.variance, v, accuracy: 5 * v * (2 / Double(n - 1)).squareRoot(), "T \(t), column \(j)")
        XCTAssertEqual(m.mean, mu, accuracy: 5 * (v / Double(n)).squareRoot(), "T \(t), column \(j)")
      }
    }
  }

  /// With a one-component base N(0, I) and a linear network term r(x) = x₀ (E = E_base − x₀),
  /// e^{−E/T} is N((1, 0), T·I): the mean does not move with T, the variance does. Dividing the
  /// log weight by T is what keeps the mean at 1 (without it the chain would target
  /// N((T, 0), T·I)). 8,000 chains of 100 proposals; tolerances: 5 standard errors plus 0.03
  /// for a chain not yet at equilibrium (the T = 1 test of the same tilt needs 0.08 at 4,000).
  func testTemperedIndependenceProposalsTargetTheEnergyAtT() throws {
    let energy = try model([
      ClassSpec(
        label: "t", prior: 1, layers: [DenseLayerSpec(inputs: 2, outputs: 1, activation: .identity, weights: [1, 0], bias: [0])],
        output: .logOdds, base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [1, 0, 0, 1], logDetCovariance: 0))
    ])
    let n = 8000
    for t: Float in [0.5, 0.7] {
      let s = SamplerDefaults(kind: .langevin, steps: 0, stepSize: 0.01, temperature: t, initNoise: 0, initialization: .base, proposals: 100)
      let x = try rows(energy, s, count: n)
      let se = (Double(t) / Double(n)).squareRoot()
      let c0 = moments(x, column: 0)
      let c1 = moments(x, column: 1)
      XCTAssertEqual(c0.mean, 1, accuracy: 5 * se + 0.03, "T \(t)")
      XCTAssertEqual(c1.mean, 0, accuracy: 5 * se, "T \(t)")
      XCTAssertEqual(c0.variance, Double(t), accuracy: 5 * Double(t) * (2 / Double(n)).squareRoot() + 0.03, "T \(t)")
      XCTAssertEqual(c1.variance, Double(t), accuracy: 5 * Double(t) * (2 / Double(n)).squareRoot(), "T \(t)")
    }
  }

  /// A two-component shared-covariance mixture at T: components keep their means and weights,
  /// each component's covariance is × T. Means (−6, 0) and (6, 0) (weights ¼, ¾), Σ = I, T = ¼;
  /// 20,000 draws, 5 standard errors.
  func testTemperedMixtureDrawsKeepMeansAndWeightsAndScaleEachComponent() throws {
    let energy = try model([
      ClassSpec(
        label: "m", prior: 1,
        base: GaussianBaseSpec(
          means: [-6, 0, 6, 0], logWeights: [Float(Double.log(0.25)), Float(Double.log(0.75))], precision: [1, 0, 0, 1],
          logDetCovariance: 0))
    ])
    let n = 20_000
    let s = SamplerDefaults(kind: .langevin, steps: 0, stepSize: 0.01, temperature: 0.25, initNoise: 0, initialization: .base)
    let x = try rows(energy, s, count: n)
    let right = moments(x, column: 0, where: { $0 > 0 })
    XCTAssertEqual(Double(right.n) / Double(n), 0.75, accuracy: 5 * (0.75 * 0.25 / Double(n)).squareRoot())
    XCTAssertEqual(right.mean, 6, accuracy: 5 * (0.25 / Double(right.n)).squareRoot())
    XCTAssertEqual(right.variance, 0.25, accuracy: 5 * 0.25 * (2 / Double(right.n)).squareRoot())
    let left = moments(x, column: 0, where: { $0 < 0 })
    XCTAssertEqual(left.mean, -6, accuracy: 5 * (0.25 / Double(left.n)).squareRoot())
    XCTAssertEqual(left.variance, 0.25, accuracy: 5 * 0.25 * (2 / Double(left.n)).squareRoot())
    XCTAssertEqual(moments(x, column: 1).variance, 0.25, accuracy: 5 * 0.25 * (2 / Double(n)).squareRoot())
  }

  /// Tempered, filtered chains from a mixture base with a network: the same rows for any
  /// thread count and block size, and other rows than at T = 1.
  func testTemperedRowsAreTheSameForAnyThreadCountAndBlockSize() throws {
    let energy = try EnergyModel(try TestModels.mixed())
    let lse = energy.model.classes.firstIndex { $0.label == "lse" }!
    func draw(_ t: Float, _ threads: Int, _ block: Int) throws -> [Float] {
      let s = SamplerDefaults(kind: .langevin, steps: 3, stepSize: 0.01, temperature: t, initNoise: 0, gradClip: 50, initialization: .base, proposals: 20)
      var out: [Float] = []
      _ = try Sampler(energy, blockSize: block).run(
        classIndex: lse, count: 301, seed: 9, settings: s, threads: threads, filter: .balanced) { b, _ in out += b; return true }
      return out
    }
    let reference = try draw(0.6, 1, 256)
    XCTAssertEqual(try draw(0.6, 2, 256), reference)
    XCTAssertEqual(try draw(0.6, 2, 7), reference)
    XCTAssertNotEqual(try draw(1, 1, 256), reference)
  }
}

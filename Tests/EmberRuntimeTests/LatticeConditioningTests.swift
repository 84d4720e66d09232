import EmberFormat
import XCTest

@testable import EmberRuntime

/// Conditioning on exact values takes a base's recorded lattice variance back out of its
/// covariance (Sheppard's correction, ``EnergyModel/withoutLatticeVariance()``); scoring does not.
final class LatticeConditioningTests: XCTestCase {
  /// x numeric (z = x), n integer with std 0.5 (z = 2n: lattice spacing 2, variance 4/12 = ⅓);
  /// one base-only Gaussian class with covariance S = [[1, 0.6], [0.6, 1]] (P = S⁻¹ exact in
  /// binary), recording `lattice` as its lattice variance.
  func model(lattice: [Float]) throws -> EmberSession {
    let spec = ModelSpec(
      target: "y",
      features: [
        FeatureSpec(name: "x", kind: .numeric, mean: 0, std: 1, min: -10, max: 10, slotOffset: 0),
        FeatureSpec(name: "n", kind: .integer, mean: 0, std: 0.5, min: -5, max: 5, slotOffset: 1),
      ],
      classes: [
        ClassSpec(
          label: "only", prior: 1,
          base: GaussianBaseSpec(
            means: [0, 0], logWeights: [0], precision: [1.5625, -0.9375, -0.9375, 1.5625],
            logDetCovariance: Double.log(0.64), latticeVariance: lattice))
      ])
    return try EmberSession(EmberModel(bytes: ModelWriter.serialize(spec)))
  }

  /// The point imputation of x given n = 1 (z = 2): with no network it is the base's
  /// conditional mean exactly (the control variate cancels the chains' noise). The same with
  /// the class given and unknown (the model's one class then has posterior 1).
  func imputedX(_ session: EmberSession) throws -> Float {
    let row: [Float] = [0, 2]
    let missing = [true, false]
    var out = [Float](repeating: 0, count: 2)
    var unknown = [Float](repeating: 0, count: 2)
    _ = try session.impute(rows: row, missing: missing, classes: [0], count: 1, draws: nil, seed: 3, into: &out)
    _ = try session.impute(rows: row, missing: missing, classes: nil, count: 1, draws: nil, seed: 3, into: &unknown)
    XCTAssertEqual(out[1], 2, "the observed cell is kept")
    XCTAssertEqual(unknown, out)
    return out[0]
  }

  func testTheConditionalMeanGivenAnExactLatticeValueIsTheCorrectedClosedForm() throws {
    // E[x | z] = S_xz / (S_zz − ⅓) · z = 0.6 / (2/3) · 2 = 1.8.
    XCTAssertEqual(try imputedX(model(lattice: [0, Float(1) / 3])), 1.8, accuracy: 1e-4)
    // Without a recorded lattice variance: the base as it is, 0.6 / 1 · 2 = 1.2.
    XCTAssertEqual(try imputedX(model(lattice: [])), 1.2, accuracy: 1e-4)
  }

  func testACorrectionThatIsNotPositiveDefiniteIsHalvedUntilItIs() throws {
    // S − t·diag(0, 2) is positive definite first at t = ¼: S_zz = 0.5, E[x | z] = 0.6 / 0.5 · 2.
    XCTAssertEqual(try imputedX(model(lattice: [0, 2])), 2.4, accuracy: 1e-4)
  }

  func testGivenDrawsFollowTheCorrectedConditional() throws {
    let session = try model(lattice: [0, Float(1) / 3])
    let conditions = try ConditionSet(model: session.model, conditions: [RowCondition.parse("n=1", source: "given")])
    var xs: [Double] = []
    _ = try session.sampleConditional(classIndex: 0, count: 2000, seed: 5, conditions: conditions) { rows, n in
      for i in 0..<n {
        XCTAssertEqual(rows[i * 2 + 1], 2)
        xs.append(Double(rows[i * 2]))
      }
      return true
    }
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)
    // Mean 1.8 (standard error √(0.46/2000) ≈ 0.015), variance 1 − 0.36/(2/3) = 0.46.
    XCTAssertEqual(mean, 1.8, accuracy: 0.06)
    XCTAssertEqual(variance, 0.46, accuracy: 0.05)
  }

  func testScoringIgnoresTheLatticeVariance() throws {
    let plain = try model(lattice: [])
    let lattice = try model(lattice: [0, Float(1) / 3])
    let rows: [Float] = [0, 0, 1.5, -2, -3, 4, 0.25, 0.5]
    XCTAssertEqual(plain.energy.energies(rows), lattice.energy.energies(rows))
    XCTAssertTrue(plain.conditioning() === plain.energy, "nothing recorded: the same energies")
    XCTAssertFalse(lattice.conditioning() === lattice.energy)
    // The corrected base's energy of a row: −log N(x; 0, S − diag(0, ⅓)).
    let e = lattice.conditioning().energies([1, 2])[0]
    let det = 1.0 * (2.0 / 3) - 0.36
    let quad = (1.0 * (2.0 / 3) - 2 * 0.6 * 1 * 2 + 1 * 4) / det
    XCTAssertEqual(Double(e), 0.5 * quad + 0.5 * Double.log(det) + Double.log(2 * Double.pi), accuracy: 1e-4)
  }
}

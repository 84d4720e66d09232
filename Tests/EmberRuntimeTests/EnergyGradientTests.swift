import EmberFormat
import XCTest
@testable import EmberRuntime

final class EnergyGradientTests: XCTestCase {
  func testInputGradientMatchesCentralFiniteDifferencesForEveryLayerKindOutputAndBase() throws {
    let model = try TestModels.mixed()
    let energy = try EnergyModel(model)
    var rng = RandomSource(seed: 9)
    let d = energy.width
    let n = 5
    let rows = (0..<(n * d)).map { _ in rng.nextNormalFloat() }
    for c in 0..<energy.classCount {
      let (e, g) = energy.energyAndGradient(classIndex: c, rows: rows)
      XCTAssertTrue(e.allSatisfy(\.isFinite))
      for r in 0..<n {
        for j in 0..<d {
          // Double-precision reference by perturbing one coordinate (h chosen for Float).
          let h: Float = 1e-2
          var plus = Array(rows[(r * d)..<(r * d + d)])
          var minus = plus
          plus[j] += h
          minus[j] -= h
          let ep = energy.energies(plus)[c]
          let em = energy.energies(minus)[c]
          let fd = (ep - em) / (2 * h)
          let tol = 2e-2 * max(1, abs(fd))
          XCTAssertEqual(g[r * d + j], fd, accuracy: tol, "class \(model.classes[c].label) row \(r) coord \(j)")
        }
      }
    }
  }

  func testEnergiesDoNotDependOnBatchComposition() throws {
    let model = try TestModels.mixed(d: 9, hidden: 33)
    let energy = try EnergyModel(model)
    var rng = RandomSource(seed: 3)
    let n = 37
    let rows = (0..<(n * energy.width)).map { _ in rng.nextNormalFloat() }
    let all = energy.energies(rows)
    for r in [0, 5, 36] {
      let one = energy.energies(Array(rows[(r * energy.width)..<((r + 1) * energy.width)]))
      XCTAssertEqual(one, Array(all[(r * energy.classCount)..<((r + 1) * energy.classCount)]))
    }
  }

  func testGaussianBaseEnergyEqualsTheNegativeLogDensity() throws {
    // One component, identity precision, log det 0: E = ½‖x−m‖² + (d/2) log 2π.
    let d = 3
    let spec = ModelSpec(
      target: "y", features: TestModels.features(d),
      classes: [ClassSpec(label: "a", prior: 1, base: GaussianBaseSpec(means: [1, 2, 3], logWeights: [0], precision: [1, 0, 0, 0, 1, 0, 0, 0, 1], logDetCovariance: 0))])
    let energy = try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(spec)))
    let e = energy.energies([1, 2, 5])[0]
    XCTAssertEqual(Double(e), 0.5 * 4 + 1.5 * Double.log(2 * Double.pi), accuracy: 1e-5)
  }

  func testNonPositiveDefinitePrecisionIsRefusedByTheValidatorNotTrapped() throws {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [ClassSpec(label: "a", prior: 1, base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [1, 2, 2, 1], logDetCovariance: 0))])
    XCTAssertThrowsError(try ModelWriter.serialize(spec)) { error in
      let e = error as? EmberFormatError
      XCTAssertEqual(e?.code, .invalidDescription)
      XCTAssertEqual(e?.location, "class 0 \"a\" base precision")
      XCTAssertTrue(e?.message.contains("not positive definite") ?? false, "\(error)")
    }
  }
}

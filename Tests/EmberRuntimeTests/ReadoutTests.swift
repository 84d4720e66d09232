import EmberFormat
import XCTest
@testable import EmberRuntime

final class ReadoutTests: XCTestCase {
  func model(readout: StackedReadout?) throws -> EnergyModel {
    let classes = (0..<2).map { i in
      ClassSpec(label: "c\(i)", prior: 0.5, base: GaussianBaseSpec(means: [Float(i), 0], logWeights: [0], precision: [1, 0, 0, 1], logDetCovariance: 0))
    }
    let spec = ModelSpec(target: "y", features: TestModels.features(2), classes: classes, readout: readout)
    return try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(spec)))
  }

  func testWithoutAStackedReadoutPosteriorsAreTheEnergySoftmax() throws {
    let m = try model(readout: nil)
    let e = m.energies([0.2, 0.1])
    var p: [Float] = [0, 0]
    let best = p.withUnsafeMutableBufferPointer { EnergyReadout(m).posteriors(e, row: nil, into: $0.baseAddress!) }
    XCTAssertEqual(best, 0)
    XCTAssertEqual(Double(p[0]), 1 / (1 + exp(Double(e[0] - e[1]))), accuracy: 1e-6)
  }

  func testAStackedReadoutReplacesTemperaturePriorsAndOffsets() throws {
    // logit_0 = −(−E_0) ... here: logit_c = Σ_k W[c][k]·(−E_k) + b_c with W swapping the classes.
    let m = try model(readout: StackedReadout(weights: [0, 1, 1, 0], bias: [0.5, -0.5]))
    let e = m.energies([0.2, 0.1])
    var p: [Float] = [0, 0]
    let best = p.withUnsafeMutableBufferPointer { EnergyReadout(m).posteriors(e, row: nil, into: $0.baseAddress!) }
    let l0 = Double(-e[1] + 0.5)
    let l1 = Double(-e[0] - 0.5)
    XCTAssertEqual(best, l0 > l1 ? 0 : 1)
    XCTAssertEqual(Double(p[0]), 1 / (1 + exp(l1 - l0)), accuracy: 1e-6)
    // Without the biases, swapping the classes picks the class of higher energy.
    let swapped = try model(readout: StackedReadout(weights: [0, 1, 1, 0], bias: [0, 0]))
    let best2 = p.withUnsafeMutableBufferPointer { EnergyReadout(swapped).posteriors(e, row: nil, into: $0.baseAddress!) }
    XCTAssertLessThan(e[0], e[1])
    XCTAssertEqual(best2, 1)
  }

  func testInputWeightsAddALinearTermOnTheEncodedRow() throws {
    // logit_c = Σ_k W[c][k]·(−E_k) + Σ_i V[c][i]·x_i + b_c.
    let v: [Float] = [2, -1, -3, 0.5]
    let m = try model(readout: StackedReadout(weights: [1, 0, 0, 1], bias: [0, 0], inputWeights: v))
    let x: [Float] = [0.2, 0.1]
    let e = m.energies(x)
    var p: [Float] = [0, 0]
    let best = x.withUnsafeBufferPointer { xp in
      p.withUnsafeMutableBufferPointer { EnergyReadout(m).posteriors(e, row: xp.baseAddress!, into: $0.baseAddress!) }
    }
    let l0 = Double(-e[0] + v[0] * x[0] + v[1] * x[1])
    let l1 = Double(-e[1] + v[2] * x[0] + v[3] * x[1])
    XCTAssertEqual(best, l0 > l1 ? 0 : 1)
    XCTAssertEqual(Double(p[0]), 1 / (1 + exp(l1 - l0)), accuracy: 1e-6)
    // The linear term moves the answer: without it the lower-energy class wins.
    XCTAssertLessThan(e[0], e[1])
    XCTAssertEqual(best, 0)
  }
}

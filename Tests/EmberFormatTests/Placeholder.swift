import XCTest
import EmberFormat

final class SmokeRoundTripTests: XCTestCase {
  func testWriteThenLoadGivesTheSameSpec() throws {
    let d = 3
    let spec = ModelSpec(
      provenance: Provenance(producer: "test", seed: 7),
      target: "y",
      features: [
        FeatureSpec(name: "a", kind: .numeric, mean: 1, std: 2, min: -1, max: 3, slotOffset: 0),
        FeatureSpec(name: "c", kind: .categorical, categories: ["x", "y"], slotOffset: 1, slotCount: 2),
      ],
      classes: [
        ClassSpec(
          label: "k", prior: 1, trainRows: 5,
          layers: [
            DenseLayerSpec(inputs: d, outputs: 2, activation: .silu, weights: [1, 2, 3, 4, 5, 6], bias: [0.5, -0.5]),
            DenseLayerSpec(inputs: 2, outputs: 1, activation: .identity, weightType: .float16, weights: [0.25, -2], bias: [1]),
          ],
          base: GaussianBaseSpec(means: [0, 0, 0], logWeights: [0], precision: [1, 0, 0, 0, 1, 0, 0, 0, 1], logDetCovariance: 0),
          calibration: Calibration(levels: [0, 0.5, 1], quantiles: [1, 2, 3], threshold: 2.9, rows: 10),
          sampler: .tabebm, startingRows: [1, 0, 1, 0, 1, 0]),
      ],
      metadata: ["b": "2", "a": "1"])
    let bytes = try ModelWriter.serialize(spec)
    XCTAssertEqual(bytes.count % 64, 0)
    let model = try EmberModel(bytes: bytes)
    XCTAssertEqual(model.spec(), spec)
    var corrupted = bytes
    corrupted[bytes.count - 200] ^= 1
    XCTAssertThrowsError(try EmberModel(bytes: corrupted))
  }
}

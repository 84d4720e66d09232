import XCTest

import EmberFormat

/// Each semantic rule, broken in a file that is structurally sound and correctly checksummed,
/// gives `.invalid` with the place it concerns. The same rules refuse the spec in the writer.
final class ValidationTests: XCTestCase {
  /// Writes `spec` without the writer's checks and asserts that loading refuses it (and that the
  /// checked writer refuses the spec with the same location).
  func assertInvalid(
    _ spec: ModelSpec, at location: String, message: String? = nil, file: StaticString = #filePath, line: UInt = #line
  ) {
    let v = FormatVersion.current
    do {
      let bytes = try ModelWriter.serialize(spec, version: v, minReader: FormatVersion(major: v.major, minor: 0), validating: false)
      let e = assertFormatError(try EmberModel(bytes: bytes), .invalid, locationContains: location, messageContains: message, file: file, line: line)
      let w = assertFormatError(try ModelWriter.serialize(spec), .invalidDescription, file: file, line: line)
      XCTAssertEqual(w?.location, e?.location, "writer and reader disagree", file: file, line: line)
    } catch {
      XCTFail("unchecked serialisation failed: \(error)", file: file, line: line)
    }
  }

  func edit(_ base: ModelSpec = TestModels.tiny(), _ change: (inout ModelSpec) -> Void) -> ModelSpec {
    var s = base
    change(&s)
    return s
  }

  // MARK: networks

  func testBrokenLayerChain() {
    assertInvalid(edit { $0.classes[0].layers[1] = DenseLayerSpec(inputs: 7, outputs: 1, activation: .identity, weights: Array(repeating: 0, count: 7), bias: [0]) },
                  at: "class 0 \"a\" layer 1 inputs", message: "expected 8")
  }

  func testWrongInputWidth() {
    assertInvalid(edit { $0.classes[0].layers[0] = DenseLayerSpec(inputs: 3, outputs: 8, activation: .silu, weights: Array(repeating: 0, count: 24), bias: Array(repeating: 0, count: 8)) },
                  at: "class 0 \"a\" layer 0 inputs", message: "expected 2")
  }

  func testWeightAndBiasCounts() {
    assertInvalid(edit { $0.classes[0].layers[0].weights.removeLast() }, at: "layer 0 weights", message: "2×8")
    assertInvalid(edit { $0.classes[0].layers[1].bias.append(1) }, at: "layer 1 bias")
  }

  func testNonFiniteWeightsAndBiases() {
    assertInvalid(edit { $0.classes[0].layers[0].weights[3] = .nan }, at: "class 0 \"a\" layer 0 weights", message: "weight 3")
    assertInvalid(edit { $0.classes[0].layers[1].weights[0] = -.infinity }, at: "layer 1 weights")
    assertInvalid(edit { $0.classes[0].layers[0].bias[7] = .nan }, at: "layer 0 bias", message: "bias 7")
    assertInvalid(edit { $0.classes[0].layers[0].weightType = .float16; $0.classes[0].layers[0].weights[1] = .nan }, at: "layer 0 weights", message: "weight 1")
    assertInvalid(edit { $0.classes[0].layers[0].weightType = .float16; $0.classes[0].layers[0].weights[2] = .infinity }, at: "layer 0 weights")
  }

  func testOutputWidthMustMatchTheOutputMode() {
    assertInvalid(edit(TestModels.fp16()) { $0.classes[1].output = .logOdds }, at: "class 1 \"no\" network output")
    assertInvalid(edit(TestModels.fp16()) { $0.classes[0].output = .scalar }, at: "class 0 \"yes\" network output")
  }

  func testBadOutputWidth() {
    assertInvalid(edit { $0.classes[0].layers = [DenseLayerSpec(inputs: 2, outputs: 0, activation: .identity, weights: [], bias: [])] }, at: "layer 0 outputs")
  }

  func testAClassNeedsANetworkOrABase() {
    assertInvalid(edit { $0.classes[0].layers = []; $0.classes[0].base = nil }, at: "class 0 \"a\"", message: "network, a base")
  }

  // MARK: model level

  func testZeroClassesAndZeroFeatures() {
    assertInvalid(edit { $0.classes = [] }, at: "classes", message: "no classes")
    assertInvalid(edit { $0.features = [] }, at: "features", message: "no features")
  }

  func testTemperature() {
    assertInvalid(edit { $0.temperature = 0 }, at: "temperature")
    assertInvalid(edit { $0.temperature = .nan }, at: "temperature")
  }

  func testClassLabelsAndPriors() {
    assertInvalid(edit(TestModels.fp16()) { $0.classes[1].label = "yes" }, at: "class 1 \"yes\"", message: "duplicate")
    assertInvalid(edit { $0.classes[0].label = "" }, at: "class 0 label")
    assertInvalid(edit { $0.classes[0].prior = 0 }, at: "class 0 \"a\" prior")
    assertInvalid(edit { $0.classes[0].prior = 1.5 }, at: "prior")
    assertInvalid(edit { $0.classes[0].prior = .nan }, at: "prior")
    assertInvalid(edit { $0.classes[0].networkScale = .infinity }, at: "class 0 \"a\"")
    assertInvalid(edit { $0.classes[0].offset = .nan }, at: "class 0 \"a\"")
  }

  // MARK: features

  func testFeatureRules() {
    assertInvalid(edit { $0.features[1].name = "x1" }, at: "feature 1 \"x1\"", message: "duplicate")
    assertInvalid(edit { $0.features[1].name = "" }, at: "feature 1 name")
    assertInvalid(edit { $0.features[1].std = 0 }, at: "feature 1 \"x2\" std")
    assertInvalid(edit { $0.features[0].mean = .nan }, at: "feature 0 \"x1\" mean")
    assertInvalid(edit { $0.features[0].max = .infinity }, at: "feature 0 \"x1\" max")
    assertInvalid(edit { $0.features[0].imputeValue = .nan }, at: "impute_value")
    assertInvalid(edit { $0.features[0].min = 10 }, at: "feature 0 \"x1\" min", message: "exceeds")
    assertInvalid(edit { $0.features[1].slotOffset = 2 }, at: "feature 1 \"x2\" slot_offset", message: "expected 1")
    assertInvalid(edit { $0.features[1].categories = ["u"] }, at: "feature 1 \"x2\" categories")
    assertInvalid(edit { $0.features[1].slotCount = 2 }, at: "feature 1 \"x2\" slot_count", message: "1 slot")
  }

  func testCategoricalRules() {
    let m = TestModels.mixture()
    assertInvalid(edit(m) { $0.features[1].categories.append("Extra") }, at: "feature 1 \"island\" slot_count")
    assertInvalid(edit(m) { $0.features[1].categories[2] = "Dream" }, at: "feature 1 \"island\" categories", message: "duplicate")
    assertInvalid(edit(m) { $0.features[1].imputeValue = 3 }, at: "feature 1 \"island\" impute_value")
    assertInvalid(edit(m) { $0.features[1].imputeValue = 0.5 }, at: "impute_value")
    assertInvalid(edit(m) { $0.features[2].categories = []; $0.features[2].slotCount = 0 }, at: "feature 2 \"sex\" categories")
  }

  // MARK: base, calibration, sampler, starting rows

  func testBaseRules() {
    assertInvalid(edit { $0.classes[0].base?.means.append(0) }, at: "class 0 \"a\" base means")
    assertInvalid(edit { $0.classes[0].base?.precision.removeLast() }, at: "base precision")
    assertInvalid(edit { $0.classes[0].base?.logWeights = [] }, at: "base log_weights")
    assertInvalid(edit { $0.classes[0].base?.logDetCovariance = .nan }, at: "base log_det_covariance")
    assertInvalid(edit { $0.classes[0].base?.means[1] = .nan }, at: "class 0 \"a\" base", message: "mean 1")
    assertInvalid(edit { $0.classes[0].base?.precision[3] = .infinity }, at: "base", message: "precision 3")
    assertInvalid(edit(TestModels.mixture()) { $0.classes[1].base?.logWeights[2] = .nan }, at: "class 1 \"Gentoo\" base", message: "log weight 2")
  }

  func testCalibrationRules() {
    assertInvalid(edit { $0.classes[0].calibration?.levels.removeLast() }, at: "class 0 \"a\" calibration", message: "levels")
    assertInvalid(edit { $0.classes[0].calibration?.threshold = .nan }, at: "calibration threshold")
    assertInvalid(edit { $0.classes[0].calibration?.levels[7] = 1.5 }, at: "calibration", message: "entry 7")
    assertInvalid(edit { $0.classes[0].calibration?.levels[3] = 0.01 }, at: "calibration", message: "order")
    assertInvalid(edit { $0.classes[0].calibration?.quantiles[4] = -100 }, at: "calibration", message: "order")
    assertInvalid(edit(TestModels.mixture()) { $0.scoreCalibration?.quantiles[1] = .nan }, at: "score_calibration")
  }

  func testSamplerRules() {
    assertInvalid(edit { $0.classes[0].sampler?.steps = 2_000_000 }, at: "class 0 \"a\" sampler steps")
    assertInvalid(edit { $0.classes[0].sampler?.stepSize = 0 }, at: "sampler step_size")
    assertInvalid(edit { $0.classes[0].sampler?.temperature = -1 }, at: "sampler temperature")
    assertInvalid(edit { $0.classes[0].sampler?.initNoise = -1 }, at: "sampler")
    assertInvalid(edit { $0.classes[0].sampler?.noiseScale = .nan }, at: "sampler noise_scale")
  }

  func testStartingRows() {
    assertInvalid(edit { $0.classes[0].startingRows?.append(1) }, at: "class 0 \"a\" starting_rows", message: "multiple")
    assertInvalid(edit { $0.classes[0].startingRows?[5] = .nan }, at: "starting_rows", message: "value 5")
  }

  // MARK: byte-patched files (values no writer emits)

  func testUnknownEnumValuesArePatchedInAndRefused() throws {
    let tiny = TestModels.tiny()
    let fp16 = TestModels.fp16()
    let mix = TestModels.mixture()
    typealias P = PayloadPatcher
    let cases: [(String, [UInt8], String)] = [
      ("activation", try P.file(tiny) { $0.setByte($0.field($0.layer(0, 0), P.Layer.activation)!, 9) }, "class 0 \"a\" layer 0 activation"),
      ("feature kind", try P.file(fp16) { $0.setByte($0.field($0.feature(0), P.Feature.kind)!, 3) }, "feature 0 \"count\" kind"),
      ("output mode", try P.file(fp16) { $0.setByte($0.field($0.network(1), P.Network.output)!, 0x7F) }, "class 1 \"no\" network output"),
      ("weight type", try P.file(fp16) { $0.setByte($0.field($0.layer(0, 2), P.Layer.weightType)!, 2) }, "class 0 \"yes\" layer 2 weight_type"),
      ("sampler kind", try P.file(mix) { $0.setByte($0.field($0.sampler(1), P.Sampler.kind)!, 0xFF) }, "class 1 \"Gentoo\" sampler kind"),
      ("chain init", try P.file(mix) { $0.setByte($0.field($0.sampler(0), P.Sampler.initialization)!, 4) }, "class 0 \"Adelie\" sampler init"),
    ]
    for (what, bytes, location) in cases {
      let e = assertFormatError(try EmberModel(bytes: bytes), .invalid, locationContains: location)
      XCTAssertTrue(e?.message.contains("unknown") ?? false, "\(what): \(e?.message ?? "")")
    }
  }

  func testPatchedCountsThatDisagreeAreRefused() throws {
    typealias P = PayloadPatcher
    // float16 layer relabelled float32: it carries the wrong weight vector.
    let retyped = try P.file(TestModels.fp16()) { $0.setByte($0.field($0.layer(1, 0), P.Layer.weightType)!, 0) }
    assertFormatError(try EmberModel(bytes: retyped), .invalid, locationContains: "class 1 \"no\" layer 0 weights", messageContains: "float16")
    let width = try P.file(TestModels.tiny()) { $0.setU32($0.field($0.root, P.Model.encodedWidth)!, 3) }
    assertFormatError(try EmberModel(bytes: width), .invalid, locationContains: "encoded_width")
    let components = try P.file(TestModels.mixture()) { $0.setU32($0.field($0.base(0), P.Base.components)!, 2) }
    assertFormatError(try EmberModel(bytes: components), .invalid, locationContains: "class 0 \"Adelie\" base log_weights")
    let slots = try P.file(TestModels.mixture()) { $0.setU32($0.field($0.feature(1), P.Feature.slotCount)!, 0xFFFF_FFFF) }
    assertFormatError(try EmberModel(bytes: slots), .invalid, locationContains: "feature 1 \"island\" slot_count")
    let outputs = try P.file(TestModels.tiny()) { $0.setU32($0.field($0.layer(0, 0), P.Layer.outputs)!, 0xFFFF_FFFF) }
    assertFormatError(try EmberModel(bytes: outputs), .invalid, locationContains: "layer 0 outputs")
    let inputs = try P.file(TestModels.tiny()) { $0.setU32($0.field($0.layer(0, 1), P.Layer.inputs)!, 0xFFFF_FFFF) }
    assertFormatError(try EmberModel(bytes: inputs), .invalid, locationContains: "layer 1 inputs")
  }

  func testANetworkWithoutLayersIsRefused() throws {
    typealias P = PayloadPatcher
    let empty = try P.file(TestModels.tiny()) { $0.setU32($0.deref($0.network(0), P.Network.layers)!, 0) }
    assertFormatError(try EmberModel(bytes: empty), .invalid, locationContains: "class 0 \"a\" network", messageContains: "no layers")
  }

  func testThePatcherItselfLeavesAValidFileValid() throws {
    let same = try PayloadPatcher.file(TestModels.full()) { _ in }
    XCTAssertEqual(try EmberModel(bytes: same).spec(), TestModels.full())
  }

  // MARK: magnitudes (defect 9 of issue 10: crafted files that make outputs non-finite)

  func testFeatureStatisticsOutsideTheFloatRangeOrTooNarrowAreRefused() {
    assertInvalid(edit { $0.features[0].std = 1e-38 }, at: "feature 0 \"x1\" std", message: "≥ 1e-12")
    assertInvalid(edit { $0.features[0].mean = 1e39 }, at: "feature 0 \"x1\" mean", message: "32-bit float range")
    assertInvalid(edit { $0.features[1].max = 1e308 }, at: "feature 1 \"x2\" max")
  }

  func testParametersBeyondWhatTheWriterProducesAreRefused() {
    assertInvalid(edit { $0.classes[0].layers[0].weights[0] = 3e38 }, at: "class 0 \"a\" layer 0 weights", message: "exceeds")
    assertInvalid(edit { $0.classes[0].layers[1].bias[0] = -2e6 }, at: "layer 1 bias")
    assertInvalid(edit { $0.classes[0].networkScale = 3e38 }, at: "class 0 \"a\" network_scale")
    assertInvalid(edit { $0.classes[0].offset = 1e7 }, at: "class 0 \"a\" offset")
    assertInvalid(edit { $0.classes[0].base!.precision = TestModels.precision(2, 3e38) }, at: "class 0 \"a\" base precision")
    assertInvalid(edit { $0.classes[0].base!.means[1] = 3e38 }, at: "class 0 \"a\" base means")
    assertInvalid(edit { $0.classes[0].base!.logDetCovariance = 1e30 }, at: "base log_det_covariance")
    assertInvalid(edit { $0.classes[0].startingRows![0] = 2e6 }, at: "class 0 \"a\" starting_rows")
    assertInvalid(edit { $0.temperature = 1e-30 }, at: "temperature")
    assertInvalid(
      edit { $0.readout = StackedReadout(weights: [3e38], bias: [0]) }, at: "readout_weights", message: "exceeds")
  }

  func testALatticeVarianceNeedsOneFiniteNonNegativeValuePerSlot() throws {
    assertInvalid(
      edit { $0.classes[0].base!.latticeVariance = [0.25] }, at: "class 0 \"a\" base lattice_variance", message: "1 lattice variances, expected 2")
    assertInvalid(edit { $0.classes[0].base!.latticeVariance = [0, -0.25] }, at: "base lattice_variance", message: "lattice variance 1 is negative")
    assertInvalid(edit { $0.classes[0].base!.latticeVariance = [.nan, 0] }, at: "base lattice_variance", message: "lattice variance 0")
    assertInvalid(edit { $0.classes[0].base!.latticeVariance = [0, 3e38] }, at: "base lattice_variance", message: "exceeds")
    let fine = edit { $0.classes[0].base!.latticeVariance = [0, 0.25] }
    XCTAssertEqual(try EmberModel(bytes: try ModelWriter.serialize(fine)).spec(), fine)
  }

  func testPrecisionMustBePositiveDefinite() {
    assertInvalid(
      edit { $0.classes[0].base!.precision = [1, 2, 2, 1] }, at: "class 0 \"a\" base precision", message: "not positive definite")
    assertInvalid(edit { $0.classes[0].base!.precision = [0, 0, 0, 1] }, at: "base precision", message: "pivot 0")
  }

  func testAnEmptyCalibrationTableIsRefused() {
    assertInvalid(
      edit { $0.scoreCalibration = Calibration(levels: [], quantiles: [], threshold: 1, rows: 0) }, at: "score_calibration",
      message: "empty")
  }

  func testSamplerSettingsBeyondTheOptionRangesAreRefused() {
    assertInvalid(edit { $0.classes[0].sampler!.initNoise = 1e30 }, at: "sampler init_noise", message: "exceeds 100")
    assertInvalid(edit { $0.classes[0].sampler!.stepSize = 1e4 }, at: "sampler step_size")
  }

  /// Each weight is within ±1e6, but four layers of them can overflow Float on inputs in the
  /// encoded box: the interval bound through the layers refuses the class.
  func testANetworkThatCanOverflowIsRefusedByItsIntervalBound() {
    let wide = { (i: Int, o: Int, a: Activation) in
      DenseLayerSpec(inputs: i, outputs: o, activation: a, weights: Array(repeating: 1e6, count: i * o), bias: Array(repeating: 0, count: o))
    }
    assertInvalid(
      edit { $0.classes[0].layers = [wide(2, 8, .relu), wide(8, 8, .relu), wide(8, 8, .relu), wide(8, 1, .identity)] },
      at: "class 0 \"a\"", message: "can overflow")
    // The same shape with ordinary weights is fine.
    var ok = TestModels.tiny()
    ok.classes[0].layers = [wide(2, 8, .relu), wide(8, 8, .relu), wide(8, 1, .identity)].map {
      var l = $0
      l.weights = l.weights.map { _ in 0.5 }
      return l
    }
    XCTAssertNoThrow(try EmberModel(bytes: try ModelWriter.serialize(ok)))
  }
}

final class StackedReadoutValidationTests: XCTestCase {
  func testReadoutShapesAndValuesAreChecked() throws {
    var spec = TestModels.full()
    spec.readout = StackedReadout(weights: [1, 2, 3], bias: [0, 0, 0])
    XCTAssertThrowsError(try ModelWriter.serialize(spec)) { e in
      XCTAssertEqual((e as? EmberFormatError)?.code, .invalidDescription)
      XCTAssertEqual((e as? EmberFormatError)?.location, "readout")
    }
    spec.readout = StackedReadout(weights: [Float](repeating: 1, count: 9), bias: [0, .nan, 0])
    XCTAssertThrowsError(try ModelWriter.serialize(spec)) { e in
      XCTAssertEqual((e as? EmberFormatError)?.location, "readout_bias")
    }
    spec.readout = nil
    XCTAssertNil(try EmberModel(bytes: try ModelWriter.serialize(spec)).readout)
  }
}

import XCTest

@testable import EmberFormat

/// Write → load → compare, over several shapes of model.
final class RoundTripTests: XCTestCase {
  func testEveryFixtureSpecRoundTrips() throws {
    for (name, spec) in TestModels.fixtures {
      let bytes = try ModelWriter.serialize(spec)
      XCTAssertEqual(bytes.count % 64, 0, name)
      let model = try EmberModel(bytes: bytes)
      XCTAssertEqual(model.spec(), spec, name)
      XCTAssertEqual(model.formatVersion, FormatVersion.current, name)
      XCTAssertEqual(model.minimumReaderVersion, FormatVersion(major: FormatVersion.current.major, minor: 0), name)
      XCTAssertEqual(model.byteCount, bytes.count, name)
      XCTAssertEqual(model.encodedWidth, spec.encodedWidth, name)
      XCTAssertEqual(model.features, spec.features, name)
      XCTAssertEqual(model.metadata, spec.metadata, name)
      XCTAssertEqual(model.provenance, spec.provenance, name)
      XCTAssertEqual(model.scoreCalibration, spec.scoreCalibration, name)
      XCTAssertEqual(model.temperature, spec.temperature, name)
      XCTAssertEqual(model.classes.count, spec.classes.count, name)
      for (c, s) in zip(model.classes, spec.classes) {
        XCTAssertEqual(c.label, s.label, name)
        XCTAssertEqual(c.parameterCount, s.parameterCount, name)
        XCTAssertEqual(c.startingRowCount(width: spec.encodedWidth), (s.startingRows?.count ?? 0) / spec.encodedWidth, name)
        XCTAssertEqual(c.output, s.layers.isEmpty ? nil : s.output, name)
        XCTAssertEqual(c.base?.components, s.base?.components, name)
        XCTAssertEqual(c.layers.map(\.weightType), s.layers.map(\.weightType), name)
      }
      for i in spec.classes.indices { XCTAssertEqual(model.classSpec(i), spec.classes[i], "\(name) class \(i)") }
      XCTAssertEqual(model.classIndex(of: spec.classes.last!.label), spec.classes.count - 1)
      XCTAssertNil(model.classIndex(of: "no such class"))
    }
  }

  func testSerialisingIsDeterministic() throws {
    for (name, spec) in TestModels.fixtures {
      XCTAssertEqual(try ModelWriter.serialize(spec), try ModelWriter.serialize(spec), name)
      // Metadata insertion order must not matter either.
      var shuffled = spec
      shuffled.metadata = [:]
      for key in spec.metadata.keys.sorted().reversed() { shuffled.metadata[key] = spec.metadata[key] }
      XCTAssertEqual(try ModelWriter.serialize(shuffled), try ModelWriter.serialize(spec), name)
    }
  }

  func testInPlaceVectorsAre64ByteAligned() throws {
    let model = try EmberModel(bytes: try ModelWriter.serialize(TestModels.full()))
    func aligned(_ p: UnsafeRawPointer?, _ what: String) {
      guard let p else { return }
      XCTAssertEqual(UInt(bitPattern: p) % 64, 0, what)
    }
    for c in model.classes {
      for l in c.layers {
        switch l.weights {
        case .float32(let p): aligned(UnsafeRawPointer(p.baseAddress), "f32 weights")
        case .float16(let p): aligned(UnsafeRawPointer(p.baseAddress), "f16 weights")
        }
        aligned(UnsafeRawPointer(l.bias.baseAddress), "bias")
      }
      aligned(UnsafeRawPointer(c.base?.means.baseAddress), "means")
      aligned(UnsafeRawPointer(c.base?.precision.baseAddress), "precision")
      aligned(UnsafeRawPointer(c.startingRows.baseAddress), "starting rows")
    }
  }

  func testFloat16WeightsAreRoundedToNearestHalf() throws {
    var spec = TestModels.tiny()
    spec.classes[0].layers[0].weightType = .float16
    let raw: [Float] = [0.1, -0.3, 1.0 / 3, 2049, 65504, -65504, 1e-8, 0.5, 6e-5, 1234.5678, -0.0, 7, 8, 9, 10, 11]
    spec.classes[0].layers[0].weights = raw
    let loaded = try EmberModel(bytes: try ModelWriter.serialize(spec)).spec()
    let got = loaded.classes[0].layers[0].weights
    for (g, r) in zip(got, raw) {
      XCTAssertEqual(g, Float(Float16(r)))
      // binary16 keeps 11 significant bits: relative error ≤ 2⁻¹¹ for normal values.
      if abs(r) >= 6.2e-5 { XCTAssertLessThanOrEqual(abs(g - r), abs(r) * 0.00049, "\(r)") }
    }
    XCTAssertEqual(got[3], 2048)  // 2049 is not representable: ties to even
    XCTAssertEqual(loaded.classes[0].layers[0].weightType, .float16)
    // The other layer is untouched.
    XCTAssertEqual(loaded.classes[0].layers[1], spec.classes[0].layers[1])
  }

  func testFloat16OverflowIsRefusedByTheWriter() {
    var spec = TestModels.tiny()
    spec.classes[0].layers[0].weightType = .float16
    spec.classes[0].layers[0].weights[5] = 70000
    assertFormatError(try ModelWriter.serialize(spec), .invalidDescription, locationContains: "layer 0 weights")
  }

  func testOptionalPartsAbsentStayAbsent() throws {
    var spec = TestModels.full()
    spec.scoreCalibration = nil
    spec.metadata = [:]
    spec.provenance = Provenance()
    for i in spec.classes.indices {
      spec.classes[i].calibration = nil
      spec.classes[i].sampler = nil
      spec.classes[i].startingRows = nil
    }
    spec.classes[1].base = nil
    let loaded = try EmberModel(bytes: try ModelWriter.serialize(spec))
    XCTAssertEqual(loaded.spec(), spec)
    XCTAssertNil(loaded.scoreCalibration)
    XCTAssertTrue(loaded.metadata.isEmpty)
    XCTAssertTrue(loaded.provenance.heldoutOODAUROC.isNaN)
    XCTAssertNil(loaded.classes[1].base)
    XCTAssertTrue(loaded.classes.allSatisfy { $0.calibration == nil && $0.sampler == nil && $0.startingRows.isEmpty })
  }

  func testEmptyStartingRowsReadBackAsAbsent() throws {
    var spec = TestModels.tiny()
    spec.classes[0].startingRows = []
    let loaded = try EmberModel(bytes: try ModelWriter.serialize(spec)).spec()
    XCTAssertNil(loaded.classes[0].startingRows)
  }

  func testExtremeScalarsRoundTrip() throws {
    var spec = TestModels.minimal()
    spec.provenance = Provenance(
      producer: String(repeating: "p", count: 5000), sourceRows: Int.max, seed: .max, created: .min,
      trainSeconds: .greatestFiniteMagnitude, heldoutBalancedAccuracy: -0.0, heldoutOODAUROC: .infinity)
    // The extremes the validator allows: raw values are 32-bit floats, std ≥ 1e-12.
    spec.features[0].min = -Double(Float.greatestFiniteMagnitude)
    spec.features[0].max = Double(Float.greatestFiniteMagnitude)
    spec.features[0].std = ModelLimits.minimumStd
    spec.features[0].missingCount = Int(UInt32.max)
    spec.classes[0].trainRows = Int(UInt32.max)
    spec.classes[0].prior = .leastNonzeroMagnitude
    spec.metadata = ["": "empty key", "k\u{0}nul": "v\u{0}nul"]
    let loaded = try EmberModel(bytes: try ModelWriter.serialize(spec)).spec()
    XCTAssertEqual(loaded, spec)
  }

  func testCountsTheFileCannotStoreAreRefusedNotTrapped() {
    var a = TestModels.tiny()
    a.classes[0].trainRows = -1
    assertFormatError(try ModelWriter.serialize(a), .invalidDescription, locationContains: "train_rows")
    var b = TestModels.tiny()
    b.features[1].missingCount = Int(UInt32.max) + 1
    assertFormatError(try ModelWriter.serialize(b), .invalidDescription, locationContains: "missing_count")
    var c = TestModels.tiny()
    c.provenance.sourceRows = -5
    assertFormatError(try ModelWriter.serialize(c), .invalidDescription, locationContains: "source_rows")
    var d = TestModels.tiny()
    d.classes[0].calibration?.rows = -1
    assertFormatError(try ModelWriter.serialize(d), .invalidDescription, locationContains: "calibration")
  }

  func testWriteToAFileAndMapItBack() throws {
    let dir = try TempDir()
    let path = dir.path + "/model.ember"
    try ModelWriter.write(TestModels.full(), to: path)
    XCTAssertEqual(try EmberModel(path: path).spec(), TestModels.full())
    // Overwriting replaces the file atomically and leaves no temporary files behind.
    try ModelWriter.write(TestModels.tiny(), to: path)
    XCTAssertEqual(try EmberModel(path: path).spec(), TestModels.tiny())
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.ember"])
  }

  func testWritingIntoAMissingDirectoryIsAnIOError() {
    assertFormatError(try ModelWriter.write(TestModels.tiny(), to: "/nonexistent-dir-ember/x.ember"), .io, locationContains: "/nonexistent-dir-ember/x.ember")
  }
}

import EmberFormat
import XCTest

@testable import EmberRuntime

/// The columnar encoder (data frames through the C API) against the session's row encoder (CSV
/// cells): the same rows encode to the same bytes with the same flags, and errors name the row
/// and the column.
final class ColumnEncoderTests: XCTestCase {
  func model() throws -> EmberModel {
    let features = [
      FeatureSpec(name: "t", kind: .numeric, imputeValue: 60, mean: 60, std: 10, min: 20, max: 100, slotOffset: 0),
      FeatureSpec(name: "n", kind: .integer, imputeValue: 5, mean: 4, std: 2, min: 0, max: 9, slotOffset: 1),
      FeatureSpec(
        name: "mode", kind: .categorical, imputeValue: 1, mean: 0, std: 1, min: 0, max: 0,
        categories: ["idle", "run", "boost"], slotOffset: 2, slotCount: 3),
    ]
    let spec = ModelSpec(
      target: "y", features: features,
      classes: [ClassSpec(label: "a", prior: 1, base: GaussianBaseSpec(means: [0, 0, 0, 0, 0], logWeights: [0],
        precision: [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], logDetCovariance: 0))])
    return try EmberModel(bytes: try ModelWriter.serialize(spec))
  }

  /// Encodes `columns` (name, numbers or (codes, levels)) with the session's column encoder;
  /// returns the encoded rows and their flags.
  func encodeWithFlags(
    _ m: EmberModel, numbers: [String: [Double]], codes: [String: ([Int32], [String])], rows n: Int,
    unknown: UnknownCategoryPolicy = .error, extra: [String] = []
  ) throws -> ([Float], [UInt32]) {
    var names: [String] = []
    var kinds: [RawColumn] = []
    var levels: [[String]] = []
    var buffers: [UnsafeMutableRawPointer] = []
    defer { buffers.forEach { $0.deallocate() } }
    for (name, values) in numbers.sorted(by: { $0.key < $1.key }) {
      let p = UnsafeMutableRawPointer.allocate(byteCount: max(8 * n, 8), alignment: 8)
      for (i, v) in values.enumerated() { p.storeBytes(of: v, toByteOffset: 8 * i, as: Double.self) }
      names.append(name)
      kinds.append(.numbers(stride: 8))
      levels.append([])
      buffers.append(p)
    }
    for (name, (c, lv)) in codes.sorted(by: { $0.key < $1.key }) {
      let p = UnsafeMutableRawPointer.allocate(byteCount: max(4 * n, 4), alignment: 4)
      for (i, v) in c.enumerated() { p.storeBytes(of: v, toByteOffset: 4 * i, as: Int32.self) }
      names.append(name)
      kinds.append(.codes(stride: 4))
      levels.append(lv)
      buffers.append(p)
    }
    for name in extra {
      let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
      p.storeBytes(of: Double.nan, as: Double.self)
      names.append(name)
      kinds.append(.numbers(stride: 0))
      levels.append([])
      buffers.append(p)
    }
    let encoder = try EmberSession(m).columnEncoder(names: names, kinds: kinds, levels: levels, unknownCategories: unknown)
    var out = [Float](repeating: .nan, count: n * m.encodedWidth)
    var flags = [UInt32](repeating: 99, count: n)
    let pointers: [UnsafeRawPointer?] = buffers.map { UnsafeRawPointer($0) }
    let strides = kinds.map { k -> Int in
      switch k {
      case .numbers(let s), .codes(let s): return s
      }
    }
    try pointers.withUnsafeBufferPointer { p in
      try strides.withUnsafeBufferPointer { s in
        try out.withUnsafeMutableBufferPointer { o in
          try flags.withUnsafeMutableBufferPointer { f in
            try encoder.encode(p.baseAddress!, strides: s.baseAddress!, rows: 0..<n, into: o.baseAddress!, flags: f.baseAddress!)
          }
        }
      }
    }
    return (out, flags)
  }

  func encode(
    _ m: EmberModel, numbers: [String: [Double]], codes: [String: ([Int32], [String])], rows n: Int,
    unknown: UnknownCategoryPolicy = .error, extra: [String] = []
  ) throws -> [Float] {
    try encodeWithFlags(m, numbers: numbers, codes: codes, rows: n, unknown: unknown, extra: extra).0
  }

  /// Rows encoded cell by cell by the session's row encoder, and their flags.
  func rowEncoded(_ m: EmberModel, _ rows: [[String]]) throws -> ([Float], [UInt32]) {
    let encoder = try EmberSession(m).encoder(header: ["t", "n", "mode"])
    var out = [Float](repeating: .nan, count: rows.count * m.encodedWidth)
    var flags: [UInt32] = []
    try out.withUnsafeMutableBufferPointer { o in
      for (i, r) in rows.enumerated() { flags.append(try encoder.encode(r, into: o.baseAddress! + i * m.encodedWidth).rawValue) }
    }
    return (out, flags)
  }

  func testColumnsEncodeLikeCells() throws {
    let m = try model()
    // Numbers with NaN (missing), text levels for the integer and the category ("NA" and -1 missing).
    let got = try encode(
      m, numbers: ["t": [70, .nan, 41.5, 60]],
      codes: ["n": ([0, 1, -1, 2], ["3", "NA", "8"]), "mode": ([2, -1, 0, 1], ["idle", "run", "boost"])], rows: 4)
    let want = try rowEncoded(m, [["70", "3", "boost"], ["", "NA", ""], ["41.5", "", "idle"], ["60", "8", "run"]])
    XCTAssertEqual(got, want.0)
    // Huge z-scores are clamped to the certified box, as the row encoder does.
    let huge = try encode(m, numbers: ["t": [3e38], "n": [1]], codes: ["mode": ([0], ["run"])], rows: 1)
    XCTAssertEqual(huge, try rowEncoded(m, [["3e38", "1", "run"]]).0)
    XCTAssertEqual(huge[0], ModelLimits.encodedMagnitude)
  }

  func testUnseenCategoriesAreMissingAndFlagTheirRows() throws {
    let m = try model()
    let (got, flags) = try encodeWithFlags(
      m, numbers: ["t": [70, 70, 70]], codes: ["n": ([0, 0, 0], ["3"]), "mode": ([0, 1, -1], ["run", "turbo"])],
      rows: 3, unknown: .missing)
    let want = try rowEncoded(m, [["70", "3", "run"], ["70", "3", "turbo"], ["70", "3", ""]])
    XCTAssertEqual(got, want.0)
    XCTAssertEqual(flags, want.1)
    XCTAssertEqual(flags, [0, RowFlags.unknownCategory.rawValue, 0])
  }

  func testFeatureColumnsNamedTwiceAreRefusedExtraColumnsIgnored() throws {
    let m = try model()
    let ok = try encode(m, numbers: ["t": [70], "n": [3]], codes: ["mode": ([0], ["run"])], rows: 1, extra: ["x", "x"])
    XCTAssertEqual(ok, try rowEncoded(m, [["70", "3", "run"]]).0)
    XCTAssertThrowsError(
      try encode(m, numbers: ["t": [70], "n": [3]], codes: ["mode": ([0], ["run"])], rows: 1, extra: ["t"])
    ) { e in
      XCTAssertEqual((e as! EmberRuntimeError).code, .missingColumns)
      XCTAssertTrue((e as! EmberRuntimeError).message.contains("appears twice"))
    }
  }

  func testErrorsNameTheRowAndTheColumn() throws {
    let m = try model()
    XCTAssertThrowsError(
      try encode(m, numbers: ["t": [1, 2, .infinity], "n": [1, 1, 1]], codes: ["mode": ([0, 0, 0], ["run"])], rows: 3)
    ) { e in
      let e = e as! EmberRuntimeError
      XCTAssertEqual(e.code, .badValue)
      XCTAssertEqual(e.location, "t")
      XCTAssertTrue(e.message.hasPrefix("row 2:"), e.message)
    }
    XCTAssertThrowsError(
      try encode(m, numbers: ["t": [1, 1e39], "n": [1, 1]], codes: ["mode": ([0, 0], ["run"])], rows: 2)
    ) { e in
      let e = e as! EmberRuntimeError
      XCTAssertTrue(e.message.hasPrefix("row 1:") && e.message.contains("32-bit float range"), e.message)
    }
    XCTAssertThrowsError(
      try encode(m, numbers: ["t": [1, 2], "n": [1, 1]], codes: ["mode": ([0, 1], ["run", "turbo"])], rows: 2)
    ) { e in
      let e = e as! EmberRuntimeError
      XCTAssertEqual(e.code, .unknownCategory)
      XCTAssertTrue(e.message.hasPrefix("row 1:"), e.message)
    }
    // An unknown level no row uses is no error; with the missing policy it is imputed.
    let quiet = try encode(m, numbers: ["t": [1], "n": [1]], codes: ["mode": ([0], ["run", "turbo"])], rows: 1)
    XCTAssertEqual(Array(quiet[2...]), [0, 1, 0])
    let imputed = try encode(
      m, numbers: ["t": [1], "n": [1]], codes: ["mode": ([1], ["run", "turbo"])], rows: 1, unknown: .missing)
    XCTAssertEqual(Array(imputed[2...]), [0, 1, 0])
    XCTAssertThrowsError(try encode(m, numbers: ["t": [1], "n": [1], "mode": [0]], codes: [:], rows: 1))
    XCTAssertThrowsError(try encode(m, numbers: ["t": [1]], codes: [:], rows: 1)) { e in
      XCTAssertEqual((e as! EmberRuntimeError).code, .missingColumns)
    }
  }
}

import EmberFormat
import XCTest

@testable import EmberRuntime

/// The columnar encoder (data frames through the C API) against the row encoder (CSV cells): the
/// same rows encode to the same bytes, and errors name the row and the column.
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

  /// Encodes `columns` (name, numbers or (codes, levels)) with a ColumnEncoder.
  func encode(
    _ m: EmberModel, numbers: [String: [Double]], codes: [String: ([Int32], [String])], rows n: Int,
    unknown: UnknownCategoryPolicy = .error
  ) throws -> [Float] {
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
    let encoder = try ColumnEncoder(model: m, names: names, kinds: kinds, levels: levels, unknownCategories: unknown)
    var out = [Float](repeating: .nan, count: n * m.encodedWidth)
    let pointers: [UnsafeRawPointer?] = buffers.map { UnsafeRawPointer($0) }
    let strides = kinds.map { k -> Int in
      switch k {
      case .numbers(let s), .codes(let s): return s
      }
    }
    try pointers.withUnsafeBufferPointer { p in
      try strides.withUnsafeBufferPointer { s in
        try out.withUnsafeMutableBufferPointer { o in
          try encoder.encode(p.baseAddress!, strides: s.baseAddress!, rows: 0..<n, into: o.baseAddress!)
        }
      }
    }
    return out
  }

  func rowEncoded(_ m: EmberModel, _ rows: [[String]]) throws -> [Float] {
    let encoder = try RowEncoder(model: m, header: ["t", "n", "mode"], nanIsMissing: true)
    var out = [Float](repeating: .nan, count: rows.count * m.encodedWidth)
    try out.withUnsafeMutableBufferPointer { o in
      for (i, r) in rows.enumerated() { try encoder.encode(r, into: o.baseAddress! + i * m.encodedWidth) }
    }
    return out
  }

  func testColumnsEncodeLikeCells() throws {
    let m = try model()
    // Numbers with NaN (missing), text levels for the integer and the category ("NA" and -1 missing).
    let got = try encode(
      m, numbers: ["t": [70, .nan, 41.5, 60]],
      codes: ["n": ([0, 1, -1, 2], ["3", "NA", "8"]), "mode": ([2, -1, 0, 1], ["idle", "run", "boost"])], rows: 4)
    let want = try rowEncoded(m, [["70", "3", "boost"], ["", "NA", ""], ["41.5", "", "idle"], ["60", "8", "run"]])
    XCTAssertEqual(got, want)
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

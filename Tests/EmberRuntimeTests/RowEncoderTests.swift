import EmberFormat
import EmberText
import XCTest

@testable import EmberRuntime

/// The encoder's one-pass loop over a CSV record's plain decimals (C) against its per-cell
/// steps (the path strings, C strings and every non-plain cell take): the same rows give the
/// same bytes, the same flags and the same errors.
final class RowEncoderTests: XCTestCase {
  func features() -> [FeatureSpec] {
    [
      FeatureSpec(name: "t", kind: .numeric, imputeValue: 60, mean: 60.25, std: 9.5, min: 20, max: 100, slotOffset: 0),
      FeatureSpec(
        name: "mode", kind: .categorical, imputeValue: 1, mean: 0, std: 1, min: 0, max: 0,
        categories: ["idle", "run", "boost"], slotOffset: 1, slotCount: 3),
      FeatureSpec(name: "n", kind: .integer, imputeValue: 5, mean: 4, std: 2, min: 0, max: 9, slotOffset: 4),
      FeatureSpec(name: "tiny", kind: .numeric, imputeValue: 0, mean: 0.001, std: 1e-30, min: 0, max: 1, slotOffset: 5),
    ]
  }

  /// A cell of a kind the encoder must handle: plain decimals of every shape the one-pass loop
  /// reads (and some it hands back), spaces, exponents, missing tokens, junk.
  func cell(_ rng: inout RandomSource, categorical: Bool) -> String {
    if categorical {
      return ["idle", "run", "boost", "", "NA", "walk", " run", "\"run\""][Int(rng.next() % 8)]
    }
    switch rng.next() % 12 {
    case 0: return ["", "NA", "?", "nan", "NaN", " NA "][Int(rng.next() % 6)]
    case 1: return ["1e3", "-2.5E-2", " 4.25", "7.5 ", "+3", "0x10", "inf", "abc", "1.2.3", "-", ".", "5.", ".5", "--1"][Int(rng.next() % 14)]
    case 2: return String(repeating: "9", count: Int(rng.next() % 25) + 1)  // up to 25 digits, past 2^53
    case 3: return "9007199254740993." + String(rng.next() % 10)  // 17 digits: over 2^53 with the fraction
    case 4: return "0." + String(repeating: "0", count: Int(rng.next() % 24)) + "1"  // up to 25 fraction digits
    case 5: return "\"" + String(Double(Int64(rng.next() % 2_000_000) - 1_000_000) / 1000) + "\""  // quoted
    default:
      var s = rng.next() % 2 == 0 ? "-" : ""
      for _ in 0..<Int(rng.next() % 6) { s += String(rng.next() % 10) }
      if rng.next() % 4 != 0 {
        s += "."
        for _ in 0..<Int(rng.next() % 11) { s += String(rng.next() % 10) }
      }
      return s
    }
  }

  /// Encodes every record of `text` (a header line, then rows) both ways and compares values,
  /// flags and errors. Returns the rows, those read whole by the one-pass loop's kind of cells,
  /// and those refused.
  func compareBothPaths(_ encoder: RowEncoder, _ text: String) throws -> (rows: Int, plain: Int, failed: Int) {
    let reader = CSVReader(text: text, name: "rows.csv")
    _ = try reader.next()
    var rows = 0, plain = 0, failed = 0
    while let record = try reader.next() {
      rows += 1
      var fast = [Float](repeating: .nan, count: encoder.width)
      var slow = [Float](repeating: .nan, count: encoder.width)
      let a = Result { () throws(EmberRuntimeError) in try encoder.encode(record, into: &fast) }
      let strings = try record.strings()
      let b = Result { () throws(EmberRuntimeError) in try encoder.encode(strings, into: &slow) }
      switch (a, b) {
      case (.success(let f), .success(let g)):
        XCTAssertEqual(f, g, "row \(rows): \(strings)")
        XCTAssertEqual(fast.map(\.bitPattern), slow.map(\.bitPattern), "row \(rows): \(strings)")
        // Rows the one-pass loop reads whole: every cell a category name or a plain decimal.
        if strings.allSatisfy({ s in s.contains(where: \.isNumber) && s.allSatisfy { "-.0123456789".contains($0) } || s.allSatisfy(\.isLetter) && !s.isEmpty }) {
          plain += 1
        }
      case (.failure(let e), .failure(let g)):
        XCTAssertEqual(e, g, "row \(rows): \(strings)")
        failed += 1
      default:
        XCTFail("row \(rows): \(strings): \(a) vs \(b)")
      }
    }
    return (rows, plain, failed)
  }

  func testOnePassLoopEncodesLikeTheCellSteps() throws {
    let header = ["n", "extra", "t", "mode", "tiny"]
    for policy in UnknownCategoryPolicy.allCases {
      let encoder = try RowEncoder(features: features(), header: header, unknownCategories: policy)
      var rng = RandomSource(seed: 41)
      var text = header.joined(separator: ",") + "\n"
      for _ in 0..<4_000 {
        text += header.map { cell(&rng, categorical: $0 == "mode") }.joined(separator: ",") + "\n"
      }
      text += "1,2\n"  // too few fields
      let (rows, plain, failed) = try compareBothPaths(encoder, text)
      XCTAssertEqual(rows, 4_001)
      XCTAssertGreaterThan(plain, 100)
      XCTAssertGreaterThan(failed, 100)
    }
  }

  /// Many numeric columns in another order than the features' (the loop reads them several at
  /// a time where the CPU can): mostly short plain decimals, some long, signed, clamped (a tiny
  /// std) or not plain.
  func testOnePassLoopEncodesManyColumnsLikeTheCellSteps() throws {
    let count = 19
    var specs: [FeatureSpec] = []
    for i in 0..<count {
      specs.append(
        FeatureSpec(
          name: "c\(i)", kind: .numeric, imputeValue: 0, mean: Double(i) * 0.37 - 2, std: i == 7 ? 1e-30 : 0.5 + Double(i) / 3,
          min: -1e9, max: 1e9, slotOffset: i))
    }
    let header = (0..<count).map { "c\((count - 1 - $0) * 5 % count)" } + ["extra"]
    let encoder = try RowEncoder(features: specs, header: header)
    var rng = RandomSource(seed: 7)
    var text = header.joined(separator: ",") + "\n"
    for r in 0..<3_000 {
      text += header.map { _ in
        // One row in five plain throughout; in the others a cell is of any kind one time in eight.
        r % 5 == 0 || rng.next() % 8 != 0 ? String(Double(Int64(rng.next() % 20_000_000) - 10_000_000) / 1_000_000) : cell(&rng, categorical: false)
      }.joined(separator: ",") + "\n"
    }
    let (rows, plain, failed) = try compareBothPaths(encoder, text)
    XCTAssertEqual(rows, 3_000)
    XCTAssertGreaterThan(plain, 500)
    XCTAssertGreaterThan(failed, 100)
  }

  /// The clamp to the encoded box: a z-score beyond it (here from a tiny std) is the box's edge.
  func testOnePassLoopClampsLikeTheCellSteps() throws {
    let header = ["t", "mode", "n", "tiny"]
    let encoder = try RowEncoder(features: features(), header: header)
    let reader = CSVReader(text: "t,mode,n,tiny\n1e9,run,3,0.5\n1000000000,run,3,0.5\n-1000000000.0,run,3,-0.5\n", name: "box.csv")
    _ = try reader.next()
    var outs: [[Float]] = []
    while let record = try reader.next() {
      var x = [Float](repeating: .nan, count: encoder.width)
      _ = try encoder.encode(record, into: &x)
      outs.append(x)
    }
    let limit = Float(ModelLimits.encodedMagnitude)
    XCTAssertEqual(outs[0], outs[1])  // 1e9 takes the cell steps, 1000000000 the one-pass loop
    XCTAssertEqual(outs[1][5], limit)
    XCTAssertEqual(outs[2][0], -limit)
    XCTAssertEqual(outs[2][5], -limit)
  }
}

import EmberFormat
import XCTest

@testable import EmberTrainer

final class CSVIngestTests: XCTestCase {
  func table(_ text: String) throws -> CSVTable { try CSVTable.parse(text, file: "t.csv") }

  func testInfersKindsImputesAndCounts() throws {
    var text = "a,b,c,k,y\n"
    for i in 0..<12 {
      let a = i == 3 ? "NA" : "\(Double(i) + 0.5)"
      let b = i == 4 ? "?" : "\(i % 3)"
      let c = i == 5 ? "" : (i % 2 == 0 ? "red" : "blue")
      text += "\(a),\(b),\(c),7,\(i < 6 ? "x" : "z")\n"
    }
    let data = try Preprocessor.fit(try table(text), target: "y", minClassRows: 5)
    XCTAssertEqual(data.features.map(\.kind), [.numeric, .integer, .categorical, .integer])
    XCTAssertEqual(data.features.map(\.missingCount), [1, 1, 1, 0])
    XCTAssertEqual(data.features.map(\.slotOffset), [0, 1, 2, 4])
    XCTAssertEqual(data.width, 5)
    let a = data.features[0]
    // Mean of 0.5…11.5 without 3.5.
    let values = (0..<12).filter { $0 != 3 }.map { Double($0) + 0.5 }
    XCTAssertEqual(a.mean, values.reduce(0, +) / 11, accuracy: 1e-12)
    XCTAssertEqual(a.imputeValue, a.mean, accuracy: 1e-12)
    XCTAssertEqual(a.min, 0.5)
    XCTAssertEqual(a.max, 11.5)
    // Categories sorted; the mode (red: 6 rows, blue: 5) is imputed.
    let c = data.features[2]
    XCTAssertEqual(c.categories, ["blue", "red"])
    XCTAssertEqual(c.imputeValue, 1)
    XCTAssertEqual(data.classRows[0][5 * 5 + 3], 1)  // row 5 (class x, missing c) → red slot
    XCTAssertEqual(data.classRows[0][5 * 5 + 2], 0)
    // Constant column: std 1, encodes to 0.
    XCTAssertEqual(data.features[3].std, 1)
    XCTAssertEqual(data.classRows[0][4], 0)
    // Missing numeric cell encodes to 0 (the mean).
    XCTAssertEqual(data.classRows[0][3 * 5], 0, accuracy: 1e-6)
    XCTAssertEqual(data.classLabels, ["x", "z"])
    XCTAssertEqual(data.classCounts, [6, 6])
  }

  func testOverridesAndIntegerLabels() throws {
    var text = "code,v,drop,label\n"
    for i in 0..<20 { text += "\(i % 4),\(i),junk\(i),\(i < 10 ? 10 : 2)\n" }
    let o = ColumnOverrides(categorical: ["code"], numeric: ["v"], ignore: ["drop"])
    let data = try Preprocessor.fit(try table(text), target: "label", overrides: o)
    XCTAssertEqual(data.features.map(\.name), ["code", "v"])
    XCTAssertEqual(data.features.map(\.kind), [.categorical, .numeric])
    XCTAssertEqual(data.features[0].categories, ["0", "1", "2", "3"])
    XCTAssertEqual(data.classLabels, ["2", "10"], "integer labels sort numerically")
  }

  func testWholeNumbersInAnySpellingMakeAnIntegerColumnAndIntegerForcesOne() throws {
    var text = "w,r,n,label\n"
    for i in 0..<20 { text += "\(150 + i).0,\(i).5,\(i * 2),\(i < 10 ? "a" : "b")\n" }
    let data = try Preprocessor.fit(try table(text), target: "label")
    XCTAssertEqual(data.features.map(\.kind), [.integer, .numeric, .integer], "166.0 is a whole number")
    let forced = try Preprocessor.fit(
      try table(text), target: "label", overrides: ColumnOverrides(numeric: ["w"], integer: ["n"]))
    XCTAssertEqual(forced.features.map(\.kind), [.numeric, .numeric, .integer])
    XCTAssertThrowsError(
      try Preprocessor.fit(try table(text), target: "label", overrides: ColumnOverrides(integer: ["r"]))
    ) { e in
      XCTAssertTrue("\(e)".contains("0.5 is not a whole number (column forced integer)"), "\(e)")
      XCTAssertTrue("\(e)".contains("t.csv:2"), "\(e)")
    }
    XCTAssertThrowsError(
      try Preprocessor.fit(try table(text), target: "label", overrides: ColumnOverrides(numeric: ["n"], integer: ["n"])))
  }

  func testANumberColumnTurnedCategoricalByATypoIsWarnedAboutWithItsCell() throws {
    var text = "x,tag,label\n"
    for i in 0..<150 { text += "\(i == 57 ? "inf" : "\(i).25"),\(i % 2 == 0 ? "p" : "q"),\(i < 75 ? "a" : "b")\n" }
    let data = try Preprocessor.fit(try table(text), target: "label")
    XCTAssertEqual(data.features.map(\.kind), [.categorical, .categorical])
    let warned = data.warnings.filter { $0.contains("read as categorical") }
    XCTAssertEqual(warned.count, 1, "\(data.warnings)")
    XCTAssertTrue(warned[0].contains("column \"x\"") && warned[0].contains("\"inf\" on line 59"), warned[0])
    XCTAssertTrue(warned[0].contains("1 of its 150 cells"), warned[0])
  }

  func testSmallClassesDroppedWithWarning() throws {
    var text = "x,y\n"
    for i in 0..<25 { text += "\(i),\(i < 12 ? "a" : (i < 22 ? "b" : "c"))\n" }
    let data = try Preprocessor.fit(try table(text), target: "y", minClassRows: 10)
    XCTAssertEqual(data.classLabels, ["a", "b"])
    XCTAssertEqual(data.count, 22)
    XCTAssertTrue(data.warnings.contains { $0.contains("\"c\"") && $0.contains("3 row") })
  }

  func testErrorsNameFileLineAndColumn() throws {
    XCTAssertThrowsError(try table("a,b\n1,2\n3\n")) { e in
      let e = e as! TrainerError
      XCTAssertEqual(e.code, .raggedRow)
      XCTAssertEqual(e.line, 3)
      XCTAssertTrue(e.description.hasPrefix("t.csv:3:"), e.description)
    }
    // A quoted field spanning two lines shifts the following line numbers.
    XCTAssertThrowsError(try table("a,b\n\"x\ny\",2\n1,2,3\n")) { e in
      XCTAssertEqual((e as! TrainerError).line, 4)
    }
    XCTAssertThrowsError(try table("")) { e in XCTAssertEqual((e as! TrainerError).code, .emptyFile) }
    XCTAssertThrowsError(try table("a,b\n")) { e in XCTAssertEqual((e as! TrainerError).code, .noRows) }
    XCTAssertThrowsError(try Preprocessor.fit(try table("a,b\n1,2\n"), target: "label")) { e in
      let e = e as! TrainerError
      XCTAssertEqual(e.code, .missingColumn)
      XCTAssertEqual(e.column, "label")
    }
    var text = "v,y\n"
    for i in 0..<12 { text += "\(i == 7 ? "seven" : "\(i)"),a\n" }
    XCTAssertThrowsError(try Preprocessor.fit(try table(text), target: "y", overrides: ColumnOverrides(numeric: ["v"]))) { e in
      let e = e as! TrainerError
      XCTAssertEqual(e.code, .badValue)
      XCTAssertEqual(e.line, 9)
      XCTAssertEqual(e.column, "v")
    }
    XCTAssertThrowsError(try CSVTable.read(path: "/nonexistent/x.csv")) { e in
      XCTAssertEqual((e as! TrainerError).code, .io)
    }
  }

  func testSkipsBlankLinesAndReadsCRLF() throws {
    let t = try table("a,b\r\n1,2\r\n\r\n3,4\r\n")
    XCTAssertEqual(t.rows, [["1", "2"], ["3", "4"]])
    XCTAssertEqual(t.lines, [2, 4])
  }
}

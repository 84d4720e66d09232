import EmberFormat
import Foundation
import XCTest

/// The defaults users expect, through the binary: missing cells are missing everywhere (as in
/// training), an unseen category is read as missing and makes the row anomalous, a BOM is
/// skipped, percentiles are 0–100.
final class DefaultsTests: XCTestCase {
  var dir: ScratchDir!
  var model: String!

  override func setUpWithError() throws {
    dir = try ScratchDir()
    model = dir.file("blob.ember")
    try BlobModel.write(to: model)
  }

  override func tearDown() { dir = nil }

  func testMissingCellsAreMissingInEveryVerbAsInTraining() throws {
    // Row 1: every cell missing by one token or another; row 2: the same row imputed by hand
    // (x = 0, n = 3, color = red are the model's impute values).
    for tokens in [["", "", ""], ["NaN", "nan", "NA"], ["N/A", "?", "na"], [" nan ", "NaN", ""]] {
      let path = try dir.write("m.csv", "x,n,color\n\(tokens.joined(separator: ","))\n0,3,red\n")
      for verb in ["score", "classify", "energy"] {
        let r = try runEmber([verb, model, path])
        XCTAssertEqual(r.status, 0, "\(verb) \(tokens): \(r.stderr)")
        let rows = parseCSV(r.stdout).rows
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0], rows[1], "\(verb) \(tokens)")
      }
    }
  }

  func testAnUnseenCategoryIsReadAsMissingFlaggedAnomalousAndCounted() throws {
    let path = try dir.write("u.csv", "x,n,color\n-2,1,red\n-2,1,green\n-2,1,\n")
    let r = try runEmber(["score", model, path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let rows = parseCSV(r.stdout).rows
    XCTAssertEqual(rows.map { $0[2] }, ["0", "1", "0"], "only the unseen category is anomalous: \(r.stdout)")
    XCTAssertEqual(rows[1][0], rows[2][0], "an unseen category scores like a missing one")
    XCTAssertTrue(r.stderr.contains("1 row held a category never seen in training"), r.stderr)
    // classify answers too, with the category read as missing.
    let c = try runEmber(["classify", model, path])
    XCTAssertEqual(c.status, 0, c.stderr)
    XCTAssertEqual(parseCSV(c.stdout).rows[1], parseCSV(c.stdout).rows[2])
    // The strict mode of old.
    let strict = try runEmber(["score", model, path, "--unknown-category", "error"])
    XCTAssertEqual(strict.status, 1)
    XCTAssertTrue(strict.stderr.contains("u.csv:3:3: column \"color\": unknown category \"green\""), strict.stderr)
  }

  func testAFileWithAByteOrderMarkScoresLikeTheSameFileWithout() throws {
    let text = "x,n,color\n-2,1,red\n2,5,blue\n"
    let plain = try dir.write("plain.csv", text)
    let bom = dir.file("bom.csv")
    try (Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).write(to: URL(fileURLWithPath: bom))
    let a = try runEmber(["score", model, plain])
    let b = try runEmber(["score", model, bom])
    XCTAssertEqual(b.status, 0, b.stderr)
    XCTAssertEqual(a.stdout, b.stdout)
  }

  func testPercentilesAreZeroToHundredAndFollowTheScore() throws {
    var text = "x,n,color\n"
    for i in 0..<60 { text += "\(Double(i) / 5 - 6),\(i % 10),red\n" }
    let r = try runEmber(["score", model, try dir.write("p.csv", text)])
    XCTAssertEqual(r.status, 0, r.stderr)
    let pairs = parseCSV(r.stdout).rows.map { (Double($0[0])!, Double($0[1])!) }.sorted { $0.0 < $1.0 }
    XCTAssertTrue(pairs.allSatisfy { (0...100).contains($0.1) })
    XCTAssertGreaterThan(pairs.last!.1, 1, "percentiles are 0–100, not 0–1")
    for (a, b) in zip(pairs, pairs.dropFirst()) { XCTAssertLessThanOrEqual(a.1, b.1) }
  }
}

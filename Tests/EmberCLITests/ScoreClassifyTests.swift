import Foundation
import XCTest

final class ScoreClassifyTests: BlobModelTestCase {
  func testClassifyPutsRowsNearEachClassMeanInThatClassWithProbabilities() throws {
    let input = try dir.write("in.csv", "id,x,n,color,extra\n1,-2,1,red,zz\n2,2,5,blue,zz\n3,,,,zz\n")
    let r = try runEmber(["classify", model, input])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["label", "p_a", "p_b"])
    XCTAssertEqual(rows.map { $0[0] }.prefix(2), ["a", "b"])
    for row in rows {
      let p = row.dropFirst().compactMap(Double.init)
      XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
    }
    XCTAssertGreaterThan(Double(rows[0][1])!, 0.99)
  }

  func testScoreIsHigherFarFromTheDataAndFlagsAnomaliesAtTheThreshold() throws {
    let input = try dir.write("in.csv", "x,n,color\n-2,1,red\n40,1,red\n")
    let r = try runEmber(["score", model, input, "--energies", "--keep", "x"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "score", "percentile", "anomaly", "nearest_class", "energy_a", "energy_b"])
    let near = Double(rows[0][1])!
    let far = Double(rows[1][1])!
    XCTAssertLessThan(near, 7)
    XCTAssertGreaterThan(far, 100)
    XCTAssertEqual(rows[0][3], "0")
    XCTAssertEqual(rows[1][3], "1")
    XCTAssertEqual(rows[0][4], "a")
    // --threshold overrides the file's.
    let r2 = try runEmber(["score", model, input, "--threshold", "1"])
    XCTAssertEqual(parseCSV(r2.stdout).rows.map { $0[2] }, ["1", "1"])
  }

  func testOutputFileIsWrittenAtomicallyAndNotAtAllOnError() throws {
    let out = dir.file("out.csv")
    let good = try dir.write("good.csv", "x,n,color\n1,2,red\n")
    XCTAssertEqual(try runEmber(["score", model, good, "--output", out]).status, 0)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    let out2 = dir.file("out2.csv")
    let bad = try dir.write("bad.csv", "x,n,color\n1,2,red\nabc,2,red\n")
    let r = try runEmber(["score", model, bad, "--output", out2])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out2))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    XCTAssertEqual(leftovers, [])
  }

  func testBadInputsGiveOneClearMessageAndNonZeroExit() throws {
    let cases: [(String, String, String)] = [
      ("missing.csv", "x,color\n1,red\n", "missing column \"n\""),
      ("value.csv", "x,n,color\n1,2,red\nhello,2,red\n", "value.csv:3:1: column \"x\": expected a number, found \"hello\""),
      ("inf.csv", "x,n,color\ninf,2,red\n", "not a finite number"),
      ("empty.csv", "", "empty input"),
      ("headeronly.csv", "x,n,color\n", "no data rows"),
      ("semicolon.csv", "x;n;color\n1;2;red\n", "--delimiter ';'"),
      ("ragged.csv", "x,n,color\n1,2\n", "expected 3 fields"),
      ("quote.csv", "x,n,color\n\"1,2,red\n", "quoted field is not closed"),
    ]
    for (name, text, expected) in cases {
      let path = try dir.write(name, text)
      for verb in ["score", "classify"] {
        let r = try runEmber([verb, model, path])
        XCTAssertFalse(r.signaled, name)
        XCTAssertEqual(r.status, 1, "\(verb) \(name): \(r.stderr)")
        XCTAssertTrue(r.stderr.contains(expected), "\(verb) \(name): \(r.stderr)")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(verb) \(name): \(r.stderr)")
      }
    }
    let missingModel = try runEmber(["score", dir.file("nope.ember"), try dir.write("x.csv", "x,n,color\n1,1,red\n")])
    XCTAssertEqual(missingModel.status, 3)
    XCTAssertTrue(missingModel.stderr.contains("cannot open"))
  }

  func testAstronomicallyFarRowsGiveFiniteScoresAndProbabilities() throws {
    let path = try dir.write("far.csv", "x,n,color\n1e38,2,red\n-3e38,1e30,blue\n")
    for verb in ["score", "classify"] {
      let r = try runEmber([verb, model, path] + (verb == "score" ? ["--energies"] : []))
      XCTAssertEqual(r.status, 0, r.stderr)
      XCTAssertFalse(r.stdout.lowercased().contains("nan"), r.stdout)
      XCTAssertFalse(r.stdout.lowercased().contains("inf"), r.stdout)
      XCTAssertEqual(parseCSV(r.stdout).rows.count, 2)
    }
  }

  func testDeprecatedMissingFlagsAreStillAccepted() throws {
    let path = try dir.write("in.csv", "x,n,color\nnan,2,green\n")
    let r = try runEmber(["classify", model, path, "--unknown-as-missing", "--nan-as-missing"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(parseCSV(r.stdout).rows.count, 1)
  }

  func testStreamModeAnswersEachRowWithItsLineAndSkipsMalformedRows() throws {
    let text = "x,n,color\n-2,1,red\nbad,1,red\n2,5,blue\n"
    let r = try runEmber(["classify", model, "-", "--stream"], stdin: text)
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header.first, "line")
    XCTAssertEqual(rows.map { $0[0] }, ["2", "4"])
    XCTAssertEqual(rows.map { $0[1] }, ["a", "b"])
    XCTAssertTrue(r.stderr.contains("<stdin>:3:1"), r.stderr)
    let stop = try runEmber(["classify", model, "-", "--stream", "--on-error", "stop"], stdin: text)
    XCTAssertEqual(stop.status, 1)
    XCTAssertEqual(parseCSV(stop.stdout).rows.count, 1)
  }

  func testResultsDoNotDependOnThreadCount() throws {
    var text = "x,n,color\n"
    for i in 0..<3000 { text += "\(Double(i % 97) / 10 - 4),\(i % 10),\(i % 3 == 0 ? "red" : "blue")\n" }
    let path = try dir.write("many.csv", text)
    let one = try runEmber(["score", model, path, "--threads", "1", "--energies"])
    let two = try runEmber(["score", model, path, "--threads", "2", "--energies"])
    XCTAssertEqual(one.status, 0)
    XCTAssertEqual(one.stdout, two.stdout)
    XCTAssertEqual(parseCSV(one.stdout).rows.count, 3000)
  }
}

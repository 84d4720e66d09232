import Foundation
import XCTest

final class SampleTests: BlobModelTestCase {
  func testSampleWritesTrainingColumnsInRawUnitsWithinRange() throws {
    let r = try runEmber(["sample", model, "--count", "200", "--seed", "4"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "kind", "n", "color"])
    XCTAssertEqual(rows.count, 200)
    XCTAssertEqual(rows.filter { $0[1] == "a" }.count, 100)
    for row in rows {
      let x = Double(row[0])!
      XCTAssertTrue((-6...6).contains(x))
      XCTAssertNotNil(Int(row[2]), "integer feature printed as integer: \(row[2])")
      XCTAssertTrue((0...9).contains(Int(row[2])!))
      XCTAssertTrue(["red", "blue"].contains(row[3]))
    }
    // Class a's rows sit around x = −2, class b's around +2.
    let meanA = rows.filter { $0[1] == "a" }.map { Double($0[0])! }.reduce(0, +) / 100
    let meanB = rows.filter { $0[1] == "b" }.map { Double($0[0])! }.reduce(0, +) / 100
    XCTAssertEqual(meanA, -2, accuracy: 0.5)
    XCTAssertEqual(meanB, 2, accuracy: 0.5)
  }

  func testSameSeedGivesIdenticalBytesWhateverTheThreadCount() throws {
    for sampler in ["tabebm", "langevin", "mala"] {
      let a = try runEmber(["sample", model, "--count", "700", "--seed", "11", "--sampler", sampler, "--threads", "1"])
      let b = try runEmber(["sample", model, "--count", "700", "--seed", "11", "--sampler", sampler, "--threads", "2"])
      let c = try runEmber(["sample", model, "--count", "700", "--seed", "12", "--sampler", sampler, "--threads", "2"])
      XCTAssertEqual(a.status, 0, a.stderr)
      XCTAssertEqual(a.stdout, b.stdout, sampler)
      XCTAssertNotEqual(a.stdout, c.stdout, sampler)
    }
  }

  func testMALAReportsItsAcceptanceRate() throws {
    let r = try runEmber(["sample", model, "--count", "50", "--sampler", "mala", "--class", "b"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("acceptance"), r.stderr)
    XCTAssertEqual(Set(parseCSV(r.stdout).rows.map { $0[1] }), ["b"])
  }

  func testDivergingChainsAreRestartedAndNothingNonFiniteIsWritten() throws {
    // A huge step makes plain Langevin explode on the base energy.
    let r = try runEmber(["sample", model, "--count", "100", "--step-size", "50", "--steps", "30", "--sampler", "langevin"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let restarts = r.stderr.split(separator: "\n").compactMap { line -> Int? in
      guard let range = line.range(of: "restarts ") else { return nil }
      return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
    XCTAssertEqual(restarts.count, 2, r.stderr)
    XCTAssertTrue(restarts.allSatisfy { $0 > 0 }, r.stderr)
    XCTAssertFalse(r.stdout.lowercased().contains("nan"))
    XCTAssertFalse(r.stdout.lowercased().contains("inf"))
  }

  func testChainsStartFromTheBaseWhenTheFileHasNoStartingRows() throws {
    let privateModel = dir.file("private.ember")
    try BlobModel.write(to: privateModel, withStartingRows: false)
    let r = try runEmber(["sample", privateModel, "--count", "20", "--class", "a"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(parseCSV(r.stdout).rows.count, 20)
  }

  func testInitCSVStartsChainsAtUserRowsPerClass() throws {
    let starts = try dir.write("starts.csv", "x,n,color,kind\n5,9,blue,a\n")
    let r = try runEmber(["sample", model, "--count", "10", "--class", "a", "--init-csv", starts, "--steps", "0", "--init-noise", "0"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(parseCSV(r.stdout).rows.first, ["5", "a", "9", "blue"])
  }

  func testClassFilterRerunsRowsLikelierUnderAnotherClassAndOffKeepsThem() throws {
    // x = 5 lies deep in class b's blob: a row of class a there is rejected by the filter.
    let starts = try dir.write("starts.csv", "x,n,color,kind\n5,9,blue,a\n")
    let fixed: [String] = ["sample", model!, "--count", "10", "--class", "a", "--init-csv", starts, "--steps", "0", "--seed", "3"]
    // Every attempt restarts at the same row: all rejected, every row kept unfiltered.
    let stuck = try runEmber(fixed + ["--init-noise", "0"])
    XCTAssertEqual(stuck.status, 0, stuck.stderr)
    XCTAssertTrue(stuck.stderr.contains("class filter: 160 rejected, 10 kept unfiltered"), stuck.stderr)
    let stuckOff = try runEmber(fixed + ["--init-noise", "0", "--class-filter", "off"])
    XCTAssertEqual(stuckOff.stdout, stuck.stdout)
    XCTAssertFalse(stuckOff.stderr.contains("class filter"), stuckOff.stderr)
    // The read-out filter (`ember classify`'s answer with equal priors) also says b there.
    let stuckReadout = try runEmber(fixed + ["--init-noise", "0", "--class-filter", "readout"])
    XCTAssertEqual(stuckReadout.status, 0, stuckReadout.stderr)
    XCTAssertTrue(stuckReadout.stderr.contains("class filter: 160 rejected, 10 kept unfiltered"), stuckReadout.stderr)
    // Noisy starts: re-run chains that land on a's side are kept, so the rows move towards a.
    func meanX(_ r: EmberRun) -> Double {
      let rows = parseCSV(r.stdout).rows
      return rows.map { Double($0[0])! }.reduce(0, +) / Double(rows.count)
    }
    let noisy = try runEmber(fixed + ["--init-noise", "3", "--count", "200"])
    let noisyOff = try runEmber(fixed + ["--init-noise", "3", "--count", "200", "--class-filter", "off"])
    XCTAssertEqual(noisy.status, 0, noisy.stderr)
    XCTAssertLessThan(meanX(noisy), meanX(noisyOff) - 1, noisy.stderr)
    XCTAssertEqual(try runEmber(["sample", model, "--count", "5", "--class-filter", "maybe"]).status, 64)
    XCTAssertEqual(try runEmber(["sample", model, "--count", "5", "--given", "color=red", "--class-filter", "off"]).status, 64)
  }

  func testSampleRejectsUnknownClassesAndBadCounts() throws {
    let r = try runEmber(["sample", model, "--count", "10", "--class", "zebra"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("class \"zebra\" is not in the model"), r.stderr)
    let bad = try runEmber(["sample", model, "--count", "0"])
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertFalse(bad.signaled)
  }

  func testLargeCountsStreamToAFileAtomically() throws {
    let out = dir.file("big.csv")
    let r = try runEmber(["sample", model, "--count", "20000", "--steps", "5", "--output", out, "--quiet"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stderr, "")
    let text = try String(contentsOfFile: out, encoding: .utf8)
    XCTAssertEqual(text.split(separator: "\n").count, 20001)
  }
}

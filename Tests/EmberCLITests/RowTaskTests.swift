import EmberFormat
import Foundation
import XCTest

/// `score --explain`, `impute` and `sample --given/--where` through the built binary, on the
/// two-blob model (class a around x = −2, n = 1, red; class b around x = 2, n = 5, blue), where
/// the right answers are known.
final class RowTaskTests: BlobModelTestCase {
  private func column(_ rows: [[String]], _ i: Int) -> [Double] { rows.map { Double($0[i])! } }
  private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }

  // MARK: score --explain

  func testExplainNamesTheOneMovedColumnOfEachRow() throws {
    let csv = "x,n,color\n-2,1,red\n5,1,red\n-2,9,red\n-2,1,blue\n2,5,blue\n2,0,blue\n"
    let r = try runEmber(["score", model, "-", "--explain", "2"], stdin: csv)
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(Array(header.suffix(4)), ["why_1", "why_1_share", "why_2", "why_2_share"])
    let w = header.firstIndex(of: "why_1")!
    XCTAssertEqual(rows.count, 6)
    XCTAssertEqual(rows[1][w], "x")
    XCTAssertEqual(rows[2][w], "n")
    XCTAssertEqual(rows[3][w], "color")
    XCTAssertEqual(rows[5][w], "n")
    for row in rows {
      let s1 = Double(row[w + 1])!, s2 = Double(row[w + 3])!
      XCTAssertTrue((0...1).contains(s1) && (0...1).contains(s2) && s1 >= s2, "\(row)")
      XCTAssertNotEqual(row[w], row[w + 2])
    }
    // A moved row is explained mostly by its moved column.
    for i in [1, 2, 3] { XCTAssertGreaterThan(Double(rows[i][w + 1])!, 0.6, "\(rows[i])") }
    // The score columns are unchanged by --explain.
    let plain = try runEmber(["score", model, "-"], stdin: csv)
    XCTAssertEqual(parseCSV(plain.stdout).rows, rows.map { Array($0.prefix(w)) })
  }

  func testExplainDoesNotDependOnThreadsAndRefusesMoreColumnsThanFeatures() throws {
    var csv = "x,n,color\n"
    for i in 0..<300 { csv += "\(Double(i % 13) - 6),\(i % 10),\(i % 3 == 0 ? "red" : "blue")\n" }
    let a = try runEmber(["score", model, "-", "--explain", "3", "--threads", "1"], stdin: csv)
    let b = try runEmber(["score", model, "-", "--explain", "3", "--threads", "2"], stdin: csv)
    XCTAssertEqual(a.status, 0, a.stderr)
    XCTAssertEqual(a.stdout, b.stdout)
    let r = try runEmber(["score", model, "-", "--explain", "4"], stdin: csv)
    XCTAssertEqual(r.status, 64)
    XCTAssertTrue(r.stderr.contains("3 features"), r.stderr)
    XCTAssertTrue(r.stdout.isEmpty)
  }

  // MARK: impute

  func testImputeFillsEveryMissingCellAndKeepsObservedOnes() throws {
    let input = try dir.write("in.csv", "x,n,color,note\n,1,red,p\n-2,,red,q\n2,5,,r\n,,,s\n1.5,NA,?,t\n")
    let r = try runEmber(["impute", model, input, "--seed", "3"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "n", "color", "note"])
    XCTAssertEqual(rows.count, 5)
    for row in rows {
      XCTAssertTrue((-6...6).contains(Double(row[0])!), "\(row)")
      XCTAssertTrue((0...9).contains(Double(row[1])!), "integer cell within its range: \(row)")
      XCTAssertTrue(["red", "blue"].contains(row[2]), "\(row)")
    }
    XCTAssertEqual(rows.map { $0[3] }, ["p", "q", "r", "s", "t"])
    XCTAssertEqual(Array(rows[0][1...2]), ["1", "red"])
    XCTAssertEqual(rows[1][0], "-2")
    XCTAssertEqual(rows[1][2], "red")
    XCTAssertEqual(Array(rows[2][0...1]), ["2", "5"])
    XCTAssertEqual(rows[4][0], "1.5")
    XCTAssertTrue(r.stderr.contains("cells filled"), r.stderr)
  }

  func testImputeWithoutDrawsWritesTheConditionalMeanAndLikeliestCategory() throws {
    // Each blob is a Gaussian (x and n independent within a class), so the point imputation of
    // x is Σ_c p(c | observed) · mean_c(x): with n = 4 (encoded 0.5: log p(b)/p(a) = 1 from n)
    // and colour red — whose probability is the mass of the rows decoding to red: class a's
    // colour slots are N((1, 0), I/4), so P_a(red) = Φ(√2) = 0.921 and P_b(red) = 0.079, log
    // ratio −2.461 — p(b) = 1/(1 + e^{1.461}) → x = −1.247; with blue, p(b) = 1/(1 + e^{−3.461})
    // → x = 1.878. (Weighing by the density at the one-hot corners instead would give −1.810 and
    // 1.973.) The category probabilities are Monte-Carlo estimates (256 draws per class), so
    // the tolerances are a few of their standard errors.
    // n next to x = 2, blue is class b's mean 5 (an integer column's point value keeps its
    // fraction: next to x = 0.5 and red, p(b) = 1/(1 + e^{0.461}), n = 3 + 2 Σ_c p(c) E[clip(n_c)]
    // = 2.78; corner densities would give 1.56);
    // a missing colour next to x = 0.3, n = 3 is blue (p(blue) ≈ 0.76); a missing label is the
    // likeliest class.
    let input = try dir.write(
      "in.csv", "x,kind,n,color\n,,4,red\n,,4,blue\n2,,,blue\n0.3,,3,\n-1.8,,1,red\n0.5,,,red\n")
    let r = try runEmber(["impute", model, input, "--seed", "2"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "kind", "n", "color"], "no draw column without --draws")
    XCTAssertEqual(rows.count, 6)
    let red = Foundation.log((1 - RowTaskTests.normalCDF(2.0.squareRoot())) / RowTaskTests.normalCDF(2.0.squareRoot()))
    XCTAssertEqual(Double(rows[0][0])!, -2 + 4 / (1 + Foundation.exp(-(1 + red))), accuracy: 0.06)
    XCTAssertEqual(Double(rows[1][0])!, -2 + 4 / (1 + Foundation.exp(-(1 - red))), accuracy: 0.06)
    // n's training range [0, 9] is [−1.5, 3] encoded: point values are means of clipped values.
    let clipped = { (mu: Double) in RowTaskTests.clippedNormalMean(mu, lower: -1.5, upper: 3) }
    XCTAssertEqual(Double(rows[2][2])!, 3 + 2 * clipped(1), accuracy: 0.002, "an integer cell's conditional mean")
    XCTAssertEqual(rows[3][3], "blue")
    let pB: Double = 1 / (1 + Foundation.exp(-(2 + red)))
    XCTAssertEqual(Double(rows[5][2])!, 3 + 2 * (pB * clipped(1) + (1 - pB) * clipped(-1)), accuracy: 0.2)
    XCTAssertEqual(rows.map { $0[1] }, ["a", "b", "b", "b", "a", "a"])
    XCTAssertEqual(rows[4], ["-1.8", "a", "1", "red"], "nothing missing but the label")
    XCTAssertTrue(r.stderr.contains("point imputation"), r.stderr)
  }

  /// Φ(t), the standard normal CDF.
  static func normalCDF(_ t: Double) -> Double { 0.5 * (1 + erf(t / 2.0.squareRoot())) }

  /// E[min(max(z, lower), upper)] for z ~ N(mu, 1).
  static func clippedNormalMean(_ mu: Double, lower: Double, upper: Double) -> Double {
    let cdf = { (t: Double) in 0.5 * (1 + erf(t / 2.0.squareRoot())) }
    let pdf = { (t: Double) in Foundation.exp(-t * t / 2) / (2 * Double.pi).squareRoot() }
    let a = lower - mu, b = upper - mu
    return lower * cdf(a) + upper * (1 - cdf(b)) + mu * (cdf(b) - cdf(a)) - (pdf(b) - pdf(a))
  }

  func testPointImputationIsSeededAndDoesNotDependOnThreads() throws {
    var csv = "x,n,color\n"
    for i in 0..<90 { csv += i % 3 == 0 ? ",\(i % 10),red\n" : (i % 3 == 1 ? "\(Double(i % 9) - 4),,\n" : ",,blue\n") }
    let input = try dir.write("in.csv", csv)
    let a = try runEmber(["impute", model, input, "--seed", "8", "--threads", "1"])
    let b = try runEmber(["impute", model, input, "--seed", "8", "--threads", "2"])
    XCTAssertEqual(a.status, 0, a.stderr)
    XCTAssertEqual(a.stdout, b.stdout)
    XCTAssertEqual(parseCSV(a.stdout).rows.count, 90)
    let c = try runEmber(["impute", model, input, "--seed", "9", "--threads", "2"])
    XCTAssertNotEqual(a.stdout, c.stdout)
  }

  func testImputedCellsFollowTheObservedOnes() throws {
    // n missing next to x = 2 (class b: n ≈ 5) and next to x = −2 (class a: n ≈ 1); colour
    // missing next to x = 2, n = 5 (blue) — over 40 draws each.
    let input = try dir.write("in.csv", "x,n,color\n2,,blue\n-2,,red\n2,5,\n")
    let r = try runEmber(["impute", model, input, "--seed", "5", "--draws", "40"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "n", "color", "draw"])
    XCTAssertEqual(rows.count, 120)
    XCTAssertEqual(rows.prefix(40).map { $0[3] }, (1...40).map(String.init))
    XCTAssertTrue(rows.allSatisfy { Int($0[1]) != nil }, "a draw of an integer column is an integer")
    let nB = mean(column(Array(rows[0..<40]), 1))
    let nA = mean(column(Array(rows[40..<80]), 1))
    XCTAssertEqual(nB, 5, accuracy: 1)
    XCTAssertEqual(nA, 1, accuracy: 1)
    XCTAssertGreaterThan(rows[80..<120].filter { $0[2] == "blue" }.count, 36)
    XCTAssertGreaterThan(Set(rows[0..<40].map { $0[1] }).count, 1, "draws differ")
  }

  func testImputeUsesTheTargetColumnWhenPresent() throws {
    let input = try dir.write("in.csv", "x,kind,n,color\n,b,,\n,a,,\n,,2,\n")
    let r = try runEmber(["impute", model, input, "--seed", "1", "--draws", "30"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let rows = parseCSV(r.stdout).rows
    XCTAssertEqual(mean(column(Array(rows[0..<30]), 0)), 2, accuracy: 0.7)
    XCTAssertEqual(mean(column(Array(rows[30..<60]), 0)), -2, accuracy: 0.7)
    // A missing label is filled from the posterior: n = 2 is nearer class a's n = 1.
    XCTAssertGreaterThan(rows[60..<90].filter { $0[1] == "a" }.count, 20)
    XCTAssertTrue(rows.allSatisfy { ["a", "b"].contains($0[1]) })
  }

  func testImputeIsSeededAndDoesNotDependOnThreads() throws {
    var csv = "x,n,color\n"
    for i in 0..<300 { csv += i % 3 == 0 ? ",\(i % 10),red\n" : (i % 3 == 1 ? "\(Double(i % 9) - 4),,\n" : ",,blue\n") }
    let input = try dir.write("in.csv", csv)
    let a = try runEmber(["impute", model, input, "--seed", "8", "--draws", "2", "--threads", "1"])
    let b = try runEmber(["impute", model, input, "--seed", "8", "--draws", "2", "--threads", "2"])
    let c = try runEmber(["impute", model, input, "--seed", "9", "--draws", "2", "--threads", "2"])
    XCTAssertEqual(a.status, 0, a.stderr)
    XCTAssertEqual(a.stdout, b.stdout)
    XCTAssertNotEqual(a.stdout, c.stdout)
    XCTAssertEqual(parseCSV(a.stdout).rows.count, 600)
  }

  func testImputeReportsBadCellsWithTheirPlaceAndWritesNothing() throws {
    let input = try dir.write("in.csv", "x,n,color\n1,2,red\nabc,,red\n")
    let out = dir.file("out.csv")
    let r = try runEmber(["impute", model, input, "--output", out])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(r.stderr.contains(":3:1"), r.stderr)
    XCTAssertTrue(r.stderr.contains("expected a number"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    let missing = try runEmber(["impute", model, try dir.write("h.csv", "x,color\n1,red\n")])
    XCTAssertNotEqual(missing.status, 0)
    XCTAssertTrue(missing.stderr.contains("\"n\""), missing.stderr)
  }

  // MARK: sample --given / --where

  func testEveryConditionedRowMeetsEveryCondition() throws {
    let r = try runEmber([
      "sample", model, "--count", "300", "--seed", "2", "--given", "color=blue", "--where", "x>=0.5", "--where", "x<3",
      "--where", "n<=6",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (header, rows) = parseCSV(r.stdout)
    XCTAssertEqual(header, ["x", "kind", "n", "color"])
    XCTAssertEqual(rows.count, 300)
    for row in rows {
      let x = Double(row[0])!
      XCTAssertTrue(x >= 0.5 && x < 3, "\(row)")
      XCTAssertLessThanOrEqual(Int(row[2])!, 6)
      XCTAssertEqual(row[3], "blue")
    }
  }

  func testGivenValuesMoveTheOtherColumnsAsTheClassesDo() throws {
    func rows(_ given: [String]) throws -> [[String]] {
      let r = try runEmber(["sample", model, "--count", "200", "--seed", "4"] + given.flatMap { ["--given", $0] })
      XCTAssertEqual(r.status, 0, r.stderr)
      return parseCSV(r.stdout).rows
    }
    let high = try rows(["x=2"])
    XCTAssertTrue(high.allSatisfy { $0[0] == "2" })
    XCTAssertGreaterThan(high.filter { $0[1] == "b" }.count, 190, "x = 2 is class b's")
    XCTAssertEqual(mean(column(high, 2)), 5, accuracy: 0.6)
    XCTAssertGreaterThan(high.filter { $0[3] == "blue" }.count, 180)
    let low = try rows(["x=-2"])
    XCTAssertEqual(mean(column(low, 2)), 1, accuracy: 0.6)
    XCTAssertGreaterThan(low.filter { $0[3] == "red" }.count, 180)
    let byLabel = try rows(["kind=a", "n=4"])
    XCTAssertTrue(byLabel.allSatisfy { $0[1] == "a" && $0[2] == "4" })
    XCTAssertEqual(mean(column(byLabel, 0)), -2, accuracy: 0.5)
  }

  /// Conditions each within range but jointly out of reach of every class: a clear error
  /// (exit 1, naming the remedy), not an endless search.
  func testConditionsNoClassReachesAreAnErrorNotALoop() throws {
    let out = dir.file("out.csv")
    let r = try runEmber(["sample", model, "--count", "5", "--where", "x>=5.5", "--where", "n<=0", "--output", out])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("no class of the model reaches the conditions") && r.stderr.contains("--class"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    // Naming a class samples it anyway, every row meeting the conditions.
    let named = try runEmber(["sample", model, "--count", "20", "--class", "b", "--where", "x>=5.5", "--where", "n<=0"])
    XCTAssertEqual(named.status, 0, named.stderr)
    XCTAssertTrue(parseCSV(named.stdout).rows.allSatisfy { Double($0[0])! >= 5.5 && $0[2] == "0" && $0[1] == "b" }, named.stdout)
  }

  /// A value with more digits than a 32-bit float holds (as a float column's values printed
  /// in double precision read) is the float it names; rows print it as the decoder does.
  func testGivenValuesCompareAtFloatPrecision() throws {
    let r = try runEmber(["sample", model, "--count", "20", "--seed", "1", "--given", "x=0.202999992370605"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(parseCSV(r.stdout).rows.allSatisfy { $0[0] == "0.203" }, r.stdout)
    let w = try runEmber(["sample", model, "--count", "20", "--seed", "1", "--where", "x>=0.202999992370605"])
    XCTAssertEqual(w.status, 0, w.stderr)
    XCTAssertTrue(parseCSV(w.stdout).rows.allSatisfy { Double($0[0])! >= 0.202999992370605 }, w.stdout)
  }

  /// Classes are weighed by the probability of a categorical condition, not by the density at
  /// its one-hot corner: class b is seen on one island only (its island slots barely spread), a
  /// on three, and sex is independent of both. Weighing by corner densities gave b almost
  /// every row of `--given sex=f` (as penguins' Gentoo got 180 of 200 female rows).
  func testCategoricalConditionsWeighClassesByProbabilityNotCornerDensity() throws {
    let path = dir.file("islands.ember")
    try ModelWriter.write(IslandModel.spec(), to: path)
    func classes(_ given: String) throws -> [String: Int] {
      let r = try runEmber(["sample", path, "--count", "400", "--seed", "3", "--given", given, "--quiet"])
      XCTAssertEqual(r.status, 0, r.stderr)
      return Dictionary(parseCSV(r.stdout).rows.map { ($0[1], 1) }, uniquingKeysWith: +)
    }
    let female = try classes("sex=f")
    XCTAssertEqual(Double(female["a", default: 0]) / 400, 0.5, accuracy: 0.1, "\(female)")
    // island p: a reaches it a third of the time, b always: a's share ≈ (1/3) / (1/3 + 1) = 0.25.
    let onP = try classes("island=p")
    XCTAssertEqual(Double(onP["a", default: 0]) / 400, 0.25, accuracy: 0.1, "\(onP)")
    XCTAssertEqual(try classes("island=q")["b", default: 0], 0)
  }

  func testConditionalSamplingIsSeededAndDoesNotDependOnThreads() throws {
    let base: [String] = ["sample", model, "--count", "500", "--given", "n=3", "--where", "color!=red"]
    let a = try runEmber(base + ["--seed", "6", "--threads", "1"])
    let b = try runEmber(base + ["--seed", "6", "--threads", "2"])
    let c = try runEmber(base + ["--seed", "7", "--threads", "2"])
    XCTAssertEqual(a.status, 0, a.stderr)
    XCTAssertEqual(a.stdout, b.stdout)
    XCTAssertNotEqual(a.stdout, c.stdout)
    XCTAssertTrue(parseCSV(a.stdout).rows.allSatisfy { $0[2] == "3" && $0[3] == "blue" })
  }

  func testImpossibleOrContradictoryConditionsAreUsageErrors() throws {
    let cases: [([String], String)] = [
      (["--where", "n>=7", "--where", "n<=3"], "contradict"),
      (["--where", "x>100"], "training range"),
      (["--given", "x=100"], "outside"),
      (["--given", "color=green"], "not a category"),
      (["--where", "color!=red", "--where", "color!=blue"], "no category is left"),
      (["--given", "x>=1"], "--given takes"),
      (["--where", "x=1"], "--given"),
      (["--given", "n=2.5"], "integers"),
      (["--given", "x=1", "--where", "x>2"], "contradicts"),
      (["--given", "size=3"], "not a column"),
      (["--given", "kind=c"], "not a class"),
      (["--given", "kind=a", "--given", "kind=b"], "no class is left"),
      (["--where", "x>=abc"], "expected a decimal number"),
      (["--given", "x=1", "--sampler", "mala"], "cannot be combined"),
    ]
    for (args, message) in cases {
      let out = dir.file("out.csv")
      let r = try runEmber(["sample", model, "--count", "5", "--output", out] + args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(message), "\(args): expected “\(message)” in \(r.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(args)")
    }
  }
}

/// Two classes over (x, island ∈ {p, q, r}, sex ∈ {f, m}) with diagonal Gaussian bases: class a
/// spread over the islands, class b on island p only (island precision 1,000), sex 50/50 in both.
enum IslandModel {
  static func spec() -> ModelSpec {
    let features = [
      FeatureSpec(name: "x", kind: .numeric, imputeValue: 0, mean: 0, std: 1, min: -6, max: 6, slotOffset: 0),
      FeatureSpec(name: "island", kind: .categorical, imputeValue: 0, categories: ["p", "q", "r"], slotOffset: 1, slotCount: 3),
      FeatureSpec(name: "sex", kind: .categorical, imputeValue: 0, categories: ["f", "m"], slotOffset: 4, slotCount: 2),
    ]
    func cls(_ label: String, _ means: [Float], _ precisions: [Float]) -> ClassSpec {
      var precision = [Float](repeating: 0, count: 36)
      for i in 0..<6 { precision[i * 6 + i] = precisions[i] }
      let logDet = -precisions.reduce(0.0) { $0 + Foundation.log(Double($1)) }
      return ClassSpec(
        label: label, prior: 0.5, trainRows: 60,
        base: GaussianBaseSpec(means: means, logWeights: [0], precision: precision, logDetCovariance: logDet),
        calibration: Calibration(levels: [0, 0.5, 0.99, 1], quantiles: [2, 3.5, 7, 8], threshold: 7, rows: 60),
        sampler: SamplerDefaults(kind: .langevin, steps: 50, stepSize: 0.05, temperature: 1, initNoise: 0.05),
        startingRows: nil)
    }
    let third: Float = 1 / 3
    return ModelSpec(
      target: "kind", features: features,
      classes: [
        cls("a", [-2, third, third, third, 0.5, 0.5], [1, 4.5, 4.5, 4.5, 4, 4]),
        cls("b", [2, 1, 0, 0, 0.5, 0.5], [1, 1000, 1000, 1000, 4, 4]),
      ],
      scoreCalibration: Calibration(levels: [0, 0.5, 0.99, 1], quantiles: [2, 3.5, 7, 8], threshold: 7, rows: 120),
      metadata: ["target_position": "1"])
  }
}

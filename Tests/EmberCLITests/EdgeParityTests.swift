import EmberFormat
import Foundation
import XCTest

@testable import EmberCommands

/// `ember-edge` (the device CLI: no Foundation, no ArgumentParser) against `ember`: the same
/// arguments must give byte-identical stdout and the same exit status; runtime failures the
/// same stderr line; usage errors exit 64 with exactly one `ember: error:` line.
final class EdgeParityTests: XCTestCase {
  var dir: ScratchDir!
  var model: String!
  var rows: String!

  override func setUpWithError() throws {
    dir = try ScratchDir()
    model = dir.file("blob.ember")
    try BlobModel.write(to: model)
    var text = "id,x,n,color\n"
    for i in 0..<700 {  // more than one 256-row batch per thread
      let x = Double(i % 37) / 4 - 4.5
      text += "\(i),\(x),\(i % 10),\(i % 3 == 0 ? "blue" : "red")\n"
    }
    rows = try dir.write("rows.csv", text)
  }

  override func tearDown() { dir = nil }

  /// Path of `ember-edge`: `$EMBER_EDGE_BIN`, else beside the `ember` under test.
  static func edgePath() throws -> String {
    if let env = ProcessInfo.processInfo.environment["EMBER_EDGE_BIN"], !env.isEmpty { return env }
    let ember = URL(fileURLWithPath: try CLIRunner.executablePath())
    let edge = ember.deletingLastPathComponent().appendingPathComponent("ember-edge").path
    guard FileManager.default.isExecutableFile(atPath: edge) else {
      throw CLIRunner.Failure.binaryNotFound([edge])
    }
    return edge
  }

  /// Runs a binary with arguments and optional stdin; outputs go through temporary files.
  static func run(_ binary: String, _ arguments: [String], stdin: Data? = nil) throws -> CLIResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ember-edge-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let outURL = tmp.appendingPathComponent("stdout")
    let errURL = tmp.appendingPathComponent("stderr")
    let inURL = tmp.appendingPathComponent("stdin")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    FileManager.default.createFile(atPath: inURL.path, contents: stdin ?? Data())
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let input = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    process.waitUntilExit()
    try? out.close()
    try? err.close()
    try? input.close()
    let signaled = process.terminationReason == .uncaughtSignal
    return CLIResult(
      status: signaled ? -1 : process.terminationStatus, signal: signaled ? process.terminationStatus : nil,
      stdoutData: try Data(contentsOf: outURL), stderrData: try Data(contentsOf: errURL))
  }

  /// Runs both binaries; asserts equal status and stdout (and stderr unless a usage error).
  @discardableResult
  func assertSame(_ args: [String], stdin: Data? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
    let full = try Self.run(try CLIRunner.executablePath(), args, stdin: stdin)
    let edge = try Self.run(try Self.edgePath(), args, stdin: stdin)
    let what = args.joined(separator: " ")
    XCTAssertNil(edge.signal, "ember-edge \(what) killed: \(edge.stderr)", file: file, line: line)
    XCTAssertEqual(edge.status, full.status, "exit status of \(what): \(edge.stderr) / \(full.stderr)", file: file, line: line)
    XCTAssertEqual(edge.stdoutData, full.stdoutData, "stdout of \(what)", file: file, line: line)
    if full.status == 64 {
      XCTAssertEqual(edge.stderrLines.count, 1, "ember-edge \(what): \(edge.stderr)", file: file, line: line)
      XCTAssertTrue(edge.stderr.hasPrefix("ember: error: "), edge.stderr, file: file, line: line)
    } else {
      XCTAssertEqual(edge.stderr, full.stderr, "stderr of \(what)", file: file, line: line)
    }
    return edge
  }

  func testScoreAndClassifyAreByteIdentical() throws {
    XCTAssertGreaterThan(try assertSame(["score", model, rows]).stdoutData.count, 10_000)
    try assertSame(["score", model, rows, "--threads", "1", "--energies", "--keep", "id"])
    try assertSame(["score", "--threads=2", "--threshold=-1", model, rows, "--keep", "id,color"])
    try assertSame(["score", model, "--stream"], stdin: try Data(contentsOf: URL(fileURLWithPath: rows)))
    try assertSame(["score", model, rows, "--delimiter", ","])
    try assertSame(["classify", model, rows])
    try assertSame(["classify", model, rows, "--label-only", "--stream", "--keep", "id"])
    try assertSame(["energy", model, rows, "--gradient", "--class", "b"])
  }

  func testOutputFilesAreIdentical() throws {
    let a = dir.file("full.csv")
    let b = dir.file("edge.csv")
    XCTAssertEqual(try Self.run(try CLIRunner.executablePath(), ["score", model, rows, "-o", a]).status, 0)
    XCTAssertEqual(try Self.run(try Self.edgePath(), ["score", model, rows, "-o", b]).status, 0)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
    XCTAssertEqual(try Self.run(try Self.edgePath(), ["sample", model, "--count", "9", "-o=\(b)"]).status, 0)
    XCTAssertEqual(try String(contentsOfFile: b, encoding: .utf8).split(separator: "\n").count, 10)
  }

  func testSampleIsByteIdentical() throws {
    try assertSame(["sample", model, "--count", "40", "--seed", "7"])
    try assertSame(["sample", model, "--count", "25", "--class", "b", "--class", "a", "--sampler", "mala", "--steps", "20", "--threads", "2"])
    try assertSame(["sample", model, "--count", "10", "--init-from", "base", "--temperature", "0.5", "--quiet"])
  }

  func testInspectAndVerifyAreByteIdentical() throws {
    try assertSame(["inspect", model])
    try assertSame(["inspect", "--json", model])
    try assertSame(["verify", model])
    let fixtures = InspectVerifyTests.fixtures
    for name in InspectVerifyTests.names {
      try assertSame(["inspect", "\(fixtures)/\(name).ember"])
      try assertSame(["inspect", "\(fixtures)/\(name).ember", "--json"])
    }
    let trained = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("models/iris.ember").path
    if FileManager.default.fileExists(atPath: trained) {
      try assertSame(["inspect", trained])
      try assertSame(["inspect", "--json", trained])
    }
  }

  func testFailuresHaveTheSameStatusAndMessage() throws {
    XCTAssertEqual(try assertSame(["verify", dir.file("missing.ember")]).status, 3)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
    bytes[bytes.count - 40] ^= 0x10
    let bad = dir.file("bad.ember")
    try bytes.write(to: URL(fileURLWithPath: bad))
    XCTAssertEqual(try assertSame(["verify", bad]).status, 3)
    XCTAssertEqual(try assertSame(["inspect", bad, "--json"]).status, 3)
    XCTAssertEqual(try assertSame(["score", bad, rows]).status, 3)
    let badRows = try dir.write("badrows.csv", "x,n,color\n1,2,red\nabc,2,red\n3,1,green\n")
    XCTAssertEqual(try assertSame(["score", model, badRows]).status, 1)
    XCTAssertEqual(try assertSame(["score", model, badRows, "--on-error", "skip"]).status, 0)
    XCTAssertEqual(try assertSame(["classify", model, dir.file("none.csv")]).status, 1)
    XCTAssertEqual(try assertSame(["sample", model, "--count", "3", "--class", "zebra"]).status, 1)
  }

  func testUsageErrorsExit64WithOneLine() throws {
    let cases: [[String]] = [
      ["score"], ["score", model, rows, "--bogus"], ["score", model, rows, "--threads"],
      ["score", model, rows, "--threads", "two"], ["score", model, rows, "--on-error", "maybe"],
      ["score", model, rows, "extra"], ["score", model, rows, "--threshold", "-5"],
      ["score", model, rows, "--delimiter", "ab"], ["classify", model, rows, "--stream=yes"],
      ["sample", model], ["sample", model, "--count", "0"], ["sample", model, "--count", "5", "--sampler", "gibbs"],
      ["sample", model, "--count", "5", "--steps", "-1"], ["bench", model, "--threads", "0"],
      ["verify"], ["nosuchverb"],
    ]
    for args in cases {
      let r = try assertSame(args)
      XCTAssertEqual(r.status, 64, args.joined(separator: " "))
    }
  }

  func testHelpVersionAndTrain() throws {
    try assertSame(["--version"])
    try assertSame(["score", model, "--version"])
    let edge = try Self.edgePath()
    for verb in Verb.device.map(\.spec) {
      let r = try Self.run(edge, [verb.name, "--help"])
      XCTAssertEqual(r.status, 0)
      let flat = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
      XCTAssertTrue(flat.contains(verb.abstract), "\(verb.name) help lacks its abstract")
      for o in verb.options {
        XCTAssertTrue(r.stdout.contains("--\(o.name)"), "\(verb.name) help lacks --\(o.name)")
        XCTAssertTrue(flat.contains(o.help), "\(verb.name) help lacks the text of --\(o.name)")
      }
      let full = try CLIRunner.run([verb.name, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
      for o in verb.options { XCTAssertTrue(full.contains(o.help), "ember \(verb.name) help lacks the text of --\(o.name)") }
    }
    let root = try Self.run(edge, ["--help"])
    XCTAssertEqual(root.status, 0)
    for verb in Verb.device.map(\.spec) { XCTAssertTrue(root.stdout.contains("  \(verb.name) ")) }
    let train = try Self.run(edge, ["train", "data.csv", "--target", "y"])
    XCTAssertEqual(train.status, 64)
    XCTAssertEqual(train.stderrLines.count, 1)
    XCTAssertTrue(train.stderr.contains("full ember CLI"), train.stderr)
  }

  /// Timings differ from run to run, so bench is compared by its JSON keys.
  func testBenchReportsTheSameFields() throws {
    let args: [String] = ["bench", model!, "--seconds", "0.01", "--chains", "4", "--steps", "2", "--batch", "1,8", "--json"]
    let full = try Self.run(try CLIRunner.executablePath(), args)
    let edge = try Self.run(try Self.edgePath(), args)
    XCTAssertEqual(full.status, 0, full.stderr)
    XCTAssertEqual(edge.status, 0, edge.stderr)
    func keys(_ r: CLIResult) throws -> [[String]] {
      let objects = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdoutData) as? [[String: Any]])
      return objects.map { object -> [String] in Array(object.keys).sorted() }
    }
    let edgeKeys: [[String]] = try keys(edge)
    let fullKeys: [[String]] = try keys(full)
    XCTAssertEqual(edgeKeys.count, 2)
    XCTAssertEqual(edgeKeys, fullKeys)
    let first: [String] = edgeKeys.first ?? []
    XCTAssertTrue(first.contains("score_rows_per_s"), "\(first)")
    XCTAssertTrue(first.contains("peak_rss_bytes"), "\(first)")
  }

  // MARK: formatting without Foundation

  func testISO8601MatchesFoundation() {
    XCTAssertEqual(TextFormat.iso8601(0), "1970-01-01T00:00:00Z")
    XCTAssertEqual(TextFormat.iso8601(-1), "1969-12-31T23:59:59Z")
    XCTAssertEqual(TextFormat.iso8601(951_782_400), "2000-02-29T00:00:00Z")
    XCTAssertEqual(TextFormat.iso8601(4_102_444_799), "2099-12-31T23:59:59Z")
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let s = Int64.random(in: -2_000_000_000...8_000_000_000, using: &rng)
      XCTAssertEqual(TextFormat.iso8601(s), f.string(from: Date(timeIntervalSince1970: TimeInterval(s))), "\(s)")
    }
  }

  func testGFormatMatchesStringFormat() {
    var values: [Double] = [0, -0.0, 1, -1, 0.1, 1.5, 123456, 1234567, 1e-5, 1e-4, 0.000123456789, 9.9999995, 1e300, -2.5e-300, 100, 99999.95]
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<2000 { values.append(Double(Float.random(in: -1...1, using: &rng)) * pow(10, Double(Int.random(in: -12...12, using: &rng)))) }
    for v in values {
      for digits in [3, 4, 6] {
        XCTAssertEqual(TextFormat.g(v, digits: digits), String(format: "%.\(digits)g", v), "\(v) digits \(digits)")
      }
    }
  }
}

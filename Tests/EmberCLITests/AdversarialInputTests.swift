import EmberFormat
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The reproducers of issue 10's adversarial run, through the binary: each must now end with
/// a clear message and the documented exit status — no crash, hang, NaN, clobbered path or
/// leftover temporary file.
final class AdversarialInputTests: XCTestCase {
  var dir: ScratchDir!
  var model: String!
  var rows: String!

  override func setUpWithError() throws {
    dir = try ScratchDir()
    model = dir.file("blob.ember")
    try BlobModel.write(to: model)
    rows = try dir.write("rows.csv", "x,n,color\n-2,1,red\n2,5,blue\n")
  }

  override func tearDown() { dir = nil }

  func fileType(_ path: String) -> mode_t {
    var st = stat()
    guard lstat(path, &st) == 0 else { return 0 }
    return st.st_mode & S_IFMT
  }

  func leftovers(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
  }

  // MARK: 1. --output onto a device, FIFO or symlink

  func testOutputOntoADeviceIsWrittenThroughNotReplaced() throws {
    XCTAssertEqual(fileType("/dev/null"), S_IFCHR)
    let r = try runEmber(["score", model, rows, "--output", "/dev/null"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(fileType("/dev/null"), S_IFCHR, "/dev/null must stay a character device")
    XCTAssertEqual(try leftovers(in: "/dev"), [])
  }

  func testOutputOntoDevStdoutWritesToStandardOutput() throws {
    let r = try runEmber(["classify", model, rows, "--output", "/dev/stdout"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stdout.split(separator: "\n").first, "label,p_a,p_b")
    XCTAssertEqual(fileType("/dev/stdout"), S_IFLNK)
  }

  func testOutputOntoASymlinkReplacesItsTargetAndKeepsTheLink() throws {
    let target = try dir.write("target.csv", "old\n")
    let link = dir.file("link.csv")
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.csv")
    let r = try runEmber(["score", model, rows, "--output", link])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(fileType(link), S_IFLNK, "the link stays a link")
    XCTAssertTrue(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("score,percentile"))
    XCTAssertEqual(try leftovers(in: dir.path), [])
  }

  func testOutputOntoAFIFOIsWrittenIntoIt() throws {
    let fifo = dir.file("out.fifo")
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let received = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var data = Data()
    Thread.detachNewThread {
      data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
      received.signal()
    }
    let r = try runEmber(["classify", model, rows, "--output", fifo])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(received.wait(timeout: .now() + 30), .success)
    XCTAssertEqual(String(decoding: data, as: UTF8.self).split(separator: "\n").first, "label,p_a,p_b")
    XCTAssertEqual(fileType(fifo), S_IFIFO, "the FIFO stays a FIFO")
  }

  // MARK: 2. a FIFO as the model

  func testAFIFOGivenAsTheModelIsRefusedWithoutHanging() throws {
    let fifo = dir.file("model.ember")
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let cases: [[String]] = [["verify", fifo], ["inspect", fifo], ["score", fifo, rows]]
    for args in cases {
      let r = try CLIRunner.run(args, timeout: 20)
      XCTAssertEqual(r.status, 3, r.stderr)
      XCTAssertTrue(r.stderr.contains("FIFO"), r.stderr)
    }
  }

  // MARK: 3. huge thread and batch counts

  func testHugeThreadAndBatchCountsAreUsageErrors() throws {
    let cases: [[String]] = [
      ["score", model, rows, "--threads", "99999999999"], ["classify", model, rows, "--threads", "99999999999"],
      ["energy", model, rows, "--threads", "99999999999"], ["sample", model, "--count", "5", "--threads", "99999999999"],
      ["bench", model, "--threads", "99999999999"], ["bench", model, "--batch", "100000000"],
      ["train", rows, "--target", "color", "--threads", "99999999999"],
    ]
    for args in cases {
      let r = try runEmber(args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }
    // Within the cap, more threads than cores is fine (at most the cores are used).
    XCTAssertEqual(try runEmber(["sample", model, "--count", "5", "--threads", "1024"]).status, 0)
  }

  // MARK: 4. line-length limit

  func testAnEndlessLineIsRefusedQuicklyWithItsLine() throws {
    let r = try CLIRunner.run(["score", model, "/dev/zero"], timeout: 60)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.hasPrefix("ember: error: /dev/zero:1"), r.stderr)
    XCTAssertLessThan(r.stderr.utf8.count, 300, r.stderr)
    let path = dir.file("long.csv")
    try Data(repeating: UInt8(ascii: "a"), count: 3_000_000).write(to: URL(fileURLWithPath: path))
    let long = try CLIRunner.run(["score", model, path], timeout: 60)
    XCTAssertEqual(long.status, 1, long.stderr)
    XCTAssertTrue(long.stderr.contains("long.csv:1: "), long.stderr)
    XCTAssertTrue(long.stderr.contains("1048576"), long.stderr)
    XCTAssertLessThan(long.stderr.utf8.count, 300, long.stderr)
  }

  func testAHugeHeaderIsNotEchoed() throws {
    let header = String(repeating: "h", count: 900_000)
    for (name, text) in [("wide.csv", header + "\n1\n"), ("semi.csv", header + ";x\n1;2\n"), ("long.csv", header + header + "\n")] {
      let r = try runEmber(["score", model, try dir.write(name, text)])
      XCTAssertEqual(r.status, 1, r.stderr)
      XCTAssertLessThan(r.stderr.utf8.count, 2000, "\(name): \(r.stderr.prefix(200))")
    }
  }

  // MARK: 5. signals during --output

  func testAnInterruptedOutputLeavesNoTemporaryFile() throws {
    for signal in [SIGINT, SIGTERM] {
      let out = dir.file("big-\(signal).csv")
      let process = Process()
      process.executableURL = URL(fileURLWithPath: try CLIRunner.executablePath())
      process.arguments = ["sample", model, "--count", "100000000", "--steps", "1", "--output", out, "--quiet"]
      process.standardError = FileHandle.nullDevice
      try process.run()
      // Wait until the temporary file exists, then interrupt.
      let deadline = Date().addingTimeInterval(30)
      while try leftovers(in: dir.path).isEmpty, Date() < deadline { usleep(20_000) }
      XCTAssertFalse(try leftovers(in: dir.path).isEmpty, "the temporary output never appeared")
      kill(process.processIdentifier, signal)
      process.waitUntilExit()
      XCTAssertEqual(process.terminationReason, .uncaughtSignal)
      XCTAssertEqual(try leftovers(in: dir.path), [], "signal \(signal) left a temporary file")
      XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
  }

  // MARK: 6. NUL bytes, hex, values beyond the float range

  func testNumbersWithNULHexOrBeyondTheFloatRangeAreRefusedWithTheirPosition() throws {
    let cases: [(String, String)] = [
      ("x,n,color\n-2,1,red\n5.1\u{0}9999garbage,1,red\n", ":3:1: a NUL byte"),
      ("x,n,color\n1e39,1,red\n", ":2:1: column \"x\": \"1e39\" is outside the 32-bit float range"),
      ("x,n,color\n1,-1e308,red\n", ":2:2: column \"n\": \"-1e308\" is outside the 32-bit float range"),
      ("x,n,color\n1,1e308,red\n", ":2:2: column \"n\""),
      ("x,n,color\n0x10,1,red\n", ":2:1: column \"x\": expected a number, found \"0x10\""),
    ]
    for (text, expected) in cases {
      let path = try dir.write("bad.csv", text)
      for verb in ["score", "classify", "energy"] {
        let r = try runEmber([verb, model, path])
        XCTAssertEqual(r.status, 1, "\(verb): \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("bad.csv" + expected), "\(verb): \(r.stderr)")
        XCTAssertFalse(r.stderr.utf8.contains(0), "a NUL byte is never printed")
      }
    }
  }

  func testValuesAtTheEdgeOfTheFloatRangeGiveFiniteAnswers() throws {
    let path = try dir.write("edge.csv", "x,n,color\n3e38,1,red\n-3.4e38,3e38,blue\n")
    for verb in ["energy", "classify", "score"] {
      let r = try runEmber([verb, model, path] + (verb == "energy" ? ["--gradient"] : []))
      XCTAssertEqual(r.status, 0, r.stderr)
      let values = parseCSV(r.stdout).rows.flatMap { $0 }.compactMap(Double.init)
      XCTAssertFalse(values.isEmpty)
      XCTAssertTrue(values.allSatisfy(\.isFinite), "\(verb): \(r.stdout)")
    }
    // Far rows are anomalous, and classified by their distances, not by the priors.
    let s = parseCSV(try runEmber(["score", model, path]).stdout).rows
    XCTAssertEqual(s.map { $0[2] }, ["1", "1"])
  }

  // MARK: 7. option values

  func testOptionValuesAreCheckedAlikeInEveryVerb() throws {
    let train = try dir.write("train.csv", "x,y,label\n" + (0..<40).map { "\($0 % 7),\($0 % 5),\($0 % 2 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n")
    let cases: [[String]] = [
      ["score", model, rows, "--threshold", "nan"], ["score", model, rows, "--threshold", "inf"],
      ["train", train, "--target", "label", "--lr", "nan"], ["train", train, "--target", "label", "--lr", "inf"],
      ["train", train, "--target", "label", "--lr", "1e30"], ["train", train, "--target", "label", "--epochs", "0"],
      ["train", train, "--target", "label", "--hidden", "8,,8"], ["bench", model, "--batch", "1,,2"],
      ["score", model, rows, "--threads", "0"], ["sample", model, "--count", "5", "--threads", "0"],
      ["bench", model, "--seconds", "inf"], ["sample", model, "--count", "5", "--init-noise", "1e30"],
      ["sample", model, "--count", "5", "--steps", "1000001"], ["sample", model, "--count", "5", "--step-size", "0x10"],
      ["score", model, rows, "--keep", "score"], ["classify", model, rows, "--keep", "x,x"],
    ]
    for args in cases {
      let r = try runEmber(args)
      XCTAssertEqual(r.status, 64, "\(args.joined(separator: " ")): \(r.stderr)")
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
      XCTAssertTrue(r.stderr.hasPrefix("ember: error: "), r.stderr)
    }
  }

  // MARK: 8. training divergence

  func testTrainingOnAnOutOfRangeCellIsATrainingErrorNotAModelError() throws {
    var text = "x,y,label\n"
    for i in 0..<40 { text += "\(i % 7),\(i == 3 ? "1e308" : String(i % 5)),\(i % 2 == 0 ? "a" : "b")\n" }
    let data = try dir.write("huge.csv", text)
    let r = try runEmber(["train", data, "--target", "label", "--epochs", "3", "--hidden", "4", "--output", dir.file("m.ember"), "--quiet"])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertFalse(r.stderr.contains("model to extend"), r.stderr)
    XCTAssertTrue(r.stderr.contains("huge.csv:5: column \"y\": 1e308 is outside the 32-bit float range"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m.ember")))
    // An unreadable --add-to model is the one case of exit 3.
    let bad = try dir.write("bad.ember", "not a model")
    let add = try runEmber(["train", data, "--target", "label", "--add-to", bad, "--output", dir.file("m2.ember"), "--quiet"])
    XCTAssertEqual(add.status, 3, add.stderr)
    XCTAssertTrue(add.stderr.contains("cannot read the model to extend"), add.stderr)
  }

  // MARK: 9. crafted models with a valid checksum

  func testCraftedModelsAreRefusedAlikeByVerifyAndInspectWithCodeAndPlace() throws {
    let base = BlobModel.spec()
    var cases: [(String, (inout ModelSpec) -> Void, String)] = []
    cases.append(("not-pd", { $0.classes[0].base!.precision = [1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4] }, "[PATH: class 0 \"a\" base precision]"))
    cases.append(("empty-calibration", { $0.scoreCalibration = Calibration(levels: [], quantiles: [], threshold: 7, rows: 0) }, "[PATH: score_calibration]"))
    cases.append(("tiny-std", { $0.features[0].std = 1e-38 }, "[PATH: feature 0 \"x\" std]"))
    cases.append(("huge-mean", { $0.features[1].mean = 3e39 }, "[PATH: feature 1 \"n\" mean]"))
    cases.append(("huge-precision", { $0.classes[1].base!.precision = $0.classes[1].base!.precision.map { $0 == 0 ? 0 : 3e38 } }, "[PATH: class 1 \"b\" base precision]"))
    cases.append(("huge-scale", { $0.classes[0].networkScale = 3e38 }, "[PATH: class 0 \"a\" network_scale]"))
    cases.append(("huge-mean-vector", { $0.classes[0].base!.means[0] = 3e38 }, "[PATH: class 0 \"a\" base means]"))
    for (name, change, place) in cases {
      var spec = base
      change(&spec)
      let path = dir.file(name + ".ember")
      let v = FormatVersion.current
      let bytes = try ModelWriter.serialize(spec, version: v, minReader: FormatVersion(major: v.major, minor: 0), validating: false)
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let verify = try runEmber(["verify", path])
      let inspect = try runEmber(["inspect", path])
      let energy = try runEmber(["energy", path, rows])
      for r in [verify, inspect, energy] {
        XCTAssertEqual(r.status, 3, "\(name): \(r.stderr)")
        XCTAssertEqual(r.stdout, "", name)
        XCTAssertTrue(r.stderr.hasPrefix("ember: error: invalid: "), "\(name): \(r.stderr)")
        XCTAssertTrue(r.stderr.hasSuffix(place.replacingOccurrences(of: "PATH", with: path) + "\n"), "\(name): \(r.stderr)")
      }
      XCTAssertEqual(verify.stderr, inspect.stderr, "verify and inspect refuse \(name) alike")
    }
  }

  /// A raw mean of 3e38 is a value the trainer can write (a column of values near the float
  /// maximum); such a model is valid, and its answers stay finite.
  func testAModelWithExtremeButWritableStatisticsAnswersFinitely() throws {
    var spec = BlobModel.spec()
    spec.features[0].mean = 3e38
    spec.features[0].min = -3e38
    spec.features[0].max = 3.4e38
    let path = dir.file("extreme.ember")
    try ModelWriter.write(spec, to: path)
    XCTAssertEqual(try runEmber(["verify", path]).status, 0)
    for verb in ["energy", "score", "classify"] {
      let r = try runEmber([verb, path, rows])
      XCTAssertEqual(r.status, 0, r.stderr)
      XCTAssertTrue(parseCSV(r.stdout).rows.flatMap { $0 }.compactMap(Double.init).allSatisfy(\.isFinite), r.stdout)
    }
  }

  // MARK: 11. many classes

  func testManyClassesSkipTheStackedReadoutWithAMessage() throws {
    var text = "a,b,label\n"
    for k in 0..<51 { for r in 0..<6 { text += "\(k % 7).\(r),\(r % 3),c\(k)\n" } }
    let data = try dir.write("many.csv", text)
    let out = dir.file("many.ember")
    let r = try CLIRunner.run(
      ["train", data, "--target", "label", "--epochs", "1", "--hidden", "4", "--min-class-rows", "2", "--output", out],
      timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("no stacked read-out: 51 classes"), r.stderr)
    let model = try EmberModel(path: out)
    XCTAssertNil(model.readout)
    XCTAssertEqual(model.classes.count, 51)
  }

  // MARK: 12. minor

  func testDuplicateFeatureColumnsInTheInputAreRefused() throws {
    let path = try dir.write("dup.csv", "x,n,color,x\n1,2,red,3\n")
    let r = try runEmber(["score", model, path])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("dup.csv:1:4: column \"x\" appears twice"), r.stderr)
  }

  func testControlCharactersArePrintedEscapedByInspectAndInErrors() throws {
    var spec = BlobModel.spec()
    spec.classes[0].label = "a\u{1B}[2J"
    spec.features[2].categories = ["red\u{7}", "blue"]
    let path = dir.file("ctl.ember")
    try ModelWriter.write(spec, to: path)
    let i = try runEmber(["inspect", path])
    XCTAssertEqual(i.status, 0, i.stderr)
    XCTAssertFalse(i.stdout.utf8.contains(0x1B) || i.stdout.utf8.contains(0x07), "raw control characters in inspect")
    XCTAssertTrue(i.stdout.contains("a\\u{1B}[2J"), i.stdout)
    let bad = try dir.write("ctl.csv", "x,n,color\n1\u{1B}[2J,2,red\n")
    let r = try runEmber(["score", path, bad])
    XCTAssertEqual(r.status, 1)
    XCTAssertFalse(r.stderr.utf8.contains(0x1B), r.stderr)
    XCTAssertTrue(r.stderr.contains("1\\u{1B}[2J"), r.stderr)
  }

  func testAnOutputThatIsAnInputIsRefusedAndTheInputKept() throws {
    let original = try String(contentsOfFile: rows, encoding: .utf8)
    let link = dir.file("alias.csv")
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: rows)
    let cases: [[String]] = [
      ["score", model, rows, "--output", rows], ["classify", model, rows, "-o", link], ["energy", model, rows, "--output", model],
      ["sample", model, "--count", "3", "--output", model],
    ]
    for args in cases {
      let r = try runEmber(args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains("refusing to overwrite"), r.stderr)
    }
    XCTAssertEqual(try String(contentsOfFile: rows, encoding: .utf8), original)
    XCTAssertNoThrow(try EmberModel(path: model))
    let data = try dir.write("x.csv", "x,y,label\n" + (0..<30).map { "\($0),\($0 % 3),\($0 % 2)" }.joined(separator: "\n") + "\n")
    let before = try String(contentsOfFile: data, encoding: .utf8)
    let t = try runEmber(["train", data, "--target", "label", "--output", data])
    XCTAssertEqual(t.status, 64, t.stderr)
    XCTAssertEqual(try String(contentsOfFile: data, encoding: .utf8), before)
  }
}

import EmberFormat
import Foundation
import XCTest

/// `ember train` with stderr not a terminal (as under nohup, CI or cron): plain progress lines
/// by default, JSON lines on request, nothing with --quiet; the time budget and the row cap
/// say what they cut.
final class TrainProgressTests: XCTestCase {
  var dir: ScratchDir!
  var data: String!

  override func setUpWithError() throws {
    dir = try ScratchDir()
    var text = "u,v,tag,label\n"
    for i in 0..<80 {
      let a = i % 2 == 0
      text += "\(Double(i % 9) * 0.3 + (a ? 0 : 4)),\(Double(i % 7) * 0.5),\(i % 3 == 0 ? "p" : "q"),\(a ? "a" : "b")\n"
    }
    data = try dir.write("blobs.csv", text)
  }

  override func tearDown() { dir = nil }

  func train(_ extra: [String]) throws -> EmberRun {
    try runEmber(["train", data, "--target", "label", "--epochs", "20", "--hidden", "8", "--output", dir.file("m.ember")] + extra)
  }

  func testWithoutATerminalProgressIsPlainLinesOnePerClassFinished() throws {
    let r = try train([])
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = r.stderr.split(separator: "\n")
    XCTAssertTrue(lines.contains { $0.hasPrefix("ember train: reading ") }, r.stderr)
    XCTAssertTrue(lines.contains { $0.hasPrefix("ember train: reading the data, pass 1: 80 rows (pass done)") }, r.stderr)
    let done = lines.filter { $0.hasPrefix("ember train: class ") && $0.contains(" done at step ") }
    XCTAssertEqual(done.count, 2, r.stderr)
    XCTAssertTrue(done.contains { $0.contains("100% elapsed") }, r.stderr)
    XCTAssertFalse(r.stderr.contains("\u{1B}["), "no terminal escapes in a log")
    XCTAssertTrue(r.stderr.contains("wrote "), r.stderr)
  }

  func testQuietPrintsNothingAndJSONProgressIsOneObjectALine() throws {
    let quiet = try train(["--quiet"])
    XCTAssertEqual(quiet.status, 0)
    XCTAssertEqual(quiet.stderr, "")
    let r = try train(["--progress", "json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let objects = r.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
    var finished: Set<String> = []
    for line in objects {
      let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
      XCTAssertNotNil(o["fraction"] as? Double)
      // Class fields only in a class's stages (not while reading, calibrating, fitting the read-out).
      if o["class"] != nil { XCTAssertEqual(o["classes"] as? Int, 2) }
      if o["event"] as? String == "class_done" { finished.insert(try XCTUnwrap(o["label"] as? String)) }
    }
    XCTAssertEqual(finished, ["a", "b"], r.stderr)
    // Every stage reports, not only the network steps (each pass's end and each class's end
    // are always written; the rest at most once a second).
    let stages = Set(objects.compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["stage"] as? String
    })
    XCTAssertTrue(stages.isSuperset(of: ["reading", "network"]), "\(stages)")
    let bad = try train(["--progress", "fancy"])
    XCTAssertEqual(bad.status, 64, bad.stderr)
  }

  func testATimeBudgetStopsEarlyAndSaysSoInTheSummaryAndTheFile() throws {
    // 0.05 s: a tenth of what one class's full fit takes in a debug build here (at 0.5 s a class
    // whose early stopping comes first sometimes finished inside its share).
    let r = try train(["--epochs", "100000", "--max-seconds", "0.05", "--progress", "none"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("note: time budget 0.05 s: \"a\", \"b\" stopped early"), r.stderr)
    let m = try EmberModel(path: dir.file("m.ember"))
    let note = try XCTUnwrap(m.metadata["trainer.max_seconds"])
    XCTAssertTrue(note.hasPrefix("0.05; stopped early"), note)
    XCTAssertEqual(try train(["--max-seconds", "0"]).status, 64)
  }

  func testTheRowCapFitsALargeClassOnASubsetAndSaysSo() throws {
    let r = try train(["--max-class-rows", "30", "--progress", "none"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("class \"a\": fitted on a random 30 of its 40 rows"), r.stderr)
    XCTAssertTrue(r.stderr.contains("class \"a\": 30 train"), r.stderr)
  }
}

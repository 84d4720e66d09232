import EmberFormat
import Foundation
import XCTest

@testable import EmberTrainer

/// The file path reads the CSV in streaming passes (``CSVFileSource``); the in-memory table is
/// the same code over held strings. Both must give the same encoding, warnings and errors.
final class StreamingIngestTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func write(_ text: String, _ name: String = "t.csv") throws -> String {
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func assertSame(_ a: EncodedData, _ b: EncodedData, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.features, b.features, file: file, line: line)
    XCTAssertEqual(a.classLabels, b.classLabels, file: file, line: line)
    XCTAssertEqual(a.classCounts, b.classCounts, file: file, line: line)
    XCTAssertEqual(a.classRows, b.classRows, file: file, line: line)
    XCTAssertEqual(a.warnings, b.warnings, file: file, line: line)
    XCTAssertEqual(a.sourceRows, b.sourceRows, file: file, line: line)
  }

  /// A table with every inference case: numbers, whole numbers, strings, missing cells, a late
  /// typo in a column of many distinct numbers (its categories need the second pass), a class
  /// too small to keep (statistics are redone without its rows), rows without a label.
  func mixedTable(rows: Int = 6_000) -> String {
    var text = "num,count,word,late,y\n"
    for i in 0..<rows {
      let num = i % 17 == 0 ? "NA" : "\(Double(i % 101) * 0.37)"
      let late = i == rows - 3 ? "inf" : "\(i).5"
      let label = i % 50 == 7 ? "" : (i == 11 || i == 12 ? "tiny" : (i % 3 == 0 ? "b" : "a"))
      text += "\(num),\(i % 9),\(["red", "green", " blue "][i % 3]),\(late),\(label)\n"
    }
    return text
  }

  func testStreamingPassesEncodeExactlyAsTheInMemoryTable() throws {
    let text = mixedTable()
    let path = try write(text)
    let table = try CSVTable.parse(text, file: path)
    let fromTable = try Preprocessor.fit(
      table, target: "y", overrides: ColumnOverrides(), minClassRows: 10, cap: nil, reading: nil)
    let fromFile = try Preprocessor.fit(
      try CSVFileSource(path: path), target: "y", overrides: ColumnOverrides(), minClassRows: 10, cap: nil, reading: nil)
    assertSame(fromTable, fromFile)
    XCTAssertEqual(fromFile.features.map(\.kind), [.numeric, .integer, .categorical, .categorical])
    XCTAssertEqual(fromFile.features[2].categories, ["blue", "green", "red"])
    XCTAssertEqual(fromFile.features[3].categories.count, 5_878, "every distinct cell of the kept rows of the late column, after the pass")
    XCTAssertTrue(fromFile.warnings.contains { $0.contains("\"inf\" on line 5999") }, "\(fromFile.warnings)")
    XCTAssertTrue(fromFile.warnings.contains { $0.contains("\"tiny\" has 2 row(s)") })
    XCTAssertEqual(fromFile.sourceRows, 6_000)
  }

  func testARowCapEncodesOnlyTheSubsampleTheTrainerChose() throws {
    let text = mixedTable(rows: 3_000)
    let path = try write(text)
    let all = try Preprocessor.fit(
      try CSVFileSource(path: path), target: "y", overrides: ColumnOverrides(), minClassRows: 10, cap: nil, reading: nil)
    let capped = try Preprocessor.fit(
      try CSVFileSource(path: path), target: "y", overrides: ColumnOverrides(), minClassRows: 10,
      cap: RowCap(limit: 500, seed: 7), reading: nil)
    XCTAssertEqual(capped.features, all.features, "statistics count every row, not only the kept ones")
    XCTAssertEqual(capped.classCounts, all.classCounts)
    let d = all.width
    for c in all.classLabels.indices {
      let keep = Trainer.subsample(Array(0..<all.classCounts[c]), limit: 500, seed: 7, classIndex: c)
      let expected = keep.flatMap { all.classRows[c][($0 * d)..<(($0 + 1) * d)] }
      XCTAssertEqual(capped.classRows[c], expected)
      XCTAssertEqual(capped.heldRows(c), 500)
    }
  }

  func testSparseSubsamplePositionsMatchTheFullShuffle() {
    for (count, limit) in [(10, 3), (1_000, 999), (5_000, 50), (7, 7), (7, 0)] {
      let rows = Array(0..<count)
      var rng = TrainerRandom(seed: 3, stream: 0x5CA1_E000 &+ 2)
      var pool = rows
      if limit > 0 && count > limit {
        for i in 0..<limit { pool.swapAt(i, i + rng.below(pool.count - i)) }
        XCTAssertEqual(Trainer.subsamplePositions(count: count, limit: limit, seed: 3, classIndex: 2), pool[0..<limit].sorted())
      } else {
        XCTAssertNil(Trainer.subsamplePositions(count: count, limit: limit, seed: 3, classIndex: 2))
      }
    }
  }

  func testErrorsFromTheStreamingPassesNameFileLineAndColumn() throws {
    let ragged = try write("a,y\n1,x\n2\n", "ragged.csv")
    XCTAssertThrowsError(try Trainer.train(csvPath: ragged, options: TrainingOptions(target: "y"))) { e in
      XCTAssertEqual((e as? TrainerError)?.code, .raggedRow)
      XCTAssertEqual((e as? TrainerError)?.line, 3)
    }
    var text = "v,y\n"
    for i in 0..<12 { text += "\(i == 7 ? "seven" : "\(i)"),a\n" }
    let typo = try write(text, "typo.csv")
    var o = TrainingOptions(target: "y")
    o.overrides = ColumnOverrides(numeric: ["v"])
    XCTAssertThrowsError(try Trainer.train(csvPath: typo, options: o)) { e in
      let e = e as? TrainerError
      XCTAssertEqual(e?.code, .badValue)
      XCTAssertEqual(e?.line, 9)
      XCTAssertEqual(e?.column, "v")
    }
    let header = try write("a,y\n", "header.csv")
    XCTAssertThrowsError(try Trainer.train(csvPath: header, options: TrainingOptions(target: "y"))) { e in
      XCTAssertEqual((e as? TrainerError)?.code, .noRows)
    }
    let empty = try write("", "empty.csv")
    XCTAssertThrowsError(try Trainer.train(csvPath: empty, options: TrainingOptions(target: "y"))) { e in
      XCTAssertEqual((e as? TrainerError)?.code, .emptyFile)
    }
  }

  func testAFIFOIsSpooledToATemporaryFileAndReadAsTheFile() throws {
    let text = mixedTable(rows: 400)
    let path = try write(text)
    let fifo = dir.appendingPathComponent("pipe").path
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let writer = Thread {
      if let h = FileHandle(forWritingAtPath: fifo) {
        h.write(text.data(using: .utf8)!)
        try? h.close()
      }
    }
    writer.start()
    let source = try CSVFileSource(path: fifo)
    let fromFIFO = try Preprocessor.fit(
      source, target: "y", overrides: ColumnOverrides(), minClassRows: 10, cap: nil, reading: nil)
    let fromFile = try Preprocessor.fit(
      try CSVFileSource(path: path), target: "y", overrides: ColumnOverrides(), minClassRows: 10, cap: nil, reading: nil)
    XCTAssertEqual(fromFIFO.classRows, fromFile.classRows)
    XCTAssertEqual(fromFIFO.features, fromFile.features)
  }

  func testEveryStageOfARunReportsProgress() throws {
    // Two numeric columns (the mixed table's many categories would make a wide, slow model).
    var text = "u,v,y\n"
    for i in 0..<120 { text += "\(Double(i % 11) * 0.3 + (i % 2 == 0 ? 0 : 3)),\(Double(i % 7) * 0.5),\(i % 2 == 0 ? "a" : "b")\n" }
    let path = try write(text)
    final class Stages: @unchecked Sendable {
      let lock = NSLock()
      var seen: [TrainingProgress.Stage] = []
      func add(_ s: TrainingProgress.Stage) {
        lock.lock()
        if seen.last != s { seen.append(s) }
        lock.unlock()
      }
    }
    let stages = Stages()
    var o = TrainingOptions(target: "y")
    o.settings.epochs = 5
    o.settings.hidden = [8]
    o.threads = 1
    _ = try Trainer.train(csvPath: path, options: o) { stages.add($0.stage) }
    XCTAssertEqual(stages.seen.first, .reading)
    XCTAssertEqual(
      Set(stages.seen), Set(TrainingProgress.Stage.allCases), "every stage reports: \(stages.seen)")
    XCTAssertEqual(Array(stages.seen.suffix(2)), [.calibration, .readout])
  }
}

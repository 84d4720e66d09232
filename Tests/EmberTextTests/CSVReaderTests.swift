import Foundation
import XCTest

@testable import EmberText

/// Reads every record of `text` (as strings) with their lines.
func readAll(_ text: String, chunk: Int? = nil, delimiter: UInt8 = 0x2C, maxRecord: Int = CSVReader.defaultMaxRecordBytes)
  throws(TextError) -> [(Int, [String])]
{
  let reader: CSVReader
  if let chunk {
    // Through a file descriptor, in tiny reads, to cross every buffer boundary.
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("embertext-\(UUID().uuidString).csv")
    try! Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    reader = try CSVReader(path: url.path, delimiter: delimiter, maxRecordBytes: maxRecord, chunkBytes: chunk)
  } else {
    reader = CSVReader(text: text, name: "t.csv", delimiter: delimiter, maxRecordBytes: maxRecord)
  }
  var out: [(Int, [String])] = []
  while let r = try reader.next() { out.append((r.line, try r.strings())) }
  return out
}

func expectError(_ text: String, _ code: TextError.Code, line: Int, column: Int = 0, maxRecord: Int = 1 << 20,
  file: StaticString = #filePath, at: UInt = #line) -> TextError?
{
  for chunk in [nil, 16, 1 << 18] as [Int?] {
    do {
      _ = try readAll(text, chunk: chunk, maxRecord: maxRecord)
      XCTFail("no error for \(text.debugDescription.prefix(60))", file: file, line: at)
      return nil
    } catch {
      XCTAssertEqual(error.code, code, "\(error)", file: file, line: at)
      XCTAssertEqual(error.line, line, "\(error)", file: file, line: at)
      XCTAssertEqual(error.column, column, "\(error)", file: file, line: at)
      if chunk == nil { return error }
    }
  }
  return nil
}

final class CSVReaderTests: XCTestCase {
  func testRecordsFieldsAndLinesWithLFAndCRLFAndLoneCR() throws {
    for chunk in [nil, 16, 17, 1 << 18] as [Int?] {
      let rows = try readAll("a,b\n1,2\r\n3,4\r5,6", chunk: chunk)
      XCTAssertEqual(rows.map(\.0), [1, 2, 3, 4])
      XCTAssertEqual(rows.map(\.1), [["a", "b"], ["1", "2"], ["3", "4"], ["5", "6"]])
    }
  }

  func testQuotedFieldsHoldSeparatorsLineBreaksAndDoubledQuotes() throws {
    let text = "name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"multi\nline\r\nfield\",x\n\"\",\"\"\"\"\nlast,row\n"
    for chunk in [nil, 16, 5 + 16, 1 << 18] as [Int?] {
      let rows = try readAll(text, chunk: chunk)
      XCTAssertEqual(rows.map(\.1), [["name", "note"], ["a,b", "say \"hi\""], ["multi\nline\r\nfield", "x"], ["", "\""], ["last", "row"]])
      // The multi-line record starts on line 3 and spans three lines.
      XCTAssertEqual(rows.map(\.0), [1, 2, 3, 6, 7])
    }
  }

  func testByteOrderMarkIsSkippedOnlyAtTheStart() throws {
    let rows = try readAll("\u{FEFF}a,b\n\u{FEFF}1,2\n")
    XCTAssertEqual(rows.map(\.1), [["a", "b"], ["\u{FEFF}1", "2"]])
    for chunk in [16, 1 << 18] {
      XCTAssertEqual(try readAll("\u{FEFF}x\n1\n", chunk: chunk).map(\.1), [["x"], ["1"]])
    }
    XCTAssertEqual(try readAll("\u{FEFF}").count, 0)
  }

  func testBlankLinesAreSkippedButAQuotedEmptyFieldIsARecord() throws {
    let rows = try readAll("a\n\n1\r\n\r\n\"\"\n\n")
    XCTAssertEqual(rows.map(\.1), [["a"], ["1"], [""]])
    XCTAssertEqual(rows.map(\.0), [1, 3, 5])
  }

  func testLastRecordWithoutLineBreakAndEmptyTrailingFields() throws {
    XCTAssertEqual(try readAll("a,b\n1,").map(\.1), [["a", "b"], ["1", ""]])
    XCTAssertEqual(try readAll("a,b\n,\n").map(\.1), [["a", "b"], ["", ""]])
    XCTAssertEqual(try readAll("a\n\"q\"").map(\.1), [["a"], ["q"]])
    XCTAssertEqual(try readAll("").count, 0)
  }

  func testOtherDelimiters() throws {
    XCTAssertEqual(try readAll("a\tb\n1,5\t\"x\ty\"\n", delimiter: 0x09).map(\.1), [["a", "b"], ["1,5", "x\ty"]])
    XCTAssertEqual(try readAll("a;b\n1;2\n", delimiter: 0x3B).map(\.1), [["a", "b"], ["1", "2"]])
  }

  func testNulByteIsRefusedWithLineAndField() {
    let e = expectError("a,b\n1,2\n3,4\u{0}x\n", .nulByte, line: 3, column: 2)
    XCTAssertEqual(e?.description, "t.csv:3:2: a NUL byte in the input (binary data, or a UTF-16 file?)")
    _ = expectError("a\n\"x\ny\u{0}\"\n", .nulByte, line: 3, column: 1)
  }

  func testUnterminatedQuoteIsRefusedWithTheLineWhereTheRecordStarts() {
    let e = expectError("a,b\n1,\"open\n2,3\n4,5\n", .unterminatedQuote, line: 2, column: 2)
    XCTAssertEqual(e?.message, "a quoted field is not closed before the end of the input")
  }

  func testStrayQuoteAndTextAfterClosingQuote() {
    _ = expectError("a,b\n1,x\"y\n", .strayQuote, line: 2, column: 2)
    _ = expectError("a,b\n\"x\"y,2\n", .textAfterQuote, line: 2, column: 1)
  }

  func testRecordLongerThanTheLimitIsRefusedWithoutEchoingIt() throws {
    let long = String(repeating: "9", count: 5000)
    let e = expectError("a\n1\n\(long)\n2\n", .recordTooLong, line: 3, maxRecord: 1000)
    XCTAssertFalse(e?.description.contains("9999") ?? true)
    XCTAssertEqual(e?.description, "t.csv:3: a record longer than 1000 bytes (the limit)")
    // Exactly at the limit (line break included) is accepted.
    XCTAssertEqual(try readAll("\(String(repeating: "x", count: 999))\n", maxRecord: 1000).count, 1)
    _ = expectError("\(String(repeating: "x", count: 1000))\n", .recordTooLong, line: 1, maxRecord: 1000)
    // An unterminated quote that swallows the file hits the limit and says so.
    let q = expectError("a\n\"\(long)\n", .recordTooLong, line: 2, maxRecord: 1000)
    XCTAssertTrue(q?.message.contains("quoted field") ?? false)
  }

  func testTooManyFieldsIsRefusedWithTheLine() throws {
    let reader = CSVReader(text: "a,b,c\n1,2,3,4\n", name: "f.csv", maxFields: 3)
    XCTAssertEqual(try reader.next()?.count, 3)
    XCTAssertThrowsError(try reader.next()) { error in
      XCTAssertEqual("\(error)", "f.csv:2: a record with more than 3 fields (the limit)")
    }
    let wide = String(repeating: ",", count: 70_000)
    XCTAssertThrowsError(try CSVReader(text: wide, name: "w.csv").next()) { error in
      XCTAssertEqual((error as? TextError)?.code, .tooManyFields)
    }
    XCTAssertEqual(try CSVReader(text: wide, name: "w.csv", maxFields: 70_001).next()?.count, 70_001)
  }

  /// Batches hold every complete record of the buffer at once, all valid together, and give
  /// the same records and lines as one-by-one reading; an error after good records comes on
  /// the following call.
  func testBatchesMatchRecordByRecordReadingAndDeferErrors() throws {
    var text = "a,b\n"
    for i in 0..<2000 { text += "\(i),\"q\(i)\"\"x\"\n" }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("embertext-batch-\(UUID().uuidString).csv")
    try Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let expected = try readAll(text)
    for (chunk, maxRecords) in [(16, Int.max), (1000, 7), (1 << 18, Int.max)] {
      let reader = try CSVReader(path: url.path, chunkBytes: chunk)
      var got: [(Int, [String])] = []
      var batches = 0
      while let batch = try reader.nextBatch(maxRecords: maxRecords) {
        XCTAssertLessThanOrEqual(batch.count, maxRecords)
        // Read them all only after the batch is complete: every record is still valid.
        for r in 0..<batch.count { got.append((batch[r].line, try batch[r].strings())) }
        batches += 1
      }
      XCTAssertEqual(got.map(\.1), expected.map(\.1))
      XCTAssertEqual(got.map(\.0), expected.map(\.0))
      if chunk == 1 << 18 && maxRecords == Int.max { XCTAssertEqual(batches, 1) }
    }
    let bad = CSVReader(text: "a\n1\n2\n3\u{0}\n4\n", name: "b.csv")
    XCTAssertEqual(try bad.nextBatch()?.count, 3)
    XCTAssertThrowsError(try bad.nextBatch()) { error in XCTAssertEqual("\(error)", "b.csv:4:1: a NUL byte in the input (binary data, or a UTF-16 file?)") }
  }

  /// A batch moved into a CSVBatchCopy keeps its records — fields, quoted and unescaped ones
  /// too, and lines — while the reader reads the next batch (into the buffers it got back).
  func testMovedBatchesOutliveTheReadersNextBatch() throws {
    var text = "a,b,c\n"
    for i in 0..<3000 { text += "\(i),\"q,\(i)\"\"x\",\(i % 7 == 0 ? "\"two\nlines\"" : "")\n" }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("embertext-copy-\(UUID().uuidString).csv")
    try Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let expected = try readAll(text)
    for (chunk, maxRecords) in [(64, 5), (1000, 100), (1 << 18, 1024)] {
      let reader = try CSVReader(path: url.path, chunkBytes: chunk)
      let copy = CSVBatchCopy()
      var got: [(Int, [String])] = []
      var next = try reader.nextBatch(maxRecords: maxRecords)
      while let batch = next {
        let n = batch.count
        batch.move(into: copy)
        next = try reader.nextBatch(maxRecords: maxRecords)  // reads on before the copy is read
        XCTAssertEqual(copy.count, n)
        for r in 0..<copy.count { got.append((copy[r].line, try copy[r].strings())) }
      }
      XCTAssertEqual(got.map(\.1), expected.map(\.1))
      XCTAssertEqual(got.map(\.0), expected.map(\.0))
    }
  }

  func testByteTokenSetMatchesExactly() {
    let set = ByteTokenSet(["", "NA", "N/A", "?", "nan"])
    for (s, want) in [("", true), ("NA", true), ("N/A", true), ("?", true), ("nan", true), ("na", false), ("NAN", false), ("NA ", false), ("x", false)] {
      var s = s
      XCTAssertEqual(s.withUTF8 { set.contains($0) }, want, s)
    }
  }

  func testInvalidUTF8IsReportedWithLineAndField() throws {
    let reader = CSVReader(bytes: [0x61, 0x2C, 0x62, 0x0A, 0x31, 0x2C, 0xFF, 0x0A], name: "u.csv")
    _ = try reader.next()
    let r = try XCTUnwrap(reader.next())
    XCTAssertEqual(Array(r[1]), [0xFF])
    XCTAssertThrowsError(try r.string(1)) { error in
      XCTAssertEqual("\(error)", "u.csv:2:2: the field is not valid UTF-8 text")
    }
  }

  func testMissingFileAndDirectoryAreOpenErrors() {
    XCTAssertThrowsError(try CSVReader(path: "/nonexistent/x.csv")) { error in
      XCTAssertEqual("\(error)", "/nonexistent/x.csv: cannot open: No such file or directory")
    }
    XCTAssertThrowsError(try CSVReader(path: "/tmp")) { error in
      XCTAssertEqual("\(error)", "/tmp: is a directory, expected a CSV file")
    }
  }

  /// A record is returned as soon as its line ends, without waiting for more input.
  func testRecordsAreReturnedBeforeTheInputEnds() throws {
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    defer { close(fds[0]) }
    let reader = CSVReader(fileDescriptor: fds[0], name: "pipe")
    for line in ["a,b\n", "1,2\r\n", "3,4\r"] {
      _ = line.withCString { write(fds[1], $0, strlen($0)) }
      let r = try XCTUnwrap(reader.next())
      XCTAssertEqual(r.count, 2)
    }
    _ = "\n5,6\n".withCString { write(fds[1], $0, strlen($0)) }
    close(fds[1])
    let r = try XCTUnwrap(reader.next())
    XCTAssertEqual(try r.strings(), ["5", "6"])
    XCTAssertEqual(r.line, 4)
    XCTAssertNil(try reader.next())
  }

  /// Random CSV text, read in memory and through 1- to 40-byte reads, against a reference
  /// reader written the obvious way.
  func testRandomTextMatchesAReferenceReaderForEveryChunkSize() throws {
    var rng = SplitMix(seed: 7)
    let alphabet: [String] = ["a", "1", ",", "\"", "\n", "\r", "\r\n", " ", "é", "x"]
    for round in 0..<150 {
      var text = ""
      for _ in 0..<rng.below(60) { text += alphabet[rng.below(alphabet.count)] }
      let expected = referenceRead(text)
      for chunk in [nil, 16, 17, 23, 40] as [Int?] {
        do {
          let got = try readAll(text, chunk: chunk)
          guard case .records(let want) = expected else {
            XCTFail("round \(round): accepted \(text.debugDescription), reference refused it")
            continue
          }
          XCTAssertEqual(got.map(\.1), want.map(\.1), "round \(round) chunk \(chunk ?? 0): \(text.debugDescription)")
          XCTAssertEqual(got.map(\.0), want.map(\.0), "round \(round) chunk \(chunk ?? 0): \(text.debugDescription)")
        } catch {
          guard case .error(let code, let line) = expected else {
            XCTFail("round \(round): \(error) for \(text.debugDescription)")
            continue
          }
          XCTAssertEqual(error.code, code, "\(text.debugDescription)")
          XCTAssertEqual(error.line, line, "\(text.debugDescription)")
        }
      }
    }
  }
}

enum Reference { case records([(Int, [String])]), error(TextError.Code, Int) }

/// The CSV rules of ``CSVReader``, written character by character over a whole string.
func referenceRead(_ text: String) -> Reference {
  let b = Array(text.utf8)
  var i = 0
  var line = 1
  var out: [(Int, [String])] = []
  func lineBreakLength(_ j: Int) -> Int {
    if b[j] == 0x0A { return 1 }
    if b[j] == 0x0D { return j + 1 < b.count && b[j + 1] == 0x0A ? 2 : 1 }
    return 0
  }
  while i < b.count {
    let start = line
    var fields: [String] = []
    var field: [UInt8] = []
    var quoted = false
    var recordEnded = false
    while !recordEnded {
      if i == b.count {
        fields.append(String(decoding: field, as: UTF8.self))
        break
      }
      if b[i] == 0x22 && field.isEmpty && !quoted {
        quoted = true
        i += 1
        while true {
          if i == b.count { return .error(.unterminatedQuote, start) }
          if b[i] == 0x22 {
            if i + 1 < b.count && b[i + 1] == 0x22 {
              field.append(0x22)
              i += 2
              continue
            }
            i += 1
            break
          }
          let k = lineBreakLength(i)
          if k > 0 {
            line += 1
            field += b[i..<(i + k)]
            i += k
            continue
          }
          field.append(b[i])
          i += 1
        }
        if i < b.count && b[i] != 0x2C && lineBreakLength(i) == 0 { return .error(.textAfterQuote, line) }
        continue
      }
      if b[i] == 0x2C {
        fields.append(String(decoding: field, as: UTF8.self))
        field = []
        quoted = false
        i += 1
        continue
      }
      let k = lineBreakLength(i)
      if k > 0 {
        fields.append(String(decoding: field, as: UTF8.self))
        i += k
        line += 1
        recordEnded = true
        continue
      }
      if b[i] == 0x22 { return .error(.strayQuote, line) }
      field.append(b[i])
      i += 1
    }
    let blank = fields == [""] && !quoted
    if !blank { out.append((start, fields)) }
  }
  return .records(out)
}

/// A small seeded generator for tests.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Long unquoted runs are split sixteen bytes at a time (`ember_text_split_fields`): records of
/// random fields, some quoted, some empty, across every block and buffer boundary, read back
/// as written.
final class CSVFieldSplitTests: XCTestCase {
  func testRandomRecordsReadBackAsWritten() throws {
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("abc0123456789.-+e ;")
    var records: [[String]] = []
    var text = ""
    for _ in 0..<300 {
      let count = Int.random(in: 1...40, using: &rng)
      var fields: [String] = []
      for _ in 0..<count {
        var f = String((0..<Int.random(in: 0...25, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        if Int.random(in: 0..<8, using: &rng) == 0 { f += ",\"x\"\n" }  // needs quotes
        fields.append(f)
      }
      if fields == [""] { fields = ["z"] }  // an empty line is skipped, not a record
      records.append(fields)
      text += fields.map { $0.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
        .joined(separator: ",") + (Bool.random(using: &rng) ? "\n" : "\r\n")
    }
    for chunk in [nil, 16, 17, 100, 1 << 18] as [Int?] {
      let read = try readAll(text, chunk: chunk)
      XCTAssertEqual(read.map { $0.1 }, records, "chunk \(chunk.map(String.init) ?? "in memory")")
    }
  }

  func testFieldLimitAcrossABlock() {
    let line = (0..<40).map { "v\($0)" }.joined(separator: ",")
    let reader = CSVReader(text: "h\n" + line + "\n", name: "f.csv", maxFields: 39)
    XCTAssertEqual(try reader.next()?.count, 1)
    XCTAssertThrowsError(try reader.next()) { XCTAssertEqual(($0 as? TextError)?.code, .tooManyFields) }
    XCTAssertEqual(try CSVReader(text: line + "\n", name: "f.csv", maxFields: 40).next()?.count, 40)
  }
}

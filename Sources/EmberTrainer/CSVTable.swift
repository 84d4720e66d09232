import CSV
import Foundation

/// A CSV file read into memory as strings: a header and equally long rows.
public struct CSVTable: Sendable {
  /// File name used in error messages (the path as given).
  public let file: String
  /// Column names from the header row.
  public let header: [String]
  /// Data rows, each with `header.count` fields (surrounding whitespace trimmed).
  public let rows: [[String]]
  /// 1-based line of each row (header is line 1), for error messages; always one per row.
  public let lines: [Int]

  /// Creates a table from values (used by tests and by callers with in-memory data).
  public init(file: String, header: [String], rows: [[String]], lines: [Int]? = nil) {
    self.file = file
    self.header = header
    self.rows = rows
    self.lines = lines.flatMap { $0.count == rows.count ? $0 : nil } ?? rows.indices.map { $0 + 2 }
  }

  /// Reads `path`. A header row is required; every row must have as many fields as the header;
  /// blank lines are skipped. Throws ``TrainerError`` naming the file and line.
  public static func read(path: String) throws -> CSVTable {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
      throw TrainerError(.io, "no such file", file: path)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainerError(.io, "cannot read the file", file: path)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw TrainerError(.io, "the file is not UTF-8 text", file: path)
    }
    return try parse(text, file: path)
  }

  /// Parses CSV `text`; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws -> CSVTable {
    var text = text
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    let reader: CSVReader
    do {
      reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true)
    } catch {
      throw TrainerError(.emptyFile, "the file is empty: a header row is required", file: file)
    }
    guard let header = reader.headerRow, !(header.count == 1 && header[0].isEmpty) else {
      throw TrainerError(.emptyFile, "the file is empty: a header row is required", file: file)
    }
    var seen = Set<String>()
    for (i, name) in header.enumerated() {
      guard !name.isEmpty else {
        throw TrainerError(.badValue, "header field \(i + 1) is empty: every column needs a name", file: file, line: 1)
      }
      guard seen.insert(name).inserted else {
        throw TrainerError(.badValue, "duplicate column name", file: file, line: 1, column: name)
      }
    }
    // Physical line of each record: count newlines outside quotes as the reader consumes records.
    let recordLines = recordStartLines(text)
    var rows: [[String]] = []
    var lines: [Int] = []
    var record = 1  // index into recordLines (0 is the header)
    while let row = reader.next() {
      let line = record < recordLines.count ? recordLines[record] : record + 1
      record += 1
      if row.count == 1 && row[0].isEmpty { continue }
      guard row.count == header.count else {
        throw TrainerError(
          .raggedRow, "expected \(header.count) fields as in the header, found \(row.count)", file: file, line: line)
      }
      rows.append(row)
      lines.append(line)
    }
    if let error = reader.error {
      throw TrainerError(.io, "cannot parse the CSV: \(error)", file: file)
    }
    guard !rows.isEmpty else { throw TrainerError(.noRows, "the file has a header but no data rows", file: file) }
    return CSVTable(file: file, header: header, rows: rows, lines: lines)
  }

  /// Index of column `name`, or a ``TrainerError`` naming it.
  public func column(_ name: String) throws -> Int {
    guard let i = header.firstIndex(of: name) else {
      throw TrainerError(
        .missingColumn, "no such column (columns: \(header.joined(separator: ", ")))", file: file, column: name)
    }
    return i
  }

  /// Starting line of every record (header first), treating newlines inside quotes as part of
  /// the record and CRLF as one break.
  static func recordStartLines(_ text: String) -> [Int] {
    var starts = [1]
    var line = 1
    var quoted = false
    var previousCR = false
    for u in text.utf8 {
      if u == UInt8(ascii: "\"") { quoted.toggle() }
      if u == UInt8(ascii: "\n") {
        if !previousCR {
          line += 1
          if !quoted { starts.append(line) }
        }
      } else if u == UInt8(ascii: "\r") {
        line += 1
        if !quoted { starts.append(line) }
      }
      previousCR = u == UInt8(ascii: "\r")
    }
    return starts
  }
}

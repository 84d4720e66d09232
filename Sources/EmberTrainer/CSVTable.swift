import EmberText

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

  /// Reads `path` with EmberText's streaming reader — the CSV reader of every verb (a BOM is
  /// skipped, CRLF and quotes handled, records over 1 MiB and NUL bytes refused with their
  /// line). A header row is required; every row must have as many fields as the header;
  /// blank lines are skipped; fields are trimmed of spaces and tabs. Throws ``TrainerError``
  /// naming the file and line.
  public static func read(path: String) throws -> CSVTable {
    let reader: CSVReader
    do {
      reader = try CSVReader(path: path)
    } catch {
      throw TrainerError(.io, error.message, file: path)
    }
    return try parse(reader, file: path)
  }

  /// Parses CSV `text`; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws -> CSVTable {
    try parse(CSVReader(text: text, name: file), file: file)
  }

  static func parse(_ reader: CSVReader, file: String) throws -> CSVTable {
    guard let first = try CSVFileSource.next(reader, file: file), case let header = try fields(first, file: file) else {
      throw TrainerError(.emptyFile, "the file is empty: a header row is required", file: file)
    }
    try checkHeader(header, file: file)
    var rows: [[String]] = []
    var lines: [Int] = []
    while let record = try CSVFileSource.next(reader, file: file) {
      let row = try fields(record, file: file)
      if row.count == 1 && row[0].isEmpty { continue }
      guard row.count == header.count else {
        throw TrainerError(
          .raggedRow, "expected \(header.count) fields as in the header, found \(row.count)", file: file, line: record.line)
      }
      rows.append(row)
      lines.append(record.line)
    }
    guard !rows.isEmpty else { throw TrainerError(.noRows, "the file has a header but no data rows", file: file) }
    return CSVTable(file: file, header: header, rows: rows, lines: lines)
  }

  /// The record's fields as trimmed strings (an error names a field that is not UTF-8).
  static func fields(_ r: CSVRecord, file: String) throws -> [String] {
    var out: [String] = []
    out.reserveCapacity(r.count)
    for i in 0..<r.count {
      guard let s = decodeUTF8(ByteText.trimmed(r[i])) else {
        throw TrainerError(.badValue, "field \(i + 1) is not valid UTF-8 text", file: file, line: r.line)
      }
      out.append(s)
    }
    return out
  }

  /// A header row must name every column, each once; an empty file has one empty field.
  static func checkHeader(_ header: [String], file: String) throws {
    guard !(header.count == 1 && header[0].isEmpty) else {
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
  }

  /// Index of column `name`, or a ``TrainerError`` naming it.
  public func column(_ name: String) throws -> Int {
    guard let i = header.firstIndex(of: name) else {
      throw TrainerError(
        .missingColumn, "no such column (columns: \(header.joined(separator: ", ")))", file: file, column: name)
    }
    return i
  }
}

import EmberRuntime
import EmberText
import Foundation
import _EmberSystem

/// Rows of a training table, read once per pass: the trainer reads a CSV file several times
/// (schema, then encoding) instead of holding its text.
///
/// A pass visits every data row in file order — blank rows skipped, every row with as many
/// fields as the header (else ``TrainerError/Code/raggedRow`` with its line) — and hands the
/// row's fields as bytes (``RowFields``; valid during the call only) with its 1-based line.
protocol TableSource {
  associatedtype Row: RowFields
  /// File name for messages (the path as given).
  var file: String { get }
  /// Column names (trimmed).
  var header: [String] { get }
  /// One pass over the data rows; `validate`: also check that every field is UTF-8 text (the
  /// first pass does; later passes read the same bytes).
  func forEachRow(validate: Bool, _ body: (Row, Int) throws -> Void) throws
}

extension CSVTable: TableSource {
  /// One pass over the rows held in memory.
  func forEachRow(validate: Bool, _ body: (ByteFields, Int) throws -> Void) throws {
    var bytes: [UInt8] = []
    var bounds: [Int] = []
    for (r, row) in rows.enumerated() {
      bytes.removeAll(keepingCapacity: true)
      bounds.removeAll(keepingCapacity: true)
      bounds.append(0)
      for field in row {
        bytes += field.utf8
        bounds.append(bytes.count)
      }
      try bytes.withUnsafeBufferPointer { try body(ByteFields(base: $0, bounds: bounds), lines[r]) }
    }
  }
}

/// A CSV file read in streaming passes with EmberText's ``CSVReader`` (the reader of every
/// verb): memory does not grow with the file. Standard input (`-`) and other inputs that cannot
/// be read twice (a pipe, a FIFO, a character device) are first copied to a temporary file,
/// removed when the source is released.
final class CSVFileSource: TableSource {
  let file: String
  let header: [String]
  /// The path every pass opens: `file`, or the spooled copy of a stream.
  private let path: String
  private let spool: String?

  /// Opens `path` and reads its header (required: non-empty names, no duplicates).
  init(path: String) throws {
    file = path
    if path == "-" || ember_sys_path_kind(path, 1) == Int32(EMBER_FILE_FIFO)
      || ember_sys_path_kind(path, 1) == Int32(EMBER_FILE_CHARACTER)
    {
      let copy = try Self.spoolToTemporaryFile(path)
      spool = copy
      self.path = copy
    } else {
      spool = nil
      self.path = path
    }
    let reader = try Self.open(self.path, name: file)
    guard let first = try Self.next(reader, file: file) else {
      throw TrainerError(.emptyFile, "the file is empty: a header row is required", file: file)
    }
    let names = try CSVTable.fields(first, file: file)
    try CSVTable.checkHeader(names, file: file)
    header = names
  }

  deinit {
    if let spool {
      _ = ember_sys_unlink(spool)
      ember_sys_unregister_temporary(spool)
    }
  }

  func forEachRow(validate: Bool, _ body: (CSVRecord, Int) throws -> Void) throws {
    let reader = try Self.open(path, name: file)
    _ = try Self.next(reader, file: file)  // the header
    while let record = try Self.next(reader, file: file) {
      if record.count == 1 && ByteText.trimmed(record[0]).isEmpty { continue }
      guard record.count == header.count else {
        throw TrainerError(
          .raggedRow, "expected \(header.count) fields as in the header, found \(record.count)", file: file,
          line: record.line)
      }
      if validate {
        for i in 0..<record.count where !Self.isUTF8(ByteText.trimmed(record[i])) {
          throw TrainerError(.badValue, "field \(i + 1) is not valid UTF-8 text", file: file, line: record.line)
        }
      }
      try body(record, record.line)
    }
  }

  static func open(_ path: String, name: String) throws -> CSVReader {
    do {
      return try CSVReader(path: path)
    } catch {
      throw TrainerError(.io, error.message, file: name)
    }
  }

  static func next(_ reader: CSVReader, file: String) throws -> CSVRecord? {
    do {
      return try reader.next()
    } catch {
      let code: TrainerError.Code = error.code == .open || error.code == .read ? .io : .badValue
      throw TrainerError(
        code, error.column > 0 ? "\(error.message) (field \(error.column))" : error.message, file: file,
        line: error.line > 0 ? error.line : nil)
    }
  }

  /// Whether `bytes` are UTF-8 (ASCII checked without making a string).
  static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    for b in bytes where b >= 0x80 { return String(validating: bytes, as: UTF8.self) != nil }
    return true
  }

  /// Copies a stream (`-`: standard input) to a new temporary file; returns its path.
  static func spoolToTemporaryFile(_ path: String) throws -> String {
    let source: FileHandle?
    if path == "-" {
      source = FileHandle.standardInput
    } else {
      source = FileHandle(forReadingAtPath: path)
    }
    guard let source else { throw TrainerError(.io, "cannot open", file: path) }
    let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((dir + "/ember-train-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { ember_sys_make_temporary($0.baseAddress!, 0o600) }
    guard fd >= 0 else { throw TrainerError(.io, "cannot create a temporary file in \(dir) to hold the input") }
    let copy = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    ember_sys_register_temporary(copy)
    defer { _ = ember_sys_close(fd) }
    while true {
      let chunk: Data
      do {
        chunk = try source.read(upToCount: 1 << 20) ?? Data()
      } catch {
        _ = ember_sys_unlink(copy)
        throw TrainerError(.io, "cannot read: \(error.localizedDescription)", file: path)
      }
      if chunk.isEmpty { break }
      let ok = chunk.withUnsafeBytes { ember_sys_write_all(fd, $0.baseAddress, $0.count) }
      guard ok == 0 else {
        _ = ember_sys_unlink(copy)
        throw TrainerError(.io, "cannot write the temporary copy of the input in \(dir)", file: path)
      }
    }
    return copy
  }
}

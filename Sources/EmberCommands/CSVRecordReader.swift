#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A CSV syntax or I/O problem at a position in a named input.
struct CSVInputError: Error, CustomStringConvertible {
  let file: String
  let line: Int
  let column: Int?
  let message: String

  var description: String {
    if line <= 0 { return "\(file): \(message)" }
    if let column { return "\(file):\(line):\(column): \(message)" }
    return "\(file):\(line): \(message)"
  }
}

/// Streams CSV records (RFC 4180: quoted fields, doubled quotes, CRLF or LF) from a file
/// descriptor in fixed-size chunks, so memory does not grow with the input. Tracks the line a
/// record starts on for error messages. Each record is available as soon as its line ends,
/// which lets `--stream` answer row by row. A UTF-8 byte-order mark at the start is skipped;
/// a record longer than ``maximumRecordBytes`` is refused (memory stays bounded on any input).
final class CSVRecordReader {
  /// Longest record accepted, in bytes (1 MiB).
  static let maximumRecordBytes = 1 << 20

  let name: String
  let delimiter: UInt8
  private let fd: Int32
  private let ownsFD: Bool
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)
  private var start = 0
  private var end = 0
  private var eof = false
  private var nextLine = 1
  /// Line number (1-based) where the last returned record started.
  private(set) var recordLine = 0
  private var atStart = true

  /// Opens `path` ("-" = standard input).
  init(path: String, delimiter: UInt8) throws(CSVInputError) {
    name = path == "-" ? "<stdin>" : path
    self.delimiter = delimiter
    if path == "-" {
      fd = 0
      ownsFD = false
    } else {
      fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw CSVInputError(file: path, line: 0, column: nil, message: "cannot open: \(String(cString: strerror(errno)))")
      }
      var st = stat()
      if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
        close(fd)
        throw CSVInputError(file: path, line: 0, column: nil, message: "is a directory, expected a CSV file")
      }
      ownsFD = true
    }
  }

  deinit { if ownsFD { close(fd) } }

  private func fill() throws(CSVInputError) -> Bool {
    if eof { return false }
    if start > 0 {
      let remaining = end - start
      if remaining > 0 {
        buffer.withUnsafeMutableBytes { p in
          p.baseAddress!.copyMemory(from: p.baseAddress! + start, byteCount: remaining)
        }
      }
      end = remaining
      start = 0
    }
    if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
    while true {
      let n = buffer.withUnsafeMutableBytes { p in read(fd, p.baseAddress! + end, p.count - end) }
      if n < 0 {
        if errno == EINTR { continue }
        throw CSVInputError(file: name, line: nextLine, column: nil, message: "read failed: \(String(cString: strerror(errno)))")
      }
      if n == 0 {
        eof = true
        return false
      }
      end += n
      return true
    }
  }

  /// The next record's fields, or nil at end of input. Blank lines are skipped.
  func next() throws(CSVInputError) -> [String]? {
    if atStart {
      atStart = false
      while end - start < 3, try fill() {}
      if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF { start += 3 }
    }
    while true {
      guard let record = try nextRaw() else { return nil }
      if record.count == 1 && record[0].isEmpty { continue }
      return record
    }
  }

  private func nextRaw() throws(CSVInputError) -> [String]? {
    var fields: [String] = []
    var quoted: [UInt8] = []
    var inQuotes = false
    var quotedField = false
    // Offsets are relative to `start`, which `fill()` may move.
    var fieldBegin = 0
    var i = 0
    recordLine = nextLine
    var sawAny = false

    func finishField() throws(CSVInputError) {
      if quotedField {
        fields.append(try text(quoted, column: fields.count + 1))
        quoted.removeAll(keepingCapacity: true)
      } else {
        let s = try buffer.withUnsafeBufferPointer { (p) throws(CSVInputError) -> String in
          let slice = UnsafeBufferPointer(rebasing: p[(start + fieldBegin)..<(start + i)])
          if !slice.contains(where: { $0 >= 0x80 }) { return String(decoding: slice, as: UTF8.self) }
          guard let s = String(validating: slice, as: UTF8.self) else {
            throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "the field is not valid UTF-8")
          }
          return s
        }
        fields.append(s)
      }
      quotedField = false
    }

    func ensure(_ offset: Int) throws(CSVInputError) -> Bool {
      while start + offset >= end {
        if try !fill() { return false }
      }
      return true
    }

    while true {
      guard try ensure(i) else {
        if inQuotes {
          throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "unterminated quoted field at end of input")
        }
        if !sawAny { return nil }
        try finishField()
        start += i
        return fields
      }
      guard i < CSVRecordReader.maximumRecordBytes else {
        throw CSVInputError(
          file: name, line: recordLine, column: nil,
          message: "the record is longer than \(CSVRecordReader.maximumRecordBytes) bytes (the input limit)")
      }
      let b = buffer[start + i]
      sawAny = true
      if inQuotes {
        if b == 0x22 {
          if try ensure(i + 1), buffer[start + i + 1] == 0x22 {
            quoted.append(0x22)
            i += 2
            continue
          }
          inQuotes = false
          i += 1
          continue
        }
        if b == 0x0A { nextLine += 1 }
        quoted.append(b)
        i += 1
        continue
      }
      switch b {
      case 0x22:
        guard i == fieldBegin, !quotedField else {
          throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "stray quote inside an unquoted field")
        }
        inQuotes = true
        quotedField = true
        i += 1
      case delimiter:
        try finishField()
        i += 1
        fieldBegin = i
      case 0x0A, 0x0D:
        try finishField()
        if b == 0x0D, try ensure(i + 1), buffer[start + i + 1] == 0x0A { i += 1 }
        i += 1
        nextLine += 1
        start += i
        return fields
      default:
        if quotedField {
          throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "text after a closing quote")
        }
        i += 1
      }
    }
  }

  private func text(_ bytes: [UInt8], column: Int) throws(CSVInputError) -> String {
    guard let s = String(validating: bytes, as: UTF8.self) else {
      throw CSVInputError(file: name, line: recordLine, column: column, message: "the field is not valid UTF-8")
    }
    return s
  }
}

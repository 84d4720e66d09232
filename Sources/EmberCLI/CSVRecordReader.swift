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
    if let column { return "\(file):\(line):\(column): \(message)" }
    return "\(file):\(line): \(message)"
  }
}

/// Streams CSV records (RFC 4180: quoted fields, doubled quotes, CRLF or LF) from a file
/// descriptor in fixed-size chunks, so memory does not grow with the input. Tracks the line a
/// record starts on for error messages. Each record is available as soon as its line ends,
/// which lets `--stream` answer row by row.
final class CSVRecordReader {
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

  /// Opens `path` ("-" = standard input).
  init(path: String, delimiter: UInt8) throws {
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

  private func fill() throws -> Bool {
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
  func next() throws -> [String]? {
    while true {
      guard let record = try nextRaw() else { return nil }
      if record.count == 1 && record[0].isEmpty { continue }
      return record
    }
  }

  private func nextRaw() throws -> [String]? {
    var fields: [String] = []
    var field: [UInt8] = []
    var inQuotes = false
    var quotedField = false
    var i = start
    recordLine = nextLine
    var column = 1
    var sawAny = false
    while true {
      if i >= end {
        let consumed = i - start
        let more = try fill()
        i = start + consumed
        if !more {
          if inQuotes {
            throw CSVInputError(file: name, line: recordLine, column: column, message: "unterminated quoted field at end of input")
          }
          if !sawAny && field.isEmpty && fields.isEmpty { return nil }
          fields.append(try text(field, column: column))
          start = i
          return fields
        }
        continue
      }
      let b = buffer[i]
      sawAny = true
      if inQuotes {
        if b == 0x22 {
          if i + 1 >= end {
            let consumed = i - start
            _ = try fill()
            i = start + consumed
          }
          if i + 1 < end && buffer[i + 1] == 0x22 {
            field.append(0x22)
            i += 2
            continue
          }
          inQuotes = false
          i += 1
          continue
        }
        if b == 0x0A { nextLine += 1 }
        field.append(b)
        i += 1
        continue
      }
      switch b {
      case 0x22 where field.isEmpty && !quotedField:
        inQuotes = true
        quotedField = true
        i += 1
      case 0x22:
        throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "stray quote inside an unquoted field")
      case delimiter:
        fields.append(try text(field, column: fields.count + 1))
        field.removeAll(keepingCapacity: true)
        quotedField = false
        column = fields.count + 1
        i += 1
      case 0x0A, 0x0D:
        if quotedField == false || true {
          fields.append(try text(field, column: fields.count + 1))
        }
        if b == 0x0D {
          if i + 1 >= end {
            let consumed = i - start
            _ = try fill()
            i = start + consumed
          }
          if i + 1 < end && buffer[i + 1] == 0x0A { i += 1 }
        }
        i += 1
        nextLine += 1
        start = i
        return fields
      default:
        if quotedField {
          throw CSVInputError(file: name, line: recordLine, column: fields.count + 1, message: "text after a closing quote")
        }
        field.append(b)
        i += 1
      }
    }
  }

  private func text(_ bytes: [UInt8], column: Int) throws -> String {
    guard let s = String(validating: bytes, as: UTF8.self) else {
      throw CSVInputError(file: name, line: recordLine, column: column, message: "the field is not valid UTF-8")
    }
    return s
  }
}

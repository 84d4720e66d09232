import _EmberSystem

/// A streaming, byte-level CSV reader (RFC 4180) over a file, standard input or bytes in
/// memory.
///
/// - **Syntax.** Fields are separated by ``delimiter``; records end at LF, CRLF or a lone CR.
///   A field that starts with `"` is quoted: it may contain separators, line breaks and `""`
///   (one `"`); after its closing quote only a separator or a line end may follow. A `"`
///   inside an unquoted field is an error. A UTF-8 byte-order mark at the very start is
///   skipped. A line with no bytes at all is skipped (``skipsBlankLines``); `""` alone on a
///   line is a record with one empty field.
/// - **Limits.** A record longer than ``maxRecordBytes`` (default 1 MiB, line break
///   included) is refused with ``TextError/Code/recordTooLong`` and the line it starts on; a
///   NUL byte anywhere with ``TextError/Code/nulByte`` and its line and field; a quote still
///   open at the end of the input with ``TextError/Code/unterminatedQuote`` and the line where
///   its record starts. Messages never echo the input.
/// - **Memory.** Input is read in chunks of ``chunkBytes`` (256 KiB) into one buffer that
///   grows only while a single record needs more room (up to ``maxRecordBytes`` + one chunk),
///   so memory does not grow with the number of records.
/// - **Zero copy.** ``next()`` returns a ``CSVRecord`` whose fields are byte slices of the
///   reader's buffer (quotes removed, `""` turned into `"` in place), valid until the next
///   call to ``next()``. Each record is returned as soon as its line ends, without waiting
///   for more input (for row-by-row streaming from a pipe).
/// - **Cost.** One pass over the bytes with a 256-entry class table, plus a second pass over
///   quoted fields that contain `""`.
///
/// Not thread-safe: one reader per thread.
public final class CSVReader {
  /// The default ``maxRecordBytes``: 1 MiB.
  public static let defaultMaxRecordBytes = 1 << 20
  /// The default ``maxFields``: 65,536.
  public static let defaultMaxFields = 65_536
  /// The default ``chunkBytes``: 256 KiB.
  public static let defaultChunkBytes = 1 << 18

  /// The input's name in error messages: the path as given, or `<stdin>`.
  public let name: String
  /// The field separator byte (`,` by default).
  public let delimiter: UInt8
  /// The longest record accepted, in bytes, including its line break.
  public let maxRecordBytes: Int
  /// The most fields a record may have.
  public let maxFields: Int
  /// How many bytes each read asks the operating system for.
  public let chunkBytes: Int
  /// Whether lines without any bytes are skipped (default true).
  public var skipsBlankLines = true

  private var fd: Int32
  private var ownsFD: Bool
  private var buffer: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private let maxCapacity: Int
  private var start = 0
  private var end = 0
  private var eof = false
  private var atStart = true
  private var skipLF = false
  private var nextLine = 1
  private var lineOfRecord = 0
  private var fieldCount = 0
  private var bounds: UnsafeMutablePointer<Int32>
  private var flags: UnsafeMutablePointer<UInt8>
  private var boundsCapacity = 64
  private var fieldBase = 0
  private var recordLines: [Int] = []
  private var recordFields: [Int] = []
  private var pendingError: TextError?
  private let classes: UnsafeMutablePointer<UInt8>

  private static let quote: UInt8 = 0x22
  private static let lf: UInt8 = 0x0A
  private static let cr: UInt8 = 0x0D
  private static let quotedField: UInt8 = 1
  private static let escapedField: UInt8 = 2

  /// Opens `path` for reading; `"-"` is standard input (named `<stdin>`).
  /// Throws ``TextError/Code/open`` (missing, unreadable, a directory).
  public convenience init(
    path: String, delimiter: UInt8 = 0x2C, maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes,
    maxFields: Int = CSVReader.defaultMaxFields, chunkBytes: Int = CSVReader.defaultChunkBytes
  ) throws(TextError) {
    if path == "-" {
      self.init(
        fileDescriptor: 0, name: "<stdin>", delimiter: delimiter, maxRecordBytes: maxRecordBytes, maxFields: maxFields,
        chunkBytes: chunkBytes)
      return
    }
    let fd = ember_sys_open_read(path)
    guard fd >= 0 else { throw TextError(.open, "cannot open: \(systemErrorText(-fd))", file: path) }
    if ember_sys_file_kind(fd) == Int32(EMBER_FILE_DIRECTORY) {
      _ = ember_sys_close(fd)
      throw TextError(.open, "is a directory, expected a CSV file", file: path)
    }
    self.init(
      fileDescriptor: fd, name: path, delimiter: delimiter, maxRecordBytes: maxRecordBytes, maxFields: maxFields,
      chunkBytes: chunkBytes)
    ownsFD = true
  }

  /// Reads from an open file descriptor, which the reader does not close.
  public init(
    fileDescriptor: Int32, name: String, delimiter: UInt8 = 0x2C,
    maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes, maxFields: Int = CSVReader.defaultMaxFields,
    chunkBytes: Int = CSVReader.defaultChunkBytes
  ) {
    self.name = name
    self.delimiter = delimiter
    self.maxRecordBytes = max(1, maxRecordBytes)
    self.maxFields = max(1, maxFields)
    self.chunkBytes = max(16, chunkBytes)
    fd = fileDescriptor
    ownsFD = false
    maxCapacity = self.maxRecordBytes + self.chunkBytes
    capacity = min(self.chunkBytes, maxCapacity)
    buffer = .allocate(capacity: capacity + 1)  // + 1: the sentinel byte at `end`
    buffer[0] = 0
    bounds = .allocate(capacity: 2 * boundsCapacity)
    flags = .allocate(capacity: boundsCapacity)
    classes = .allocate(capacity: 512)
    classes.initialize(repeating: 0, count: 512)
    // Unquoted text stops at the separator, a quote, a line break or NUL (also the sentinel).
    for b in [delimiter, CSVReader.quote, CSVReader.lf, CSVReader.cr, 0] { classes[Int(b)] = 1 }
    // Quoted text stops at a quote, a line break (to count lines) or NUL.
    for b in [CSVReader.quote, CSVReader.lf, CSVReader.cr, 0] { classes[256 + Int(b)] = 1 }
  }

  /// Reads CSV text held in memory (the bytes are copied once).
  public convenience init(
    bytes: UnsafeRawBufferPointer, name: String, delimiter: UInt8 = 0x2C,
    maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes, maxFields: Int = CSVReader.defaultMaxFields
  ) {
    self.init(fileDescriptor: -1, name: name, delimiter: delimiter, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
    load(bytes)
  }

  /// Makes `bytes` the whole input.
  private func load(_ bytes: UnsafeRawBufferPointer) {
    precondition(bytes.count < Int(Int32.max), "in-memory CSV text is limited to 2 GiB")
    if bytes.count > capacity {
      buffer.deallocate()
      capacity = bytes.count
      buffer = .allocate(capacity: capacity + 1)
    }
    if let source = bytes.baseAddress, bytes.count > 0 {
      UnsafeMutableRawPointer(buffer).copyMemory(from: source, byteCount: bytes.count)
    }
    end = bytes.count
    buffer[end] = 0
    eof = true
  }

  /// Reads CSV text held in memory.
  public convenience init(
    bytes: [UInt8], name: String, delimiter: UInt8 = 0x2C, maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes,
    maxFields: Int = CSVReader.defaultMaxFields
  ) {
    self.init(fileDescriptor: -1, name: name, delimiter: delimiter, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
    bytes.withUnsafeBytes { load($0) }
  }

  /// Reads CSV text held in a string.
  public convenience init(
    text: String, name: String, delimiter: UInt8 = 0x2C, maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes,
    maxFields: Int = CSVReader.defaultMaxFields
  ) {
    self.init(fileDescriptor: -1, name: name, delimiter: delimiter, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
    var text = text
    text.withUTF8 { load(UnsafeRawBufferPointer($0)) }
  }

  deinit {
    if ownsFD { _ = ember_sys_close(fd) }
    buffer.deallocate()
    bounds.deallocate()
    flags.deallocate()
    classes.deallocate()
  }

  /// The next record, or nil at the end of the input. The record's fields point into the
  /// reader's buffer and are valid until the next call.
  public func next() throws(TextError) -> CSVRecord? {
    guard let batch = try nextBatch(maxRecords: 1) else { return nil }
    return batch[0]
  }

  /// The next records, as many as are complete in the buffer (at most `maxRecords`, and at
  /// least one unless the input has ended), or nil at the end of the input. All of them stay
  /// valid until the next call to ``next()`` or ``nextBatch(maxRecords:)``, so that they can be
  /// processed together (e.g. on several threads). A syntax error after some good records
  /// is thrown by the following call, after those records were returned. A batch never
  /// waits for more input once it holds a record.
  public func nextBatch(maxRecords: Int = Int.max) throws(TextError) -> CSVBatch? {
    if let pendingError {
      self.pendingError = nil
      throw pendingError
    }
    if atStart { try skipByteOrderMark() }
    recordLines.removeAll(keepingCapacity: true)
    recordFields.removeAll(keepingCapacity: true)
    fieldBase = 0
    // Reading more input moves the buffer's bytes: only while the batch is still empty.
    while recordLines.count < maxRecords && fieldBase < CSVReader.batchFieldLimit {
      let empty = recordLines.isEmpty
      if skipLF {
        if start == end {
          if !empty { break }
          _ = try fill()
        }
        if start < end && buffer[start] == CSVReader.lf { start += 1 }
        skipLF = false
      }
      if start == end {
        if !empty { break }
        if try !fill() { break }
        continue
      }
      lineOfRecord = nextLine
      let stop: Int
      do throws(TextError) {
        stop = try scan()
        if stop - start > maxRecordBytes { throw tooLong() }
      } catch {
        if empty { throw error }
        pendingError = error
        break
      }
      if stop < 0 {
        if !empty { break }
        if end - start > maxRecordBytes { throw tooLong() }
        _ = try fill()  // at the end of the input, the next scan ends the record
        continue
      }
      let blank = fieldCount == 1 && flags[fieldBase] == 0 && bounds[2 * fieldBase] == bounds[2 * fieldBase + 1]
      start = stop
      if blank && skipsBlankLines { continue }
      unescapeFields()
      recordLines.append(lineOfRecord)
      recordFields.append(fieldBase)
      fieldBase += fieldCount
    }
    if recordLines.isEmpty { return nil }
    recordFields.append(fieldBase)
    return CSVBatch(reader: self, count: recordLines.count)
  }

  /// A batch stops growing beyond this many fields (bounds memory stays ≤ 0.5 MiB).
  static let batchFieldLimit = 1 << 16

  /// The record `r` of the current batch.
  @inline(__always)
  func record(_ r: Int) -> CSVRecord {
    let first = recordFields[r]
    return CSVRecord(
      reader: self, line: recordLines[r], count: recordFields[r + 1] - first, base: buffer, bounds: bounds + 2 * first)
  }

  /// Hands the current batch over to `copy`: the copy takes the buffers that hold it (bytes,
  /// field bounds and flags, lines and starts) and gives the reader its previous ones, into
  /// which only the bytes not yet read as records (normally less than one record) are copied.
  func handOver(to copy: CSVBatchCopy) {
    let tail = end - start
    var (bytes, bytesCapacity) = copy.exchangeBytes(buffer, capacity: capacity)
    if bytesCapacity < capacity {
      bytes.deallocate()
      bytes = .allocate(capacity: capacity + 1)
      bytesCapacity = capacity
    }
    if tail > 0 { UnsafeMutableRawPointer(bytes).copyMemory(from: buffer + start, byteCount: tail) }
    bytes[tail] = 0  // the sentinel
    buffer = bytes
    capacity = bytesCapacity
    start = 0
    end = tail
    (bounds, flags, boundsCapacity) = copy.exchangeBounds(bounds, flags, capacity: boundsCapacity)
    copy.exchangeRecords(&recordLines, &recordFields)
  }

  // MARK: - Scanning

  /// Scans one record from `start`. Returns the index just past it (its line break
  /// included), or -1 when the buffer ends before the record does and more input may come.
  /// Sets the field bounds, the field flags and `nextLine`.
  private func scan() throws(TextError) -> Int {
    let b = buffer
    let e = end
    let quotedStop = classes + 256
    let delimiter = self.delimiter
    var p = start
    var n = 0
    var lines = 0
    let fieldBase = self.fieldBase
    while true {
      if n == maxFields {
        throw failure(
          TextError(.tooManyFields, "a record with more than \(maxFields) fields (the limit)", file: name, line: lineOfRecord),
          at: p)
      }
      if fieldBase + n == boundsCapacity { growBounds() }
      let bounds = self.bounds + 2 * fieldBase
      let flags = self.flags + fieldBase
      if b[p] == CSVReader.quote && p < e {
        p += 1
        let fieldStart = p
        var escaped = false
        while true {
          p = CSVReader.skipPlain(b, from: p, to: e, stops: quotedStop, word: CSVReader.quoteWord)
          if p >= e {
            guard eof else { return -1 }
            throw failure(
              TextError(
                .unterminatedQuote, "a quoted field is not closed before the end of the input", file: name,
                line: lineOfRecord, column: n + 1), at: p)
          }
          let c = b[p]
          if c == CSVReader.quote {
            if p + 1 < e {
              if b[p + 1] == CSVReader.quote {
                escaped = true
                p += 2
                continue
              }
              break
            }
            if !eof { return -1 }
            break
          } else if c == 0 {
            throw failure(nulError(line: lineOfRecord + lines, field: n + 1), at: p)
          } else if c == CSVReader.lf {
            lines += 1
            p += 1
          } else {  // CR: one line break, or the first half of CRLF
            if p + 1 < e {
              if b[p + 1] != CSVReader.lf { lines += 1 }
            } else if !eof {
              return -1
            } else {
              lines += 1
            }
            p += 1
          }
        }
        bounds[2 * n] = Int32(fieldStart)
        bounds[2 * n + 1] = Int32(p)
        flags[n] = escaped ? CSVReader.quotedField | CSVReader.escapedField : CSVReader.quotedField
        n += 1
        p += 1  // the closing quote
        if p >= e {
          guard eof else { return -1 }
          return finish(fields: n, lines: lines, at: p)
        }
        let c = b[p]
        if c == delimiter {
          p += 1
          continue
        }
        if c == CSVReader.lf || c == CSVReader.cr { return try lineBreak(at: p, fields: n, lines: lines) }
        if c == 0 { throw failure(nulError(line: lineOfRecord + lines, field: n), at: p) }
        throw failure(
          TextError(
            .textAfterQuote, "text after the closing quote of a quoted field (expected \(delimiterName) or a line end)",
            file: name, line: lineOfRecord + lines, column: n), at: p)
      }
      // Unquoted fields: every field up to the next quote, line break or NUL in one call
      // (at most as many as the field limit and the bounds' room allow).
      let room = min(maxFields - n, boundsCapacity - fieldBase - n)
      var ended = 0
      let stop = ember_text_split_fields(b, p, e, delimiter, bounds + 2 * n, room, &ended)
      for k in 0..<ended { flags[n + k] = 0 }
      let fieldStart = ended > 0 ? Int(bounds[2 * (n + ended) - 1]) + 1 : p
      n += ended
      p = stop
      if ended == room { continue }  // the limit check or more room, at the next field
      if p >= e {
        guard eof else { return -1 }
        bounds[2 * n] = Int32(fieldStart)
        bounds[2 * n + 1] = Int32(p)
        flags[n] = 0
        return finish(fields: n + 1, lines: lines, at: p)
      }
      let c = b[p]
      if c == CSVReader.quote && p == fieldStart { continue }  // a quoted field follows a separator
      bounds[2 * n] = Int32(fieldStart)
      bounds[2 * n + 1] = Int32(p)
      flags[n] = 0
      n += 1
      if c == CSVReader.lf || c == CSVReader.cr { return try lineBreak(at: p, fields: n, lines: lines) }
      if c == 0 { throw failure(nulError(line: lineOfRecord + lines, field: n), at: p) }
      throw failure(
        TextError(
          .strayQuote, "a quote inside an unquoted field (quote the whole field and double the quote)", file: name,
          line: lineOfRecord + lines, column: n), at: p)
    }
  }

  private static let ones: UInt64 = 0x0101_0101_0101_0101
  private static let highs: UInt64 = 0x8080_8080_8080_8080
  private static let quoteWord = UInt64(quote) &* ones
  private static let lfWord = UInt64(lf) &* ones
  private static let crWord = UInt64(cr) &* ones

  /// The first index in `p..<e` whose byte is in `stops` (a class table), or `e`. Eight
  /// bytes at a time: a byte equal to c makes `(x − 0x01…) & ~x & 0x80…` nonzero for
  /// x = word ^ c·0x01…, and its lowest set bit is always a true match. `word` is the
  /// delimiter repeated (or the quote again, for quoted text). Relies on the NUL sentinel
  /// at `e` for the byte-wise tail.
  @inline(__always)
  private static func skipPlain(
    _ b: UnsafeMutablePointer<UInt8>, from p0: Int, to e: Int, stops: UnsafeMutablePointer<UInt8>, word: UInt64
  ) -> Int {
    var p = p0
    let raw = UnsafeRawPointer(b)
    while p + 8 <= e {
      let v = raw.loadUnaligned(fromByteOffset: p, as: UInt64.self).littleEndian
      var hit = (v &- ones) & ~v
      var x = v ^ word
      hit |= (x &- ones) & ~x
      x = v ^ quoteWord
      hit |= (x &- ones) & ~x
      x = v ^ lfWord
      hit |= (x &- ones) & ~x
      x = v ^ crWord
      hit |= (x &- ones) & ~x
      hit &= highs
      if hit != 0 { return p + hit.trailingZeroBitCount >> 3 }
      p += 8
    }
    while stops[Int(b[p])] == 0 { p += 1 }
    return p
  }

  /// Ends a record at the line break at `p`.
  @inline(__always)
  private func lineBreak(at p: Int, fields n: Int, lines: Int) throws(TextError) -> Int {
    var q = p + 1
    if buffer[p] == CSVReader.cr {
      if q < end {
        if buffer[q] == CSVReader.lf { q += 1 }
      } else if !eof {
        skipLF = true  // an LF may follow in the next read; do not wait for it
      }
    }
    return finish(fields: n, lines: lines + 1, at: q)
  }

  @inline(__always)
  private func finish(fields n: Int, lines: Int, at p: Int) -> Int {
    fieldCount = n
    nextLine = lineOfRecord + lines
    return p
  }

  /// Removes the quote of each `""` in quoted fields, in place.
  private func unescapeFields() {
    let bounds = self.bounds + 2 * fieldBase
    let flags = self.flags + fieldBase
    for i in 0..<fieldCount where flags[i] & CSVReader.escapedField != 0 {
      var r = Int(bounds[2 * i])
      let stop = Int(bounds[2 * i + 1])
      var w = r
      while r < stop {
        let c = buffer[r]
        buffer[w] = c
        w += 1
        r += c == CSVReader.quote ? 2 : 1
      }
      bounds[2 * i + 1] = Int32(w)
      flags[i] &= ~CSVReader.escapedField
    }
  }

  private var delimiterName: String {
    switch delimiter {
    case 0x09: return "a tab"
    case 0x2C: return "a comma"
    default: return "'\(String(decoding: CollectionOfOne(delimiter), as: UTF8.self))'"
    }
  }

  /// `error`, or ``TextError/Code/recordTooLong`` when it lies past the record limit (so
  /// that the error does not depend on how the input was split into reads).
  private func failure(_ error: TextError, at p: Int) -> TextError {
    p - start >= maxRecordBytes ? tooLong() : error
  }

  private func nulError(line: Int, field: Int) -> TextError {
    TextError(.nulByte, "a NUL byte in the input (binary data, or a UTF-16 file?)", file: name, line: line, column: field)
  }

  private func tooLong() -> TextError {
    let quoteOpen = Self.endsInsideQuotes(buffer + start, count: min(end - start, maxRecordBytes + 1))
    return TextError(
      .recordTooLong,
      "a record longer than \(maxRecordBytes) bytes (the limit)\(quoteOpen ? "; a quoted field opened here may not be closed" : "")",
      file: name, line: lineOfRecord)
  }

  private static func endsInsideQuotes(_ p: UnsafePointer<UInt8>, count: Int) -> Bool {
    var open = false
    for i in 0..<count where p[i] == quote { open.toggle() }
    return open
  }

  private func growBounds() {
    let newCapacity = boundsCapacity * 2
    let newBounds = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * newCapacity)
    newBounds.update(from: bounds, count: 2 * boundsCapacity)
    bounds.deallocate()
    bounds = newBounds
    let newFlags = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    newFlags.update(from: flags, count: boundsCapacity)
    flags.deallocate()
    flags = newFlags
    boundsCapacity = newCapacity
  }

  // MARK: - Input

  /// Reads more input after the unconsumed bytes. Returns false at the end of the input.
  private func fill() throws(TextError) -> Bool {
    if eof { return false }
    if start > 0 {
      let remaining = end - start
      if remaining > 0 { buffer.update(from: buffer + start, count: remaining) }
      start = 0
      end = remaining
    }
    if end == capacity {
      let newCapacity = min(maxCapacity, capacity * 2)
      precondition(newCapacity > capacity, "record limit checked before growing")
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + 1)
      grown.update(from: buffer, count: end)
      buffer.deallocate()
      buffer = grown
      capacity = newCapacity
    }
    let n = ember_sys_read(fd, buffer + end, min(capacity - end, chunkBytes))
    if n < 0 {
      throw TextError(.read, "read failed: \(systemErrorText(Int32(-n)))", file: name, line: nextLine)
    }
    end += Int(n)
    buffer[end] = 0
    if n == 0 { eof = true }
    return n > 0
  }

  private func skipByteOrderMark() throws(TextError) {
    atStart = false
    while end - start < 3 {
      if try !fill() { break }
    }
    if end - start >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF {
      start += 3
    }
  }
}

/// Records read together by ``CSVReader/nextBatch(maxRecords:)``: a view, valid until the
/// reader's next call.
public struct CSVBatch {
  /// The reader that produced the records.
  public let reader: CSVReader
  /// The number of records.
  public let count: Int

  /// Record `r` (0-based).
  @inline(__always)
  public subscript(r: Int) -> CSVRecord {
    precondition(r >= 0 && r < count, "record index out of range")
    return reader.record(r)
  }
}

/// Records in input order, each a ``CSVRecord``: a reader's current batch (``CSVBatch``) or a
/// copy of one (``CSVBatchCopy``).
public protocol CSVRecords {
  /// The number of records.
  var count: Int { get }
  /// Record `r` (0-based).
  subscript(r: Int) -> CSVRecord { get }
}

extension CSVBatch: CSVRecords {}

/// A reader's batch handed over by ``CSVBatch/move(into:)``: it stays valid while the reader
/// reads on, until the next batch is moved into it. The reader and the copy exchange buffers
/// instead of copying the records (only the unread rest of the input, normally less than one
/// record, is copied), so moving a batch costs next to nothing; memory: a second set of the
/// reader's buffers. Lets one thread read the next batch while others work on this one.
public final class CSVBatchCopy: CSVRecords {
  /// The number of records.
  public private(set) var count = 0
  private var reader: CSVReader?
  private var bytes: UnsafeMutablePointer<UInt8>
  private var byteCapacity = 0
  private var bounds: UnsafeMutablePointer<Int32>
  private var flags: UnsafeMutablePointer<UInt8>
  private var boundsCapacity = 64
  private var lines: [Int] = []
  private var starts: [Int] = []

  /// An empty copy.
  public init() {
    bytes = .allocate(capacity: 1)
    bounds = .allocate(capacity: 2 * boundsCapacity)
    flags = .allocate(capacity: boundsCapacity)
  }

  deinit {
    bytes.deallocate()
    bounds.deallocate()
    flags.deallocate()
  }

  func exchangeBytes(_ taken: UnsafeMutablePointer<UInt8>, capacity: Int) -> (UnsafeMutablePointer<UInt8>, Int) {
    defer {
      bytes = taken
      byteCapacity = capacity
    }
    return (bytes, byteCapacity)
  }

  func exchangeBounds(
    _ taken: UnsafeMutablePointer<Int32>, _ takenFlags: UnsafeMutablePointer<UInt8>, capacity: Int
  ) -> (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UInt8>, Int) {
    defer {
      bounds = taken
      flags = takenFlags
      boundsCapacity = capacity
    }
    return (bounds, flags, boundsCapacity)
  }

  func exchangeRecords(_ readerLines: inout [Int], _ readerStarts: inout [Int]) {
    swap(&lines, &readerLines)
    swap(&starts, &readerStarts)
    count = lines.count
  }

  /// Record `r` (0-based): valid until the next batch is moved into this one.
  @inline(__always)
  public subscript(r: Int) -> CSVRecord {
    precondition(r >= 0 && r < count, "record index out of range")
    let first = starts[r]
    return CSVRecord(reader: reader!, line: lines[r], count: starts[r + 1] - first, base: bytes, bounds: bounds + 2 * first)
  }

  fileprivate func attach(_ reader: CSVReader) { self.reader = reader }
}

extension CSVBatch {
  /// Moves the records into `copy`, which then holds them until the next move into it; this
  /// batch (which must still be the reader's current one) is no longer valid.
  public func move(into copy: CSVBatchCopy) {
    copy.attach(reader)
    reader.handOver(to: copy)
  }
}

/// One CSV record: its fields as byte slices of the reader's buffer (quotes removed, `""`
/// unescaped) and the line it starts on. A view: valid only until the reader's next call to
/// ``CSVReader/next()``; copy what must outlive it (``string(_:)``, ``strings()``).
public struct CSVRecord {
  /// The reader that produced the record (its name is used in errors).
  public let reader: CSVReader
  /// The 1-based line where the record starts.
  public let line: Int
  /// The number of fields.
  public let count: Int
  /// The bytes the fields lie in, valid as long as the record: field i is
  /// `base[bounds[2i] ..< bounds[2i + 1]]` (quotes removed), for loops over fields in C.
  public let base: UnsafeMutablePointer<UInt8>
  /// Each field's start and end offsets in `base`, 2 × `count` values.
  public let bounds: UnsafeMutablePointer<Int32>

  init(reader: CSVReader, line: Int, count: Int, base: UnsafeMutablePointer<UInt8>, bounds: UnsafeMutablePointer<Int32>) {
    self.reader = reader
    self.line = line
    self.count = count
    self.base = base
    self.bounds = bounds
  }

  /// The bytes of field `i` (0-based), without quotes. O(1).
  @inlinable @inline(__always)
  public subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
    precondition(i >= 0 && i < count, "field index out of range")
    let s = Int(bounds[2 * i])
    return UnsafeBufferPointer(start: base + s, count: Int(bounds[2 * i + 1]) - s)
  }

  /// Field `i` as a string. Throws ``TextError/Code/invalidUTF8`` with the record's line and
  /// the 1-based field number when the bytes are not valid UTF-8.
  public func string(_ i: Int) throws(TextError) -> String {
    let bytes = self[i]
    if let s = decodeUTF8(bytes) { return s }
    throw TextError(.invalidUTF8, "the field is not valid UTF-8 text", file: reader.name, line: line, column: i + 1)
  }

  /// Every field as a string (see ``string(_:)``).
  public func strings() throws(TextError) -> [String] {
    var out: [String] = []
    out.reserveCapacity(count)
    for i in 0..<count { out.append(try string(i)) }
    return out
  }
}

/// `bytes` as a string when they are valid UTF-8, else nil. ASCII is checked 8 bytes at a time.
public func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
  if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
  return String(validating: bytes, as: UTF8.self)
}

@inline(__always)
func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  guard let p = bytes.baseAddress else { return true }
  var i = 0
  let n = bytes.count
  let raw = UnsafeRawPointer(p)
  while i + 8 <= n {
    if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
    i += 8
  }
  while i < n {
    if p[i] >= 0x80 { return false }
    i += 1
  }
  return true
}

import _EmberSystem

/// Buffered text output to a file descriptor: CSV fields (quoted when needed), shortest
/// round-trip floats, integers and raw text, written out in 64 KiB blocks (or at every line
/// end with ``flushesEachLine``). Opening, replacing and renaming files is the caller's job;
/// this type only writes to a descriptor it is given and never closes it.
///
/// Not thread-safe. Call ``flush()`` before the descriptor is closed or the process exits:
/// bytes still buffered are not written by `deinit`.
public final class TextOutput {
  /// The output's name in error messages (`<stdout>` for standard output).
  public let name: String
  /// Write the buffer out at every ``endLine()`` (for row-by-row streaming).
  public var flushesEachLine = false
  /// The field separator ``appendField(_:)`` quotes (`,` by default).
  public var delimiter: UInt8 = 0x2C

  private let fd: Int32
  private let buffer: UnsafeMutablePointer<UInt8>
  private let capacity = 1 << 16
  private var count = 0

  /// Writes to `fileDescriptor` (1 = standard output).
  public init(fileDescriptor: Int32, name: String) {
    fd = fileDescriptor
    self.name = name
    buffer = .allocate(capacity: capacity)
  }

  deinit { buffer.deallocate() }

  /// Appends raw bytes.
  @inline(__always)
  public func append(_ bytes: UnsafeBufferPointer<UInt8>) throws(TextError) {
    if bytes.count > capacity - count {
      try flush()
      if bytes.count > capacity { return try writeOut(bytes) }
    }
    if let p = bytes.baseAddress { ByteCopy.copy(bytes.count, from: p, to: buffer + count) }
    count += bytes.count
  }

  /// Appends the lines held by `text` (see ``RowText``); writes the buffer out when
  /// ``flushesEachLine``.
  public func append(_ text: RowText) throws(TextError) {
    try append(text.bytes)
    if flushesEachLine { try flush() }
  }

  /// Appends one byte.
  @inline(__always)
  public func append(byte: UInt8) throws(TextError) {
    if count == capacity { try flush() }
    buffer[count] = byte
    count += 1
  }

  /// Appends a string's UTF-8 bytes as they are.
  public func append(_ text: String) throws(TextError) {
    var text = text
    // withUTF8 rethrows untyped errors: carry the typed one out by value.
    let failure: TextError? = text.withUTF8 { p in
      do throws(TextError) { try append(p) } catch { return error }
      return nil
    }
    if let failure { throw failure }
  }

  /// Appends the shortest decimal that reads back as `value` (``FloatText/write(_:into:)``:
  /// Swift's `description`, e.g. `0.1`, `1e-05`, `-inf`, `nan`).
  @inline(__always)
  public func append(_ value: Float) throws(TextError) {
    if capacity - count < FloatText.maxLength { try flush() }
    count += FloatText.write(value, into: buffer + count)
  }

  /// Appends an integer in decimal.
  public func append(_ value: Int) throws(TextError) {
    if capacity - count < 20 { try flush() }
    count += IntegerText.write(value, into: buffer + count)
  }

  /// Appends one CSV field: as it is, or in double quotes with `"` doubled when it contains
  /// the delimiter, a quote, CR or LF.
  public func appendField(_ bytes: UnsafeBufferPointer<UInt8>) throws(TextError) {
    guard CSVQuoting.needsQuotes(bytes, delimiter: delimiter) else { return try append(bytes) }
    try append(byte: 0x22)
    for b in bytes {
      if b == 0x22 { try append(byte: 0x22) }
      try append(byte: b)
    }
    try append(byte: 0x22)
  }

  /// ``appendField(_:)`` of a string's UTF-8 bytes.
  public func appendField(_ text: String) throws(TextError) {
    var text = text
    let failure: TextError? = text.withUTF8 { p in
      do throws(TextError) { try appendField(p) } catch { return error }
      return nil
    }
    if let failure { throw failure }
  }

  /// Appends `fields` as one CSV line (comma-separated, quoted when needed) and ends it.
  public func appendRow(_ fields: [String]) throws(TextError) {
    for (i, f) in fields.enumerated() {
      if i > 0 { try append(byte: delimiter) }
      try appendField(f)
    }
    try endLine()
  }

  /// Appends a line feed; writes the buffer out when ``flushesEachLine``.
  @inline(__always)
  public func endLine() throws(TextError) {
    try append(byte: 0x0A)
    if flushesEachLine { try flush() }
  }

  /// Writes the buffered bytes to the descriptor. Throws ``TextError/Code/write``.
  public func flush() throws(TextError) {
    guard count > 0 else { return }
    let n = count
    count = 0
    try writeOut(UnsafeBufferPointer(start: buffer, count: n))
  }

  private func writeOut(_ bytes: UnsafeBufferPointer<UInt8>) throws(TextError) {
    let status = ember_sys_write_all(fd, bytes.baseAddress, bytes.count)
    if status != 0 { throw TextError(.write, "write failed: \(systemErrorText(-status))", file: name) }
  }
}

/// Shortest round-trip text of a `Float`.
public enum FloatText {
  /// The longest text ``write(_:into:)`` produces (`-1.1754942e-38` is 14 bytes).
  public static let maxLength = 32

  /// Writes the shortest decimal that reads back as `value` (among those, the closest), in
  /// Swift's `description` format: `1.0`, `0.1`, `123456.0`, `1e-05`, `1.6777216e+07`,
  /// `-0.0`, `inf`, `-inf`, `nan`. Returns the number of bytes (at most ``maxLength``).
  /// Built on the standard library's own shortest printing (`description`); it allocates
  /// nothing for these short strings.
  @inline(__always)
  public static func write(_ value: Float, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var text = value.description
    return text.withUTF8 { p in
      ByteCopy.copy(p.count, from: p.baseAddress!, to: out)
      return p.count
    }
  }

  /// `value` as a string (``write(_:into:)``).
  public static func string(_ value: Float) -> String { value.description }
}

/// Decimal text of integers.
public enum IntegerText {
  /// Writes `value` in decimal (`-` for negatives); returns the byte count (at most 20).
  public static func write(_ value: Int, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &digits) { raw -> Int in
      let tmp = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
      var v = value.magnitude
      var n = 0
      repeat {
        tmp[n] = UInt8(truncatingIfNeeded: v % 10) + 0x30
        v /= 10
        n += 1
      } while v > 0
      var k = 0
      if value < 0 {
        out[0] = 0x2D
        k = 1
      }
      for i in 0..<n { out[k + i] = tmp[n - 1 - i] }
      return k + n
    }
  }
}

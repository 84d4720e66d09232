/// CSV lines built in memory: fields separated by ``delimiter`` (quoted when needed, as
/// ``TextOutput/appendField(_:)`` does), shortest round-trip floats, integers, one `\n` per
/// line. The buffer grows as needed and is reused after ``removeAll()``.
///
/// For formatting rows on worker threads: each thread fills its own `RowText`, and one
/// thread then writes the buffers out in input order (``TextOutput/append(_:)-(RowText)``),
/// so the output never depends on the thread count. Not thread-safe: one buffer per thread.
public final class RowText {
  /// The field separator (`,` by default).
  public var delimiter: UInt8 = 0x2C

  private var buffer: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  /// The number of bytes held.
  public private(set) var count = 0
  private var fieldsInLine = 0

  /// An empty buffer with room for `capacity` bytes before it grows.
  public init(capacity: Int = 1 << 16) {
    self.capacity = max(capacity, 64)
    buffer = .allocate(capacity: self.capacity)
  }

  deinit { buffer.deallocate() }

  /// The bytes held (valid until the next change).
  public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer, count: count) }

  /// Forgets the bytes held (keeps the memory) and starts a new line.
  public func removeAll() {
    count = 0
    fieldsInLine = 0
  }

  /// Makes room for `n` more bytes.
  @inline(__always)
  private func reserve(_ n: Int) {
    if capacity - count < n { grow(n) }
  }

  private func grow(_ n: Int) {
    var newCapacity = capacity * 2
    while newCapacity - count < n { newCapacity *= 2 }
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    UnsafeMutableRawPointer(grown).copyMemory(from: buffer, byteCount: count)
    buffer.deallocate()
    buffer = grown
    capacity = newCapacity
  }

  /// Starts a field: the separator unless it is the line's first; room for `n` bytes.
  @inline(__always)
  private func beginField(_ n: Int) {
    reserve(n + 1)
    if fieldsInLine > 0 {
      buffer[count] = delimiter
      count += 1
    }
    fieldsInLine += 1
  }

  /// Appends one field: as it is, or in double quotes with `"` doubled when it contains the
  /// delimiter, a quote, CR or LF.
  public func field(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard CSVQuoting.needsQuotes(bytes, delimiter: delimiter) else {
      beginField(bytes.count)
      if let p = bytes.baseAddress { ByteCopy.copy(bytes.count, from: p, to: buffer + count) }
      count += bytes.count
      return
    }
    beginField(2 * bytes.count + 2)
    buffer[count] = 0x22
    count += 1
    for b in bytes {
      if b == 0x22 {
        buffer[count] = 0x22
        count += 1
      }
      buffer[count] = b
      count += 1
    }
    buffer[count] = 0x22
    count += 1
  }

  /// ``field(_:)-(UnsafeBufferPointer<UInt8>)`` of a string's UTF-8 bytes.
  public func field(_ text: String) {
    var text = text
    text.withUTF8 { field($0) }
  }

  /// ``field(_:)-(UnsafeBufferPointer<UInt8>)`` of a literal's bytes (no reference counting:
  /// for the fixed tokens written on every row).
  @inline(__always)
  public func field(_ text: StaticString) {
    // (A one-character literal is held as a scalar, without a pointer to bytes.)
    text.withUTF8Buffer { field($0) }
  }

  /// Appends a float field: its shortest round-trip text (``FloatText/write(_:into:)``).
  @inline(__always)
  public func field(_ value: Float) {
    beginField(FloatText.maxLength)
    count += FloatText.write(value, into: buffer + count)
  }

  /// Appends an integer field in decimal.
  public func field(_ value: Int) {
    beginField(20)
    count += IntegerText.write(value, into: buffer + count)
  }

  /// Ends the current line (`\n`).
  @inline(__always)
  public func endLine() {
    reserve(1)
    buffer[count] = 0x0A
    count += 1
    fieldsInLine = 0
  }
}

/// When a CSV field must be quoted.
enum CSVQuoting {
  /// Whether `bytes` contain the delimiter, a quote, CR or LF.
  @inline(__always)
  static func needsQuotes(_ bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8) -> Bool {
    for b in bytes where b == delimiter || b == 0x22 || b == 0x0A || b == 0x0D { return true }
    return false
  }
}

/// Strings written as fields row after row (class labels), kept as UTF-8 bytes in one buffer:
/// writing one (``RowText/field(_:)-(UnsafeBufferPointer<UInt8>)`` of ``subscript(_:)``) costs
/// no reference counting, which a `String` from an array does on every row. Immutable.
public final class FieldTable: @unchecked Sendable {
  private let bytes: UnsafeMutablePointer<UInt8>
  private let starts: [Int]

  /// The strings' bytes, in order.
  public init(_ strings: [String]) {
    var starts = [0]
    for s in strings { starts.append(starts[starts.count - 1] + s.utf8.count) }
    bytes = .allocate(capacity: max(starts[starts.count - 1], 1))
    var at = 0
    for s in strings {
      for b in s.utf8 {
        bytes[at] = b
        at += 1
      }
    }
    self.starts = starts
  }

  deinit { bytes.deallocate() }

  /// String i's bytes (valid as long as the table). O(1).
  @inline(__always)
  public subscript(_ i: Int) -> UnsafeBufferPointer<UInt8> {
    starts.withUnsafeBufferPointer { s in UnsafeBufferPointer(start: bytes + s[i], count: s[i + 1] - s[i]) }
  }
}

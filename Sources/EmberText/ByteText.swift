/// Small helpers over UTF-8 byte slices (CSV fields), without making strings.
public enum ByteText {
  /// `bytes` without leading and trailing spaces (0x20) and tabs (0x09) — the trimming rule
  /// of ``DecimalParser``. O(number of trimmed bytes).
  @inlinable
  public static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    guard let base = bytes.baseAddress else { return bytes }
    var i = 0
    var n = bytes.count
    while i < n && (base[i] == 0x20 || base[i] == 0x09) { i += 1 }
    while n > i && (base[n - 1] == 0x20 || base[n - 1] == 0x09) { n -= 1 }
    return UnsafeBufferPointer(start: base + i, count: n - i)
  }

  /// Whether `bytes` are exactly the UTF-8 bytes of `text`.
  public static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: String) -> Bool {
    var text = text
    return text.withUTF8 { t in
      t.count == bytes.count && (t.count == 0 || t.elementsEqual(bytes))
    }
  }
}

/// A small set of exact byte strings (e.g. the missing-value tokens `""`, `NA`, `?`, `nan`),
/// matched against CSV fields without making strings. O(total token bytes) per lookup at
/// worst; a length check rejects most fields at once.
public struct ByteTokenSet: Sendable {
  private let tokens: [[UInt8]]
  private let lengths: UInt64  // bit k set when some token has k bytes (k < 64)

  /// The set of `tokens` (compared byte for byte, case-sensitive).
  public init(_ tokens: [String]) {
    self.tokens = tokens.map { Array($0.utf8) }
    var lengths: UInt64 = 0
    for t in self.tokens where t.count < 64 { lengths |= 1 << UInt64(t.count) }
    self.lengths = lengths
  }

  /// Whether `bytes` equal one of the tokens.
  @inline(__always)
  public func contains(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard bytes.count < 64, lengths & (1 << UInt64(bytes.count)) != 0 else { return false }
    for t in tokens where t.count == bytes.count {
      if t.isEmpty { return true }
      if t.withUnsafeBufferPointer({ $0.elementsEqual(bytes) }) { return true }
    }
    return false
  }
}

/// Byte copies for the output path: a short run (a field, a number) byte by byte — a call to
/// the C library's `memcpy` costs more than the copy for a few bytes — and a long one with
/// `memcpy`. Typed `UInt8` copies (`update(from:count:)`) are avoided: in Embedded Swift they
/// may go element by element through the type's value witness.
@usableFromInline
enum ByteCopy {
  @inlinable @inline(__always)
  static func copy(_ count: Int, from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>) {
    if count <= 32 {
      for i in 0..<count { target[i] = source[i] }
    } else {
      UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count)
    }
  }
}

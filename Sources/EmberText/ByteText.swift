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

/// Short, printable excerpts of input text for error messages: never the whole of a long
/// field or line, never raw control characters.
public enum TextSnippet {
  /// The most bytes of input an excerpt shows before it is cut with `…`.
  public static let defaultLimit = 40

  /// `bytes` in double quotes, cut after `limit` bytes (at a UTF-8 character boundary) with
  /// `…`; control characters (below 0x20, and 0x7F) and `"` and `\` escaped as `\n`, `\r`,
  /// `\t`, `\0`, `\"`, `\\` or `\u{XX}`; invalid UTF-8 shown as U+FFFD. O(min(count, limit)).
  public static func quoted(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = defaultLimit) -> String {
    var out: [UInt8] = [0x22]
    out.reserveCapacity(min(bytes.count, limit) + 8)
    var cut = bytes.count
    if bytes.count > limit {
      cut = max(0, limit)
      // Do not split a multi-byte character: back up over continuation bytes.
      while cut > 0 && cut < bytes.count && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
    }
    for i in 0..<cut {
      let b = bytes[i]
      switch b {
      case 0x0A: out += [0x5C, 0x6E]
      case 0x0D: out += [0x5C, 0x72]
      case 0x09: out += [0x5C, 0x74]
      case 0x00: out += [0x5C, 0x30]
      case 0x22: out += [0x5C, 0x22]
      case 0x5C: out += [0x5C, 0x5C]
      case 0..<0x20, 0x7F:
        out += [0x5C, 0x75, 0x7B, hexDigit(b >> 4), hexDigit(b & 15), 0x7D]
      default: out.append(b)
      }
    }
    if cut < bytes.count { out += [0xE2, 0x80, 0xA6] }  // …
    out.append(0x22)
    return String(decoding: out, as: UTF8.self)
  }

  /// ``quoted(_:limit:)`` of a string's UTF-8 bytes.
  public static func quoted(_ text: String, limit: Int = defaultLimit) -> String {
    var text = text
    return text.withUTF8 { quoted($0, limit: limit) }
  }

  private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x41 + v - 10 }
}

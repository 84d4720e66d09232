/// JSON string literals, the one escaping rule every JSON writer of Ember uses (`inspect
/// --json`, `bench --json`, the trainer's summary and option table).
public enum JSONText {
  /// Appends `s` to `out` as a JSON string literal: quotes and backslashes escaped, `\n`, `\r`
  /// and `\t` by name, other control characters, DEL and U+2028/U+2029 (line breaks to
  /// JavaScript) as `\uXXXX`. O(length of `s`).
  public static func quote(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where u.value < 0x20 || u.value == 0x7F || (0x2028...0x2029).contains(u.value):
        let h = String(u.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
      default: out.unicodeScalars.append(u)
      }
    }
    out += "\""
  }

  /// `s` as a JSON string literal (``quote(_:into:)``).
  public static func quoted(_ s: String) -> String {
    var out = ""
    quote(s, into: &out)
    return out
  }
}

import EmberText
import Foundation
import XCTest

final class JSONTextTests: XCTestCase {
  /// Every character a JSON or JavaScript reader treats specially is escaped, and a JSON parser
  /// reads the literal back as the same string.
  func testQuotedStringsReadBackAsTheSameTextAndEscapeLineBreaksAndControls() throws {
    let cases = ["plain", "a \"quoted\" \\ path", "tab\tnew\nline\r", "\u{1}\u{1F}\u{7F}", "\u{2028}\u{2029}", "é 中 😀", ""]
    for s in cases {
      let literal = JSONText.quoted(s)
      XCTAssertFalse(literal.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}" }, literal)
      let back = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
      XCTAssertEqual(back, [s])
    }
    XCTAssertEqual(JSONText.quoted("\u{1}\u{2028}"), "\"\\u0001\\u2028\"")
  }
}

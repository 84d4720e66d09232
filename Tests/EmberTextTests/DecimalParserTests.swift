import Foundation
import XCTest

@testable import EmberText

/// What `Float(String)` (the C library's correctly rounded strtof) says, in our classes.
func referenceFloat(_ s: String) -> ParsedNumber<Float> {
  guard let v = Float(s) else { return .text }
  return v.isFinite ? .number(v) : .outOfRange
}

func referenceDouble(_ s: String) -> ParsedNumber<Double> {
  guard let v = Double(s) else { return .text }
  return v.isFinite && Float(v).isFinite ? .number(v) : .outOfRange
}

func assertSameBits(_ got: ParsedNumber<Float>, _ want: ParsedNumber<Float>, _ s: String, file: StaticString = #filePath, line: UInt = #line) {
  switch (got, want) {
  case (.number(let a), .number(let b)):
    if a.bitPattern != b.bitPattern { XCTFail("\(s): got \(a) (\(a.bitPattern)), want \(b) (\(b.bitPattern))", file: file, line: line) }
  default:
    if got != want { XCTFail("\(s): got \(got), want \(want)", file: file, line: line) }
  }
}

func assertSameBits(_ got: ParsedNumber<Double>, _ want: ParsedNumber<Double>, _ s: String, file: StaticString = #filePath, line: UInt = #line) {
  switch (got, want) {
  case (.number(let a), .number(let b)):
    if a.bitPattern != b.bitPattern { XCTFail("\(s): got \(a), want \(b)", file: file, line: line) }
  default:
    if got != want { XCTFail("\(s): got \(got), want \(want)", file: file, line: line) }
  }
}

/// The exact decimal expansion of a double (every double is a finite binary fraction).
func exactDecimal(_ v: Double) -> String { String(format: "%.1100g", v) }

final class DecimalParserTests: XCTestCase {
  func testClassifiesTokens() {
    for s in ["", " ", "\t "] { XCTAssertEqual(DecimalParser.parseFloat(s), .empty, s) }
    for s in ["nan", "NaN", "NAN", "-nan", "+NaN", " nan "] { XCTAssertEqual(DecimalParser.parseFloat(s), .nan, s) }
    for s in ["inf", "-inf", "+INF", "Infinity", "-infinity"] { XCTAssertEqual(DecimalParser.parseDouble(s), .infinity, s) }
    for s in [
      "NA", "na", "N/A", "?", "infin", "nanx", "0x10", "0X1p3", "1e", "1e+", "e5", ".", "-", "+", "1,5", "1 5", "--1", "+-1",
      "1.2.3", "1_000", "abc", "n/a", "NA1", "-NA", "- 1", "1 1", "five", "1f", "١", "0x", "1e5.5", ".e1", "nana",
    ] {
      XCTAssertEqual(DecimalParser.parseFloat(s), .text, s)
      XCTAssertEqual(DecimalParser.parseDouble(s), .text, s)
    }
    for s in ["1e39", "-1e39", "3.5e38", "3.4028236e38", "1e308", "-1e308", "1e400", "1e99999999999999", "340282356779733661637539395458142568448"] {
      XCTAssertEqual(DecimalParser.parseFloat(s), .outOfRange, s)
      XCTAssertEqual(DecimalParser.parseDouble(s), .outOfRange, s)
    }
  }

  func testSyntaxAndTrimming() {
    let cases: [(String, Float)] = [
      ("5", 5), ("5.", 5), (".5", 0.5), ("-0.25", -0.25), ("+7", 7), (" 1.5\t", 1.5), ("1e3", 1000), ("1E+3", 1000),
      ("25e-1", 2.5), ("000123.4500", 123.45), ("0", 0), ("0e99999", 0), ("1e-99999", 0), ("1e-50", 0),
      ("3.4028235e38", .greatestFiniteMagnitude), ("1.4e-45", .leastNonzeroMagnitude), ("0.7e-45", 0),
      ("0.70064923216240862e-45", .leastNonzeroMagnitude),
    ]
    for (s, v) in cases { assertSameBits(DecimalParser.parseFloat(s), .number(v), s) }
    guard case .number(let z) = DecimalParser.parseFloat("-0") else { return XCTFail() }
    XCTAssertEqual(z.bitPattern, (-0.0 as Float).bitPattern)
    guard case .number(let tiny) = DecimalParser.parseFloat("-1e-60") else { return XCTFail() }
    XCTAssertEqual(tiny.bitPattern, (-0.0 as Float).bitPattern)
  }

  /// Every float printed shortest (Swift's description) and with 9 and 17 significant digits
  /// reads back as itself.
  func testRandomFloatsRoundTrip() {
    var rng = SplitMix(seed: 11)
    for _ in 0..<60_000 {
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      guard f.isFinite else { continue }
      for s in [f.description, String(format: "%.8e", Double(f)), String(format: "%.16e", Double(f))] {
        assertSameBits(DecimalParser.parseFloat(s), .number(f), s)
      }
    }
  }

  /// Random decimal strings of 1–25 significant digits across the whole float range (and
  /// beyond it) against Float(String) and Double(String).
  func testRandomDecimalsMatchTheCLibrary() {
    var rng = SplitMix(seed: 12)
    for _ in 0..<100_000 {
      var s = rng.below(2) == 0 ? "-" : ""
      let digits = 1 + rng.below(25)
      let point = rng.below(digits + 1)
      for i in 0..<digits {
        if i == point && i > 0 { s += "." }
        s += String(rng.below(10))
      }
      s += "e\(rng.below(110) - 65)"
      assertSameBits(DecimalParser.parseFloat(s), referenceFloat(s), s)
      assertSameBits(DecimalParser.parseDouble(s), referenceDouble(s), s)
    }
  }

  /// Plain decimals (no exponent: the fast path, whose fraction is read eight bytes at a time
  /// when 1–8 digits end a field of ≥ 8 bytes), with 0–12 digits on each side of the point,
  /// and the same with one byte replaced by a non-digit, against Float(String) and
  /// Double(String).
  func testPlainDecimalsMatchTheCLibrary() {
    var rng = SplitMix(seed: 13)
    let junk: [Character] = ["a", "/", ":", " ", ".", "-", "e", "\u{7F}", "0"]
    var plain = 0
    for _ in 0..<200_000 {
      var s = rng.below(2) == 0 ? "-" : ""
      for _ in 0..<rng.below(13) { s += String(rng.below(10)) }
      if rng.below(8) != 0 { s += "." }
      for _ in 0..<rng.below(13) { s += String(rng.below(10)) }
      if rng.below(4) == 0, !s.isEmpty {
        var chars = Array(s)
        chars[rng.below(chars.count)] = junk[rng.below(junk.count)]
        s = String(chars)
      }
      // Empty text and spaces are classified (and trimmed) where the C library says "no number".
      if s.isEmpty || s.contains(" ") { continue }
      assertSameBits(DecimalParser.parseFloat(s), referenceFloat(s), s)
      assertSameBits(DecimalParser.parseDouble(s), referenceDouble(s), s)
      // The encoder's shortcut gives parseDouble's value whenever it answers.
      var text = s
      if let v = text.withUTF8({ DecimalParser.plainDouble($0) }) {
        plain += 1
        assertSameBits(DecimalParser.parseDouble(s), .number(v), s)
      }
    }
    XCTAssertGreaterThan(plain, 50_000)
  }

  /// Decimals at, just above and just below the midpoint between two adjacent floats — the
  /// cases where rounding is decided by the last of up to ~110 significant digits.
  func testHalfwayCasesAndTheirNeighbours() {
    var rng = SplitMix(seed: 13)
    var samples: [Float] = [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude.nextDown, 1, 0.1, 16_777_216]
    for _ in 0..<8_000 { samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF)) }
    for f in samples where f.isFinite && f < .greatestFiniteMagnitude {
      let mid = (Double(f) + Double(f.nextUp)) / 2  // exact in Double
      let text = exactDecimal(mid)
      let mantissa = text.split(separator: "e")[0]
      let exponent = text.contains("e") ? "e" + text.split(separator: "e")[1] : ""
      let above = mantissa.contains(".") ? "\(mantissa)000001\(exponent)" : "\(mantissa).000001\(exponent)"
      for s in [text, above, String(format: "%.25e", mid.nextDown), String(format: "%.25e", mid.nextUp)] {
        assertSameBits(DecimalParser.parseFloat(s), referenceFloat(s), s)
      }
    }
  }

  /// Double: shortest and 17-digit forms of random doubles, and exact double midpoints.
  func testRandomDoublesRoundTripAndMidpoints() {
    var rng = SplitMix(seed: 14)
    var n = 0
    while n < 30_000 {
      let d = Double(bitPattern: rng.next() & 0x7FFF_FFFF_FFFF_FFFF)
      guard d.isFinite, Float(d).isFinite else { continue }
      n += 1
      for s in [d.description, String(format: "%.16e", d), String(format: "%.18e", d)] {
        assertSameBits(DecimalParser.parseDouble(s), .number(d), s)
      }
      if n % 20 == 0 {
        let s = exactDecimal(d / 2 + d.nextUp / 2)  // the midpoint (ties to even)
        assertSameBits(DecimalParser.parseDouble(s), referenceDouble(s), s)
      }
    }
  }

  /// Long mantissas: hundreds of digits, and a nonzero digit far beyond them.
  func testLongMantissas() {
    let half = exactDecimal((1.0 + Double(Float(1).nextUp)) / 2)  // 1.000000059604644775390625
    let cases = [
      half, half + String(repeating: "0", count: 300), half + String(repeating: "0", count: 900) + "1",
      "0." + String(repeating: "0", count: 60) + String(repeating: "9", count: 700) + "e61",
      String(repeating: "1", count: 1000), String(repeating: "3", count: 39) + "." + String(repeating: "1", count: 500),
      "1" + String(repeating: "0", count: 38) + ".5", "0.000000000000000000000000000000000000000000001401298464324817070923729583289916131280",
    ]
    for s in cases {
      assertSameBits(DecimalParser.parseFloat(s), referenceFloat(s), String(s.prefix(80)))
      assertSameBits(DecimalParser.parseDouble(s), referenceDouble(s), String(s.prefix(80)))
    }
  }

  /// The largest finite float and the smallest value that rounds to infinity.
  func testFloatRangeEdges() {
    assertSameBits(DecimalParser.parseFloat("340282356779733661637539395458142568447.999"), .number(.greatestFiniteMagnitude), "below threshold")
    XCTAssertEqual(DecimalParser.parseFloat("340282356779733661637539395458142568448"), .outOfRange)
    XCTAssertEqual(DecimalParser.parseDouble("340282356779733661637539395458142568448"), .outOfRange)
    guard case .number(let d) = DecimalParser.parseDouble("3.4028235e38") else { return XCTFail() }
    XCTAssertEqual(d, 3.4028235e38)
  }
}

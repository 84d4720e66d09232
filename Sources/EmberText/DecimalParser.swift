import _EmberSystem

/// What a text cell holds, read as a number. Missing-value tokens (`NA`, `?`, …) are not
/// recognised here: the runtime owns that list (see ``ByteTokenSet``), so they are `.text`
/// (or `.empty`, or `.nan` for NaN spellings) and the caller decides.
public enum ParsedNumber<Value: BinaryFloatingPoint & Sendable>: Equatable, Sendable {
  /// A decimal number, correctly rounded (round to nearest, ties to even).
  case number(Value)
  /// Nothing but spaces and tabs (or no bytes at all).
  case empty
  /// A NaN spelling: `nan` in any case, optionally signed (`NaN`, `-nan`).
  case nan
  /// An infinity spelling: `inf` or `infinity` in any case, optionally signed.
  case infinity
  /// Not a decimal number: words, hexadecimal (`0x10`), `1e`, `1,5`, `--1`, `NA`…
  case text
  /// A decimal number whose value does not round to a finite `Float` (e.g. `1e39`, `3.5e38`,
  /// `-1e308`). Values too small to represent round to (signed) zero and are numbers.
  case outOfRange
}

/// Decimal text to `Float` / `Double` without Foundation or the C library.
///
/// **Syntax** (after removing leading and trailing spaces and tabs, and nothing else):
/// an optional `+` or `-`, then digits with at most one `.` and at least one digit
/// (`5`, `5.`, `.5`, `-0.25`), then optionally `e` or `E`, an optional sign and at least one
/// digit. Nothing else: no hexadecimal, no `inf`, no digit separators, no inner spaces.
/// Any number of digits is accepted; the result is the correctly rounded value of the
/// complete decimal (all digits count, as with `strtod`).
///
/// **Method.** Digits are read once; the first 19 significant ones form a 64-bit integer w.
/// Small cases are exact in one floating-point operation (w ≤ 2^24 and |q| ≤ 10 for `Float`,
/// w ≤ 2^53 and |q| ≤ 22 for `Double`). Otherwise w is multiplied by 10^q truncated to 128
/// bits (a generated table) and the result is rounded when the product's error bound cannot
/// straddle the rounding midpoint; the rare remaining cases (values within about 2^-60
/// relative of a midpoint) are decided exactly with big-integer arithmetic.
/// Cost: O(number of characters), about 10–30 ns for typical cells.
public enum DecimalParser {
  /// Reads `bytes` as a `Float` (see the type's documentation for the syntax).
  /// Inlined: plain decimals of up to 19 digits (`-0.028250`, `12.5`) take one tight loop.
  @inlinable @inline(__always)
  public static func parseFloat(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Float> {
    guard let s = ShortDecimal.scan(bytes) else { return parseFloatGeneral(bytes) }
    if s.significand <= 1 << 24 && s.fractionDigits <= 10 {
      let v = Float(s.significand) / ExactPowers.float(s.fractionDigits)
      return .number(s.negative ? -v : v)
    }
    return convertFloat(s, bytes)
  }

  /// Reads `bytes` as a `Double`, correctly rounded; `.outOfRange` unless the value is also
  /// finite as a `Float` (magnitude below 2^128 − 2^103, as `Float(value)` would give).
  @inlinable @inline(__always)
  public static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Double> {
    guard let s = ShortDecimal.scan(bytes) else { return parseDoubleGeneral(bytes) }
    if s.significand <= 1 << 53 && s.fractionDigits <= 22 {
      let v = Double(s.significand) / ExactPowers.double(s.fractionDigits)
      return .number(s.negative ? -v : v)
    }
    return convertDouble(s, bytes)
  }

  /// The value of a plain decimal that ``parseDouble(_:)`` reads with one correctly rounded
  /// division — an optional `-`, 1 to 19 digits with an optional `.`, at most 2^53 as an
  /// integer and at most 22 digits after the point, nothing else (no spaces, no exponent) —
  /// or nil for any other text (read it with ``parseDouble(_:)``, which gives the same value
  /// for these). For hot loops over numeric cells. O(length).
  /// The same reading as the row encoder's per-record loop (`ember_text_encode_plain`): both
  /// are `ember_text_plain_double`.
  @inline(__always)
  public static func plainDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    guard let p = bytes.baseAddress else { return nil }
    var v = 0.0
    return ember_text_plain_double(p, bytes.count, &v) != 0 ? v : nil
  }

  @usableFromInline
  static func parseFloatGeneral(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Float> {
    var scan = DecimalScan()
    switch scan.read(bytes) {
    case .number: return scan.float()
    case .empty: return .empty
    case .nan: return .nan
    case .infinity: return .infinity
    case .text: return .text
    }
  }

  @usableFromInline
  static func parseDoubleGeneral(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Double> {
    var scan = DecimalScan()
    switch scan.read(bytes) {
    case .number: return scan.double()
    case .empty: return .empty
    case .nan: return .nan
    case .infinity: return .infinity
    case .text: return .text
    }
  }

  @usableFromInline
  static func convertFloat(_ s: ShortDecimal, _ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Float> {
    DecimalScan(s, bytes).float()
  }

  @usableFromInline
  static func convertDouble(_ s: ShortDecimal, _ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber<Double> {
    DecimalScan(s, bytes).double()
  }

  /// ``parseFloat(_:)`` of a string's UTF-8 bytes.
  public static func parseFloat(_ text: String) -> ParsedNumber<Float> {
    var text = text
    return text.withUTF8 { parseFloat($0) }
  }

  /// ``parseDouble(_:)`` of a string's UTF-8 bytes.
  public static func parseDouble(_ text: String) -> ParsedNumber<Double> {
    var text = text
    return text.withUTF8 { parseDouble($0) }
  }

  /// The smallest magnitude that rounds to infinity as a `Float`: 2^128 − 2^103.
  public static let floatOverflowThreshold: Double = 340282356779733661637539395458142568448.0
}

/// A plain decimal — an optional `-`, digits, an optional `.` and digits, 1 to 19 digits in
/// all, nothing else — read in one loop.
@usableFromInline
struct ShortDecimal {
  /// All the digits as an integer.
  @usableFromInline let significand: UInt64
  /// How many of them follow the point.
  @usableFromInline let fractionDigits: Int
  @usableFromInline let negative: Bool

  @inlinable
  init(significand: UInt64, fractionDigits: Int, negative: Bool) {
    self.significand = significand
    self.fractionDigits = fractionDigits
    self.negative = negative
  }

  /// The short decimal in `bytes`, or nil for anything else (which the general path reads):
  /// `ember_text_short_decimal`, the reading the row encoder's loop uses too.
  @inlinable @inline(__always)
  static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> ShortDecimal? {
    guard let p = bytes.baseAddress else { return nil }
    var digits: UInt64 = 0
    var fraction: Int32 = 0
    var negative: Int32 = 0
    guard ember_text_short_decimal(p, bytes.count, &digits, &fraction, &negative) != 0 else { return nil }
    return ShortDecimal(significand: digits, fractionDigits: Int(fraction), negative: negative != 0)
  }
}

/// The parameters of an IEEE binary format.
struct BinaryFormat {
  /// Significand bits, the hidden bit included (24 or 53).
  let precision: Int
  /// The smallest and largest unbiased exponents of normal numbers.
  let minExponent: Int
  let maxExponent: Int
  /// w ≤ maxExactInteger and |q| ≤ maxExactPower: one correctly rounded operation.
  let maxExactInteger: UInt64
  let maxExactPower: Int

  static let float32 = BinaryFormat(precision: 24, minExponent: -126, maxExponent: 127, maxExactInteger: 1 << 24, maxExactPower: 10)
  static let float64 = BinaryFormat(precision: 53, minExponent: -1022, maxExponent: 1023, maxExactInteger: 1 << 53, maxExactPower: 22)
}

/// The result of reading the text of a cell.
enum ScanKind { case number, empty, nan, infinity, text }

/// The result of a conversion: IEEE bits (sign included) or overflow.
enum Conversion { case value(UInt64), overflow }

/// One scanned decimal: sign, the first 19 significant digits as an integer, the decimal
/// exponent of its last digit, whether nonzero digits were dropped, and the text's digit span
/// for the exact path.
struct DecimalScan {
  var negative = false
  var significand: UInt64 = 0
  var exponent = 0
  var truncated = false
  var digits: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
  var explicitExponent = 0

  init() {}

  /// The scan of a plain decimal read by ``ShortDecimal``.
  init(_ s: ShortDecimal, _ bytes: UnsafeBufferPointer<UInt8>) {
    negative = s.negative
    significand = s.significand
    exponent = -s.fractionDigits
    digits = s.negative ? UnsafeBufferPointer(rebasing: bytes[1...]) : bytes
  }

  /// The scanned number as a `Float`.
  func float() -> ParsedNumber<Float> {
    switch convert(BinaryFormat.float32) {
    case .value(let bits): return .number(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
    case .overflow: return .outOfRange
    }
  }

  /// The scanned number as a `Double`, `.outOfRange` when not finite as a `Float`.
  func double() -> ParsedNumber<Double> {
    switch convert(BinaryFormat.float64) {
    case .value(let bits):
      let d = Double(bitPattern: bits)
      return d.magnitude < DecimalParser.floatOverflowThreshold ? .number(d) : .outOfRange
    case .overflow: return .outOfRange
    }
  }

  /// Reads and classifies `bytes`; for a number, fills the fields.
  @inline(__always)
  mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> ScanKind {
    guard let base = bytes.baseAddress else { return .empty }
    var i = 0
    var n = bytes.count
    while i < n && (base[i] == 0x20 || base[i] == 0x09) { i += 1 }
    while n > i && (base[n - 1] == 0x20 || base[n - 1] == 0x09) { n -= 1 }
    if i == n { return .empty }
    let tokenStart = i
    if base[i] == 0x2D || base[i] == 0x2B {
      negative = base[i] == 0x2D
      i += 1
    }
    let digitsStart = i
    if readShort(base, from: i, to: n) { return .number }
    var w: UInt64 = 0
    var kept = 0
    var dropped = 0
    var sawDigit = false
    var fractionDigits = 0
    // Integer part.
    while i < n {
      if w != 0 && kept <= 11 && i + 8 <= n, let eight = DecimalScan.eightDigits(base + i) {
        w = w &* 100_000_000 &+ eight
        kept += 8
        i += 8
        continue
      }
      let d = base[i] &- 0x30
      if d > 9 { break }
      sawDigit = true
      if kept < 19 {
        if w != 0 || d != 0 {
          w = w &* 10 &+ UInt64(d)
          kept += 1
        }
      } else {
        dropped += 1
        if d != 0 { truncated = true }
      }
      i += 1
    }
    // Fraction.
    if i < n && base[i] == 0x2E {
      i += 1
      while i < n {
        if w != 0 && kept <= 11 && i + 8 <= n, let eight = DecimalScan.eightDigits(base + i) {
          w = w &* 100_000_000 &+ eight
          kept += 8
          fractionDigits += 8
          i += 8
          continue
        }
        let d = base[i] &- 0x30
        if d > 9 { break }
        sawDigit = true
        if kept < 19 {
          if w != 0 || d != 0 {
            w = w &* 10 &+ UInt64(d)
            kept += 1
          }
          fractionDigits += 1
        } else if d != 0 {
          truncated = true
        }
        i += 1
      }
    }
    guard sawDigit else { return DecimalScan.word(UnsafeBufferPointer(rebasing: bytes[tokenStart..<n])) }
    let digitsEnd = i
    // Exponent.
    var e = 0
    if i < n && (base[i] | 0x20) == 0x65 {
      i += 1
      var negativeExponent = false
      if i < n && (base[i] == 0x2D || base[i] == 0x2B) {
        negativeExponent = base[i] == 0x2D
        i += 1
      }
      let exponentStart = i
      while i < n {
        let d = base[i] &- 0x30
        if d > 9 { break }
        if e < 100_000 { e = e * 10 + Int(d) }
        i += 1
      }
      if i == exponentStart { return .text }
      if negativeExponent { e = -e }
    }
    if i != n { return .text }
    significand = w
    exponent = e + dropped - fractionDigits
    explicitExponent = e
    digits = UnsafeBufferPointer(rebasing: bytes[digitsStart..<digitsEnd])
    return .number
  }

  /// The common case in one tight loop: at most 19 digits in all, at most one `.`, then an
  /// optional exponent, ending exactly at `n`. Returns false (and fills nothing) otherwise.
  @inline(__always)
  mutating func readShort(_ base: UnsafePointer<UInt8>, from i0: Int, to n: Int) -> Bool {
    var i = i0
    var w: UInt64 = 0
    var count = 0
    var beforePoint = -1
    while i < n {
      if i + 8 <= n, let eight = DecimalScan.eightDigits(base + i) {
        w = w &* 100_000_000 &+ eight
        count += 8
        i += 8
        continue
      }
      let d = base[i] &- 0x30
      if d <= 9 {
        w = w &* 10 &+ UInt64(d)
        count += 1
      } else if base[i] == 0x2E && beforePoint < 0 {
        beforePoint = count
      } else {
        break
      }
      i += 1
    }
    guard count > 0 && count <= 19 else { return false }
    let digitsEnd = i
    var e = 0
    if i < n {
      guard base[i] | 0x20 == 0x65 else { return false }
      i += 1
      var negativeExponent = false
      if i < n && (base[i] == 0x2D || base[i] == 0x2B) {
        negativeExponent = base[i] == 0x2D
        i += 1
      }
      guard i < n else { return false }
      while i < n {
        let d = base[i] &- 0x30
        guard d <= 9 else { return false }
        if e < 100_000 { e = e * 10 + Int(d) }
        i += 1
      }
      if negativeExponent { e = -e }
    }
    significand = w
    exponent = e - (beforePoint < 0 ? 0 : count - beforePoint)
    explicitExponent = e
    digits = UnsafeBufferPointer(start: base + i0, count: digitsEnd - i0)
    return true
  }

  /// The value of 8 ASCII digits at `p`, or nil when any of the 8 bytes is not a digit.
  /// Checks and converts all 8 at once in a 64-bit word (3 multiplications).
  @inline(__always)
  static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
    let v = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self).littleEndian
    // Each byte is a digit when its high nibble is 3 and adding 6 does not carry into it.
    guard v & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030,
      (v &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
    else { return nil }
    var x = v &- 0x3030_3030_3030_3030  // byte k holds digit k (the first digit is byte 0)
    x = (x &* 10 &+ (x >> 8)) & 0x00FF_00FF_00FF_00FF  // pairs
    x = (x &* 100 &+ (x >> 16)) & 0x0000_FFFF_0000_FFFF  // groups of 4
    return (x &* 10_000 &+ (x >> 32)) & 0xFFFF_FFFF
  }

  /// Classifies a token without digits: NaN and infinity spellings, else text.
  static func word(_ token: UnsafeBufferPointer<UInt8>) -> ScanKind {
    var t = token
    if t.count > 0 && (t[0] == 0x2B || t[0] == 0x2D) { t = UnsafeBufferPointer(rebasing: t[1...]) }
    if matchesIgnoringCase(t, "nan") { return .nan }
    if matchesIgnoringCase(t, "inf") || matchesIgnoringCase(t, "infinity") { return .infinity }
    return .text
  }

  /// Whether ASCII letters `t` spell `word` (lowercase) in any case.
  private static func matchesIgnoringCase(_ t: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    guard t.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<t.count where t[i] | 0x20 != w[i] { return false }
    return true
  }

  /// Converts the scanned decimal to `format`, correctly rounded.
  @inline(__always)
  func convert(_ format: BinaryFormat) -> Conversion {
    let sign: UInt64 = negative ? 1 << UInt64(format.precision + (format.precision == 24 ? 7 : 10)) : 0
    let w = significand
    let q = exponent
    if w == 0 { return .value(sign) }
    if !truncated && w <= format.maxExactInteger && q >= -format.maxExactPower && q <= format.maxExactPower {
      if format.precision == 24 {
        let v = q >= 0 ? Float(w) * ExactPowers.float(q) : Float(w) / ExactPowers.float(-q)
        return .value(UInt64(v.bitPattern) | sign)
      } else {
        let v = q >= 0 ? Double(w) * ExactPowers.double(q) : Double(w) / ExactPowers.double(-q)
        return .value(v.bitPattern | sign)
      }
    }
    // Far outside the format: w ≥ 1 and w < 10^19 bound the value by powers of ten.
    if q > (format.precision == 24 ? 38 : 308) { return .overflow }
    if q < (format.precision == 24 ? -65 : pow10MinExponent) { return .value(sign) }
    switch rounded(format) {
    case .decided(let m, let e2): return DecimalScan.assemble(m, e2, sign: sign, format)
    case .ambiguous(let m, let e2):
      let up = exactlyAboveMidpoint(m: m, e2: e2)
      return DecimalScan.assemble(up ? m + 1 : m, e2, sign: sign, format)
    case .zero: return .value(sign)
    }
  }

  enum Rounding {
    /// The rounded significand and the exponent of its last bit.
    case decided(UInt64, Int)
    /// The truncated significand and the exponent of its last bit: the value lies so close
    /// to the midpoint above it that the exact comparison must decide.
    case ambiguous(UInt64, Int)
    /// Below half the smallest subnormal.
    case zero
  }

  /// Rounds w × 10^q with the 128-bit table; w ≠ 0, q within the table.
  @inline(__always)
  func rounded(_ format: BinaryFormat) -> Rounding {
    let w = significand
    let q = exponent
    let s = w.leadingZeroBitCount
    let wn = w << UInt64(s)
    let index = 2 * (q - pow10MinExponent)
    let (tHigh, tLow) = pow10Significands.withUnsafeBufferPointer { ($0[index], $0[index + 1]) }
    // The 192-bit product wn × T = [p2 p1 p0]; H = [p2 p1].
    let (a1, a0) = wn.multipliedFullWidth(by: tLow)
    let (b1, b0) = wn.multipliedFullWidth(by: tHigh)
    let (p1, carry) = b0.addingReportingOverflow(a1)
    let p2 = b1 &+ (carry ? 1 : 0)
    let h = UInt128(p2) << 64 | UInt128(p1)
    let p0 = a0
    let top = 190 + Int(p2 >> 63)  // the product's leading bit: 2^190 ≤ wn × T < 2^192
    let binaryExponent = ((q &* 217706) >> 16) - 127
    var leading = top + binaryExponent - s  // unbiased exponent of the value's leading bit
    // Bits of the product below the kept significand.
    var drop = top + 1 - format.precision
    if leading < format.minExponent {
      drop += format.minExponent - leading
      leading = format.minExponent
    }
    let e2 = drop + binaryExponent - s  // exponent of the kept significand's last bit
    let dropHigh = drop - 64  // ≥ 74: the cut is inside H
    if dropHigh > 128 { return .zero }
    let m = dropHigh == 128 ? 0 : UInt64(truncatingIfNeeded: h >> UInt128(dropHigh))
    let rest = dropHigh == 128 ? h : h & ((1 << UInt128(dropHigh)) - 1)
    let half = UInt128(1) << UInt128(dropHigh - 1)
    if !truncated && q >= 0 && q <= 55 {
      // T is exact: so is the product.
      if rest < half { return .decided(m, e2) }
      if rest > half || p0 != 0 || m & 1 == 1 { return .decided(m + 1, e2) }
      return .decided(m, e2)
    }
    // The true product lies in (P, P + error), error < 2 units of H (T truncated) plus, when
    // digits were dropped, T × 2^s per unit of w.
    if rest >= half { return .decided(m + 1, e2) }
    let error: UInt128 = truncated ? 2 + (UInt128(1) << UInt128(s + 64)) : 2
    if rest + error <= half { return .decided(m, e2) }
    return .ambiguous(m, e2)
  }

  /// IEEE bits of m × 2^e2 (m < 2^(precision+1), already rounded), or overflow.
  @inline(__always)
  static func assemble(_ m0: UInt64, _ e0: Int, sign: UInt64, _ format: BinaryFormat) -> Conversion {
    var m = m0
    var e2 = e0
    let p = UInt64(format.precision)
    if m == 1 << p {
      m >>= 1
      e2 += 1
    }
    let hidden: UInt64 = 1 << (p - 1)
    if m < hidden { return .value(sign | m) }  // subnormal or zero
    let biased = e2 + format.precision - 1 + format.maxExponent
    if biased >= 2 * format.maxExponent + 1 { return .overflow }
    return .value(sign | UInt64(biased) << (p - 1) | (m & (hidden - 1)))
  }
}

/// Powers of ten that are exact in binary floating point. Switches, not global arrays, so
/// that inlined callers do no lazy-initialisation check (the compiler makes them tables).
@usableFromInline
enum ExactPowers {
  /// 10^k for k in 0...10 (exact as `Float`).
  @inlinable @inline(__always)
  static func float(_ k: Int) -> Float {
    switch k {
    case 0: return 1e0
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    default: return 1e10
    }
  }

  /// 10^k for k in 0...22 (exact as `Double`).
  @inlinable @inline(__always)
  static func double(_ k: Int) -> Double {
    switch k {
    case 0: return 1e0
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    default: return 1e22
    }
  }
}

/// The exact decision for the rare decimals the 128-bit product cannot round safely.
extension DecimalScan {
  /// The most significant digits the exact comparison reads; beyond them only whether a
  /// nonzero digit follows matters (the midpoints of `Double` need at most 768 digits).
  static let exactDigitLimit = 800

  /// Whether the decimal rounds up from m × 2^e2 (m the truncated significand): compares it
  /// with the midpoint (2m + 1) × 2^(e2 − 1) exactly; a tie rounds to even.
  func exactlyAboveMidpoint(m: UInt64, e2: Int) -> Bool {
    var d = BigInteger()
    var significant = 0
    var skipped = 0
    var fractionDigits = 0
    var inFraction = false
    var nonzeroSkipped = false
    var chunk: UInt32 = 0
    var chunkDigits = 0
    for c in digits {
      if c == 0x2E {
        inFraction = true
        continue
      }
      let digit = UInt32(c &- 0x30)
      if inFraction { fractionDigits += 1 }
      if significant == 0 && digit == 0 { continue }
      if significant < DecimalScan.exactDigitLimit {
        significant += 1
        chunk = chunk * 10 + digit
        chunkDigits += 1
        if chunkDigits == 9 {
          d.multiplyAdd(1_000_000_000, chunk)
          chunk = 0
          chunkDigits = 0
        }
      } else {
        skipped += 1
        if digit != 0 { nonzeroSkipped = true }
      }
    }
    if chunkDigits > 0 { d.multiplyAdd(powersOfTen32[chunkDigits], chunk) }
    var q10 = explicitExponent - fractionDigits + skipped
    if nonzeroSkipped {
      d.multiplyAdd(10, 1)  // a digit standing for the nonzero tail: it only breaks ties
      q10 -= 1
    }
    // Compare d × 5^q10 × 2^q10 with (2m + 1) × 2^(e2 − 1).
    var midpoint = BigInteger(2 * m + 1)
    if q10 >= 0 { d.multiplyByPowerOfFive(q10) } else { midpoint.multiplyByPowerOfFive(-q10) }
    let twos = q10 - (e2 - 1)
    if twos >= 0 { d.shiftLeft(twos) } else { midpoint.shiftLeft(-twos) }
    switch d.compare(midpoint) {
    case 1: return true
    case -1: return false
    default: return m & 1 == 1
    }
  }
}

let powersOfTen32: [UInt32] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

/// A non-negative integer of any size, little-endian 32-bit limbs. Only what the exact
/// comparison needs; not fast (used for about one number in a hundred million).
struct BigInteger {
  var limbs: [UInt32] = []

  init() {}

  init(_ v: UInt64) {
    if v != 0 { limbs.append(UInt32(truncatingIfNeeded: v)) }
    if v >> 32 != 0 { limbs.append(UInt32(truncatingIfNeeded: v >> 32)) }
  }

  /// self = self × factor + addend.
  mutating func multiplyAdd(_ factor: UInt32, _ addend: UInt32) {
    var carry = UInt64(addend)
    for i in limbs.indices {
      let v = UInt64(limbs[i]) * UInt64(factor) + carry
      limbs[i] = UInt32(truncatingIfNeeded: v)
      carry = v >> 32
    }
    if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
  }

  /// self ×= 5^n.
  mutating func multiplyByPowerOfFive(_ n: Int) {
    var n = n
    while n >= 13 {
      multiplyAdd(1_220_703_125, 0)  // 5^13
      n -= 13
    }
    var f: UInt32 = 1
    for _ in 0..<n { f *= 5 }
    if f > 1 { multiplyAdd(f, 0) }
  }

  /// self ×= 2^n.
  mutating func shiftLeft(_ n: Int) {
    if limbs.isEmpty || n == 0 { return }
    let words = n / 32
    let bits = UInt32(n % 32)
    if bits > 0 {
      var carry: UInt32 = 0
      for i in limbs.indices {
        let v = limbs[i]
        limbs[i] = v << bits | carry
        carry = v >> (32 - bits)
      }
      if carry != 0 { limbs.append(carry) }
    }
    if words > 0 { limbs.insert(contentsOf: repeatElement(0, count: words), at: 0) }
  }

  /// -1, 0 or 1 as self is less than, equal to or greater than `other`.
  func compare(_ other: BigInteger) -> Int {
    var a = limbs.count
    while a > 0 && limbs[a - 1] == 0 { a -= 1 }
    var b = other.limbs.count
    while b > 0 && other.limbs[b - 1] == 0 { b -= 1 }
    if a != b { return a < b ? -1 : 1 }
    var i = a - 1
    while i >= 0 {
      if limbs[i] != other.limbs[i] { return limbs[i] < other.limbs[i] ? -1 : 1 }
      i -= 1
    }
    return 0
  }
}

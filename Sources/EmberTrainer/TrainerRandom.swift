import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64). The same seed
/// gives the same stream on every platform; training draws all randomness from it.
public struct TrainerRandom: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
  private var spare: Double?

  /// A generator seeded from `seed` and a `stream` index (e.g. the class index), so that each
  /// class draws its own numbers whatever the scheduling.
  public init(seed: UInt64, stream: UInt64 = 0) {
    var x = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
    func next() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = next(); s1 = next(); s2 = next(); s3 = next()
  }

  /// Next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1).
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Uniform integer in 0..<n (n > 0).
  public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

  /// Standard normal draw (Marsaglia's polar method, pairs cached).
  public mutating func gaussian() -> Double {
    if let s = spare {
      spare = nil
      return s
    }
    var u = 0.0, v = 0.0, s = 0.0
    repeat {
      u = 2 * uniform() - 1
      v = 2 * uniform() - 1
      s = u * u + v * v
    } while s >= 1 || s == 0
    let f = (-2 * log(s) / s).squareRoot()
    spare = v * f
    return u * f
  }

  /// Fisher–Yates shuffle of `a` in place.
  public mutating func shuffle<T>(_ a: inout [T]) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
      a.swapAt(i, below(i + 1))
    }
  }
}

import EmberRuntime
import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64). The same seed
/// gives the same stream on every platform; training draws all randomness from it.
public struct TrainerRandom: RandomNumberGenerator, Sendable {
  /// The bit stream: the runtime's xoshiro256** (same SplitMix64 seeding).
  private var source: RandomSource
  private var spare: Double?

  /// A generator seeded from `seed` and a `stream` index (e.g. the class index), so that each
  /// class draws its own numbers whatever the scheduling.
  public init(seed: UInt64, stream: UInt64 = 0) {
    source = RandomSource(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
  }

  /// Next 64 random bits.
  public mutating func next() -> UInt64 { source.next() }

  /// Uniform in [0, 1).
  public mutating func uniform() -> Double { source.nextUniform() }

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


/// A seeded pseudo-random source: xoshiro256** seeded through SplitMix64, with uniform and
/// standard-normal draws (ziggurat, 128 layers). The same seed gives the same stream on every
/// platform and thread count.
public struct RandomSource: Sendable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// A stream from a 64-bit seed.
  public init(seed: UInt64) {
    var x = seed
    func mix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = mix()
    s1 = mix()
    s2 = mix()
    s3 = mix()
  }

  /// An independent stream for (seed, a, b), e.g. (seed, class, chain).
  public init(seed: UInt64, stream a: UInt64, _ b: UInt64 = 0) {
    var h = seed ^ 0x6A09_E667_F3BC_C908
    for v in [a, b] {
      h = (h ^ v) &* 0x100_0000_01B3 &+ 0x9E37_79B9_7F4A_7C15
      h ^= h >> 29
      h = h &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 32
    }
    self.init(seed: h)
  }

  /// The next 64 random bits.
  @inline(__always)
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// Uniform in [0, 1) with 53 random bits.
  @inline(__always)
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform integer in 0..<n (n > 0), without modulo bias.
  public mutating func nextInt(below n: Int) -> Int {
    let bound = UInt64(n)
    let threshold = (0 &- bound) % bound
    while true {
      let r = next()
      let m = r.multipliedFullWidth(by: bound)
      if m.low >= threshold { return Int(m.high) }
    }
  }

  /// A standard normal draw (ziggurat; about 99% of draws take the fast path).
  @inline(__always)
  public mutating func nextNormal() -> Double {
    let z = Ziggurat.shared
    while true {
      let bits = next()
      let layer = Int(bits & 0x7F)
      let sign: Double = bits & 0x80 != 0 ? -1 : 1
      let u = Double(bits >> 11) * 0x1.0p-53
      let x = u * z.x[layer]
      if x < z.x[layer + 1] { return sign * x }
      if layer == 0 {
        // Tail beyond r: Marsaglia's method.
        var xt: Double
        var yt: Double
        repeat {
          xt = -Double.log(1 - nextUniform()) / z.r
          yt = -Double.log(1 - nextUniform())
        } while 2 * yt < xt * xt
        return sign * (z.r + xt)
      }
      let y = z.f[layer + 1] + nextUniform() * (z.f[layer] - z.f[layer + 1])
      if y < Double.exp(-0.5 * x * x) { return sign * x }
    }
  }

  /// A standard normal draw as Float.
  @inline(__always)
  public mutating func nextNormalFloat() -> Float { Float(nextNormal()) }
}

/// Ziggurat tables for the standard normal (128 layers of equal area).
struct Ziggurat: Sendable {
  let x: [Double]
  let f: [Double]
  let r: Double

  static let shared = Ziggurat()

  init() {
    let n = 128
    let r = 3.442619855899
    let v = 9.91256303526217e-3  // area of each layer
    var x = [Double](repeating: 0, count: n + 1)
    var f = [Double](repeating: 0, count: n + 1)
    let fr = Double.exp(-0.5 * r * r)
    x[0] = v / fr  // base layer: rectangle + tail, pseudo-width
    x[1] = r
    for i in 2..<n {
      x[i] = (-2 * Double.log(v / x[i - 1] + Double.exp(-0.5 * x[i - 1] * x[i - 1]))).squareRoot()
    }
    x[n] = 0
    for i in 0...n { f[i] = Double.exp(-0.5 * x[i] * x[i]) }
    self.x = x
    self.f = f
    self.r = r
  }
}

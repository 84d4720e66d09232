/// IEEE 754 binary16 conversions used for fp16 weight storage.
enum Half {
  /// The binary16 bit pattern nearest to `value` (round to nearest even).
  static func bits(of value: Float) -> UInt16 {
    Float16(value).bitPattern
  }

  /// The Float value of a binary16 bit pattern.
  @inline(__always)
  static func value(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
  }
}

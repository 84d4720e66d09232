import XCTest

import _EmberFlatBuffers

/// The payload checksum (`embr_crc32`: table-driven, or carry-less multiplication on x86_64
/// CPUs that have it) is the IEEE CRC-32 of zlib for every length, alignment and split.
final class ChecksumTests: XCTestCase {
  /// Bit-at-a-time CRC-32 (reflected polynomial 0xEDB88320), the definition.
  func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return ~crc
  }

  func crc(_ bytes: ArraySlice<UInt8>, start: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBufferPointer { embr_crc32(start, $0.baseAddress, $0.count) }
  }

  func testKnownValue() {
    XCTAssertEqual(crc(Array("123456789".utf8)[...]), 0xCBF4_3926)
    XCTAssertEqual(crc([][...]), 0)
  }

  func testEveryLengthAndOffsetMatchesTheDefinition() {
    var rng = SystemRandomNumberGenerator()
    let data = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
    for offset in 0..<17 {
      for length in Array(0...300) + [511, 512, 513, 1023, 1024, 1025, 4096, 4983 - offset] {
        let slice = data[offset..<(offset + length)]
        XCTAssertEqual(crc(slice), reference(slice), "offset \(offset), length \(length)")
      }
    }
  }

  func testChainedCallsEqualOneCall() {
    let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
    let whole = crc(data[...])
    for split in [0, 1, 15, 16, 63, 64, 65, 200, 1500, 2999, 3000] {
      XCTAssertEqual(crc(data[split...], start: crc(data[..<split])), whole, "split at \(split)")
    }
  }
}

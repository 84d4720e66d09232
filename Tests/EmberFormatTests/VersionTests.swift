import XCTest

import EmberFormat

/// The envelope's format version and minimum reader version decide who may read a file.
final class VersionTests: XCTestCase {
  let current = FormatVersion.current

  func file(_ version: FormatVersion, minReader: FormatVersion) throws -> [UInt8] {
    try ModelWriter.serialize(TestModels.tiny(), version: version, minReader: minReader, validating: true)
  }

  func testTheDefaultWriterMatchesTheHook() throws {
    XCTAssertEqual(
      try ModelWriter.serialize(TestModels.tiny()),
      try file(current, minReader: FormatVersion(major: current.major, minor: 0)))
  }

  func testOlderAndEqualMinorsOfTheSameMajorLoad() throws {
    for minor in 0...current.minor {
      let v = FormatVersion(major: current.major, minor: minor)
      let model = try EmberModel(bytes: try file(v, minReader: FormatVersion(major: current.major, minor: 0)))
      XCTAssertEqual(model.formatVersion, v)
      XCTAssertEqual(model.spec(), TestModels.tiny())
    }
  }

  func testANewerMinorThatOldReadersMayReadLoads() throws {
    let v = FormatVersion(major: current.major, minor: current.minor + 7)
    let model = try EmberModel(bytes: try file(v, minReader: current))
    XCTAssertEqual(model.formatVersion, v)
    XCTAssertEqual(model.minimumReaderVersion, current)
    XCTAssertEqual(model.spec(), TestModels.tiny())
  }

  func testANewerMajorIsRefusedNamingBothVersions() throws {
    let v = FormatVersion(major: current.major + 1, minor: 2)
    let error = assertFormatError(
      try EmberModel(bytes: try file(v, minReader: v)), .unsupportedVersion, locationContains: "format_version")
    XCTAssertTrue(error?.message.contains("\(v)") ?? false, error?.message ?? "")
    XCTAssertTrue(error?.message.contains("\(current)") ?? false, error?.message ?? "")
  }

  func testAnOlderMajorIsRefused() throws {
    let v = FormatVersion(major: current.major - 1, minor: 9)
    let error = assertFormatError(try EmberModel(bytes: try file(v, minReader: v)), .unsupportedVersion)
    XCTAssertTrue(error?.message.contains("\(v)") ?? false)
  }

  func testANewerMinimumReaderIsRefused() throws {
    let v = FormatVersion(major: current.major, minor: current.minor + 3)
    let error = assertFormatError(
      try EmberModel(bytes: try file(v, minReader: v)), .unsupportedVersion, locationContains: "min_reader_version")
    XCTAssertTrue(error?.message.contains("\(v)") ?? false, error?.message ?? "")
    XCTAssertTrue(error?.message.contains("\(current)") ?? false, error?.message ?? "")
    let major = FormatVersion(major: current.major + 1, minor: 0)
    assertFormatError(try EmberModel(bytes: try file(current, minReader: major)), .unsupportedVersion, locationContains: "min_reader_version")
  }

  func testVersionIsCheckedBeforeTheChecksum() throws {
    // A future file may checksum differently: the reader must say "version", not "corrupt".
    var bytes = try file(FormatVersion(major: current.major + 1, minor: 0), minReader: FormatVersion(major: current.major + 1, minor: 0))
    bytes[bytes.count - 8] ^= 0xFF
    assertFormatError(try EmberModel(bytes: bytes), .unsupportedVersion)
  }

  /// Removes envelope field `id` (0 format_version, 1 min_reader_version, 2 payload_crc32,
  /// 3 payload) by zeroing its vtable entry: the file then reads as if the writer omitted it.
  func withoutEnvelopeField(_ id: Int, version: FormatVersion) throws -> [UInt8] {
    var p = PayloadPatcher(bytes: try file(version, minReader: FormatVersion(major: version.major, minor: 0)))
    let table = p.root
    let vtable = table - Int(Int32(truncatingIfNeeded: p.u32(table)))
    p.bytes[vtable + 4 + 2 * id] = 0
    p.bytes[vtable + 5 + 2 * id] = 0
    return p.bytes
  }

  func testAMissingMinimumReaderMeansTheFilesOwnVersion() throws {
    XCTAssertEqual(try EmberModel(bytes: try withoutEnvelopeField(1, version: current)).minimumReaderVersion, current)
    let newer = FormatVersion(major: current.major, minor: current.minor + 1)
    assertFormatError(try EmberModel(bytes: try withoutEnvelopeField(1, version: newer)), .unsupportedVersion, locationContains: "min_reader_version")
  }

  func testMissingEnvelopeFields() throws {
    assertFormatError(try EmberModel(bytes: try withoutEnvelopeField(0, version: current)), .malformed, locationContains: "format_version")
    assertFormatError(try EmberModel(bytes: try withoutEnvelopeField(2, version: current)), .checksumMismatch)
    assertFormatError(try EmberModel(bytes: try withoutEnvelopeField(3, version: current)), .truncated)
  }

  func testVersionOrderingAndDescription() {
    XCTAssertLessThan(FormatVersion(major: 1, minor: 9), FormatVersion(major: 2, minor: 0))
    XCTAssertLessThan(FormatVersion(major: 1, minor: 0), FormatVersion(major: 1, minor: 1))
    XCTAssertEqual(FormatVersion(major: 3, minor: 14).description, "3.14")
  }
}

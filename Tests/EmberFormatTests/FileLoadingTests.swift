import Foundation
import XCTest

import EmberFormat

/// Loading through a memory map: `EmberModel(path:)` on good and bad paths.
final class FileLoadingTests: XCTestCase {
  func testMapsAFixture() throws {
    let path = "\(fixturesDirectory)/full.ember"
    let model = try EmberModel(path: path)
    XCTAssertEqual(model.spec(), TestModels.full())
    XCTAssertEqual(model.byteCount, try readBytes(path).count)
    XCTAssertNotEqual(model.checksum, 0)
  }

  func testTheModelOutlivesNothingItNeeds() throws {
    // Views stay valid while the model lives, even after the path is gone.
    let dir = try TempDir()
    let path = dir.path + "/m.ember"
    try ModelWriter.write(TestModels.fp16(), to: path)
    let model = try EmberModel(path: path)
    try FileManager.default.removeItem(atPath: path)
    XCTAssertEqual(model.spec(), TestModels.fp16())
  }

  func testMissingPathIsAnIOErrorNamingThePath() {
    let path = "/nonexistent/ember/model.ember"
    let e = assertFormatError(try EmberModel(path: path), .io, locationContains: path)
    XCTAssertTrue(e?.message.contains("No such file") ?? false, e?.message ?? "")
  }

  func testDirectoryIsAnIOError() {
    assertFormatError(try EmberModel(path: fixturesDirectory), .io, locationContains: fixturesDirectory, messageContains: "is a directory")
  }

  func testEmptyAndTinyFilesAreTruncated() throws {
    let dir = try TempDir()
    for n in [0, 1, 8, 15] {
      let path = dir.path + "/\(n).ember"
      FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x45, count: n))
      assertFormatError(try EmberModel(path: path), .truncated, locationContains: path)
    }
  }

  func testTextFileIsNotAModel() throws {
    let dir = try TempDir()
    let path = dir.path + "/data.csv"
    FileManager.default.createFile(atPath: path, contents: Data("a,b,c\n1,2,3\n4,5,6\n".utf8))
    assertFormatError(try EmberModel(path: path), .notAModel, locationContains: path)
  }

  func testCorruptedFileOnDiskNamesPathAndPayload() throws {
    let dir = try TempDir()
    let path = dir.path + "/bad.ember"
    var bytes = try readBytes("\(fixturesDirectory)/tiny.ember")
    bytes[bytes.count - 100] ^= 0x10
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    let e = assertFormatError(try EmberModel(path: path), .checksumMismatch, locationContains: path)
    XCTAssertEqual(e?.location, "\(path): payload")
    XCTAssertEqual(e?.description.split(separator: "\n").count, 1)
  }

  func testSymlinkToAFixtureLoads() throws {
    let dir = try TempDir()
    let link = dir.path + "/link.ember"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "\(fixturesDirectory)/tiny.ember")
    XCTAssertEqual(try EmberModel(path: link).spec(), TestModels.tiny())
  }
}

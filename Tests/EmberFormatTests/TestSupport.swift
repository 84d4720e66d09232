import Foundation
import XCTest

import EmberFormat

/// Asserts that `body` throws an ``EmberFormatError`` with `code` (and a location containing
/// `locationContains`, when given). Returns the error.
@discardableResult
func assertFormatError<T>(
  _ body: @autoclosure () throws -> T, _ code: EmberFormatError.Code, locationContains: String? = nil,
  messageContains: String? = nil, file: StaticString = #filePath, line: UInt = #line
) -> EmberFormatError? {
  do {
    _ = try body()
    XCTFail("expected \(code), got success", file: file, line: line)
  } catch let error as EmberFormatError {
    XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
    if let s = locationContains {
      XCTAssertTrue(error.location.contains(s), "location \"\(error.location)\" lacks \"\(s)\" (\(error))", file: file, line: line)
    }
    if let s = messageContains {
      XCTAssertTrue(error.message.contains(s), "message \"\(error.message)\" lacks \"\(s)\"", file: file, line: line)
    }
    XCTAssertFalse(error.message.isEmpty, file: file, line: line)
    return error
  } catch {
    XCTFail("expected EmberFormatError, got \(type(of: error)): \(error)", file: file, line: line)
  }
  return nil
}

/// A temporary directory removed when the value is deinitialised.
final class TempDir {
  let path: String
  init() throws {
    path = NSTemporaryDirectory() + "ember-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The source directory of the golden fixtures.
let fixturesDirectory: String = {
  let here = "\(#filePath)"
  return String(here[..<here.lastIndex(of: "/")!]) + "/Fixtures"
}()

/// Reads a whole file.
func readBytes(_ path: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A small deterministic generator for mutation tests.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

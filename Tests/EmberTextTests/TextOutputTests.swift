import Foundation
import XCTest

@testable import EmberText

final class TextOutputTests: XCTestCase {
  /// Runs `body` against a TextOutput on a temporary file and returns what was written.
  func written(_ body: (TextOutput) throws -> Void) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("embertext-out-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let out = TextOutput(fileDescriptor: handle.fileDescriptor, name: url.path)
    try body(out)
    try out.flush()
    try handle.close()
    return try String(contentsOf: url, encoding: .utf8)
  }

  func testRowsAreQuotedOnlyWhenNeeded() throws {
    let text = try written { out in
      try out.appendRow(["a", "b,c", "say \"hi\"", "two\nlines", "cr\r", ""])
      try out.append(1.5 as Float)
      try out.append(byte: 0x2C)
      try out.append(-42)
      try out.append(byte: 0x2C)
      try out.append(Int.min)
      try out.endLine()
    }
    XCTAssertEqual(text, "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\n1.5,-42,-9223372036854775808\n")
  }

  func testLargeOutputCrossesTheBufferIntact() throws {
    var expected = ""
    let text = try written { out in
      for i in 0..<20_000 {
        let f = Float(i) * 0.37
        try out.append(f)
        try out.append(byte: 0x2C)
        try out.append(i)
        try out.endLine()
        expected += "\(f),\(i)\n"
      }
      try out.append(String(repeating: "z", count: 200_000))
      expected += String(repeating: "z", count: 200_000)
    }
    XCTAssertEqual(text, expected)
  }

  func testWriteFailureIsATypedError() {
    let out = TextOutput(fileDescriptor: -1, name: "nowhere")
    XCTAssertThrowsError(try { try out.append("x"); try out.flush() }()) { error in
      XCTAssertEqual((error as? TextError)?.code, .write)
      XCTAssertEqual("\(error)", "nowhere: write failed: Bad file descriptor")
    }
  }

  /// The float writer gives Swift's description, and it reads back exactly.
  func testFloatTextIsDescriptionAndRoundTrips() {
    var rng = SplitMix(seed: 3)
    var buffer = [UInt8](repeating: 0, count: FloatText.maxLength)
    var samples: [Float] = [0, -0.0, 1, 0.1, 1e-5, 16_777_216, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.greatestFiniteMagnitude]
    for _ in 0..<100_000 { samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
    for f in samples {
      let n = buffer.withUnsafeMutableBufferPointer { FloatText.write(f, into: $0.baseAddress!) }
      let s = String(decoding: buffer[0..<n], as: UTF8.self)
      XCTAssertEqual(s, f.description)
      XCTAssertLessThanOrEqual(n, FloatText.maxLength)
      if f.isFinite { assertSameBits(DecimalParser.parseFloat(s), .number(f), s) }
    }
  }

  func testSnippetsAreShortAndEscaped() {
    XCTAssertEqual(TextSnippet.quoted("plain"), "\"plain\"")
    XCTAssertEqual(TextSnippet.quoted("a\"b\\c\n\r\t\u{0}\u{1B}\u{7F}"), "\"a\\\"b\\\\c\\n\\r\\t\\0\\u{1B}\\u{7F}\"")
    XCTAssertEqual(TextSnippet.quoted(String(repeating: "x", count: 100), limit: 5), "\"xxxxx…\"")
    // A cut never splits a UTF-8 character.
    XCTAssertEqual(TextSnippet.quoted("ééé", limit: 3), "\"é…\"")
  }
}

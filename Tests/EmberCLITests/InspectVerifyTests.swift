import EmberFormat
import Foundation
import XCTest

/// `ember inspect` and `ember verify` against the golden fixtures and damaged copies of them.
final class InspectVerifyTests: XCTestCase {
  static let fixtures: String = {
    let here = "\(#filePath)"
    let tests = here[..<here.lastIndex(of: "/")!].dropLast("/EmberCLITests".count)
    return tests + "/EmberFormatTests/Fixtures"
  }()
  static let names = ["tiny", "fp16", "mixture", "minimal", "full"]

  fileprivate var scratch: Scratch!

  override func setUpWithError() throws { scratch = try Scratch() }
  override func tearDown() { scratch = nil }

  func fixture(_ name: String) -> String { "\(Self.fixtures)/\(name).ember" }

  /// Asserts a clean refusal: status 3, no stdout, exactly one `ember: error:` line, no signal.
  @discardableResult
  func assertRefused(_ r: CLIResult, mentioning: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> String {
    XCTAssertNil(r.signal, "killed by signal \(r.signal ?? 0): \(r.stderr)", file: file, line: line)
    XCTAssertEqual(r.status, 3, r.stderr, file: file, line: line)
    XCTAssertEqual(r.stdout, "", file: file, line: line)
    XCTAssertEqual(r.stderrLines.count, 1, "stderr: \(r.stderr)", file: file, line: line)
    let message = String(r.stderrLines.first ?? "")
    XCTAssertTrue(message.hasPrefix("ember: error: "), message, file: file, line: line)
    if let mentioning { XCTAssertTrue(message.contains(mentioning), "\(message) lacks \(mentioning)", file: file, line: line) }
    return message
  }

  // MARK: verify

  func testVerifyAcceptsEveryFixture() throws {
    for name in Self.names {
      let path = fixture(name)
      let model = try EmberModel(path: path)
      let r = try CLIRunner.run(["verify", path])
      XCTAssertEqual(r.status, 0, r.stderr)
      XCTAssertEqual(r.stderr, "")
      XCTAssertEqual(r.stdout, "OK \(path) (\(model.classes.count) classes, \(model.features.count) features, \(model.byteCount) bytes)\n")
    }
  }

  func testVerifyRefusesACorruptedCopyNamingTheProblem() throws {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("full")))
    bytes[bytes.count - 300] ^= 0x04
    let path = scratch.write("corrupt.ember", bytes)
    let message = assertRefused(try CLIRunner.run(["verify", path]), mentioning: "checksumMismatch")
    XCTAssertTrue(message.contains(path), message)
    XCTAssertTrue(message.contains("payload"), message)
  }

  func testVerifyRefusesMissingTruncatedAndForeignFiles() throws {
    assertRefused(try CLIRunner.run(["verify", scratch.path + "/missing.ember"]), mentioning: "io: cannot open")
    assertRefused(try CLIRunner.run(["verify", scratch.path]), mentioning: "is a directory")
    let full = try Data(contentsOf: URL(fileURLWithPath: fixture("tiny")))
    assertRefused(try CLIRunner.run(["verify", scratch.write("half.ember", full.prefix(full.count / 2))]))
    assertRefused(try CLIRunner.run(["verify", scratch.write("empty.ember", Data())]), mentioning: "truncated")
    assertRefused(try CLIRunner.run(["verify", scratch.write("x.csv", Data("sepal,petal,species\n1,2,setosa\n3,4,virginica\n".utf8))]), mentioning: "notAModel")
  }

  func testVerifyRefusesANewerMajorVersionNamingBothVersions() throws {
    let future = FormatVersion(major: FormatVersion.current.major + 1, minor: 0)
    let bytes = try ModelWriter.serialize(EmberModel(path: fixture("tiny")).spec(), version: future, minReader: future, validating: true)
    let message = assertRefused(try CLIRunner.run(["verify", scratch.write("future.ember", Data(bytes))]), mentioning: "unsupportedVersion")
    XCTAssertTrue(message.contains("\(future)") && message.contains("\(FormatVersion.current)"), message)
  }

  func testVerifyWithoutAnArgumentIsAUsageError() throws {
    let r = try CLIRunner.run(["verify"])
    XCTAssertNil(r.signal)
    XCTAssertEqual(r.status, 64)
  }

  /// A few hundred damaged copies: each refused with status 3 and one line, none killed.
  func testHundredsOfMutatedCopiesAreEachRefused() throws {
    var rng = CLISplitMix(seed: 21)
    let originals = try Self.names.map { try Data(contentsOf: URL(fileURLWithPath: fixture($0))) }
    var codes: [String: Int] = [:]
    for round in 0..<320 {
      var m = originals[round % originals.count]
      switch round % 4 {
      case 0: m = m.prefix(Int.random(in: 0..<m.count, using: &rng))
      case 1:
        // Flip bytes inside the payload (the last 3/4 of every fixture is payload).
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
          m[Int.random(in: (m.count / 4)..<m.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
        }
      case 2:
        let at = Int.random(in: (m.count / 4)..<(m.count - 4), using: &rng)
        m.replaceSubrange(at..<(at + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
      default:
        m = Data((0..<Int.random(in: 0...2048, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        if m.count >= 8, round % 8 == 3 { m.replaceSubrange(4..<8, with: Array("EMBR".utf8)) }
      }
      let path = scratch.write("m\(round).ember", m)
      let message = assertRefused(try CLIRunner.run(["verify", path]))
      let code = message.dropFirst("ember: error: ".count).prefix { $0 != ":" }
      codes[String(code), default: 0] += 1
    }
    XCTAssertEqual(codes.values.reduce(0, +), 320)
    XCTAssertTrue(Set(codes.keys).isSubset(of: EmberFormatError.Code.allCases.map(\.rawValue)), "\(codes)")
    print("ember verify on 320 mutated files: \(codes)")
  }

  /// Damage behind a recomputed checksum reaches the semantic checks and the runtime's
  /// preparation: verify then either accepts or refuses cleanly, and inspect agrees.
  func testRechecksummedDamageIsAcceptedOrRefusedCleanly() throws {
    var rng = CLISplitMix(seed: 22)
    let spec = try EmberModel(path: fixture("full")).spec()
    let payload = ModelWriter.payloadBytes(spec)
    var outcomes = [0, 0]
    for round in 0..<60 {
      var p = payload
      for _ in 0..<Int.random(in: 1...6, using: &rng) {
        p[Int.random(in: 0..<p.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      let bytes = try ModelWriter.envelope(payload: p, version: .current, minReader: FormatVersion(major: FormatVersion.current.major, minor: 0))
      let path = scratch.write("r\(round).ember", Data(bytes))
      let v = try CLIRunner.run(["verify", path])
      let i = try CLIRunner.run(["inspect", "--json", path])
      XCTAssertNil(v.signal)
      XCTAssertNil(i.signal)
      if v.status == 0 {
        outcomes[0] += 1
        XCTAssertEqual(i.status, 0, i.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: i.stdoutData))
      } else {
        outcomes[1] += 1
        assertRefused(v)
        if (try? EmberModel(bytes: bytes)) == nil { assertRefused(i) }
      }
    }
    print("re-checksummed damage: \(outcomes[0]) verified, \(outcomes[1]) refused")
  }

  // MARK: inspect

  func testInspectTextNamesTheEssentials() throws {
    let r = try CLIRunner.run(["inspect", fixture("full")])
    XCTAssertEqual(r.status, 0, r.stderr)
    for needle in [
      "format         1.3", "6,464 bytes", "stacked read-out, 3×3 weights", "crc32 0x", "ember train 0.1.0", "data/full.csv (64 rows)",
      "objective      nce", "2026-09-21T14:13:20Z", "balanced accuracy 0.875", "target         kind",
      "features (3, encoded width 6)", "colour: categorical {red, green, blue, grün, \"dunkel\"}, impute blue",
      "size: numeric, mean 10, std 3, range 1…20", "missing 4",
      "cat: prior 0.5, train rows 32", "6→12→12→1 gelu/softplus/identity, logOdds, weights f32/f16/f32, 253 parameters",
      "mixture of 2 gaussians", "threshold 7.5 (20 held-out rows", "start rows     3 stored", "ünïcode = ✓",
    ] {
      XCTAssertTrue(r.stdout.contains(needle), "missing \"\(needle)\" in:\n\(r.stdout)")
    }
    let tiny = try CLIRunner.run(["inspect", fixture("tiny")])
    XCTAssertTrue(tiny.stdout.contains("2→8→1 silu, logOdds, weights f32, 33 parameters"), tiny.stdout)
  }

  func testInspectSaysWhetherTheFileHoldsTrainingRows() throws {
    let full = try CLIRunner.run(["inspect", fixture("full")])
    let stored = try XCTUnwrap(full.stdout.split(separator: "\n").first { $0.hasPrefix("  training rows") })
    XCTAssertTrue(stored.contains("stored as chain starting points — the file holds training data"), String(stored))
    let minimal = try CLIRunner.run(["inspect", fixture("minimal")])
    XCTAssertTrue(
      minimal.stdout.contains("none stored (chains start from the base; the file holds no training data)"), minimal.stdout)
  }

  func testInspectTextNamesARecordedLatticeVariance() throws {
    let r = try CLIRunner.run(["inspect", fixture("mixture")])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("(shared covariance), log det Σ -8.31777, lattice variance on 5 slots"), r.stdout)
  }

  func testInspectJSONParsesAndHoldsEverything() throws {
    for name in Self.names {
      let path = fixture(name)
      let model = try EmberModel(path: path)
      let r = try CLIRunner.run(["inspect", path, "--json"])
      XCTAssertEqual(r.status, 0, r.stderr)
      let object = try JSONSerialization.jsonObject(with: r.stdoutData, options: [.fragmentsAllowed])
      let json = try XCTUnwrap(object as? [String: Any], name)
      for key in [
        "path", "format_version", "min_reader_version", "file_size", "checksum", "provenance", "target",
        "temperature", "encoded_width", "parameter_count", "features", "classes", "score_calibration", "metadata",
      ] {
        XCTAssertNotNil(json[key], "\(name): \(key)")
      }
      XCTAssertEqual(json["file_size"] as? Int, model.byteCount)
      XCTAssertEqual(json["format_version"] as? String, "\(model.formatVersion)")
      XCTAssertEqual(json["encoded_width"] as? Int, model.encodedWidth)
      let provenance = try XCTUnwrap(json["provenance"] as? [String: Any])
      for key in ["producer", "source", "source_rows", "seed", "objective", "created", "train_seconds", "heldout_balanced_accuracy", "heldout_ood_auroc"] {
        XCTAssertTrue(provenance.keys.contains(key), "\(name) provenance \(key)")
      }
      if model.provenance.heldoutOODAUROC.isNaN { XCTAssertTrue(provenance["heldout_ood_auroc"] is NSNull, name) }
      let features = try XCTUnwrap(json["features"] as? [[String: Any]])
      XCTAssertEqual(features.map { $0["name"] as? String }, model.features.map(\.name))
      XCTAssertEqual(features.map { $0["kind"] as? String }, model.features.map(\.kind.description))
      for (f, spec) in zip(features, model.features) {
        XCTAssertEqual(f["categories"] as? [String], spec.categories)
        XCTAssertEqual(f["missing_count"] as? Int, spec.missingCount)
        XCTAssertEqual(try XCTUnwrap(f["mean"] as? Double), spec.mean, accuracy: 1e-12)
      }
      let classes = try XCTUnwrap(json["classes"] as? [[String: Any]])
      XCTAssertEqual(classes.count, model.classes.count)
      for (c, info) in zip(classes, model.classes) {
        XCTAssertEqual(c["label"] as? String, info.label)
        XCTAssertEqual(c["train_rows"] as? Int, info.trainRows)
        XCTAssertEqual(c["starting_rows"] as? Int, info.startingRowCount(width: model.encodedWidth))
        if info.layers.isEmpty {
          XCTAssertTrue(c["network"] is NSNull)
        } else {
          let net = try XCTUnwrap(c["network"] as? [String: Any])
          XCTAssertEqual(net["shape"] as? [Int], [model.encodedWidth] + info.layers.map(\.outputs))
          XCTAssertEqual(net["parameter_count"] as? Int, info.parameterCount)
          XCTAssertEqual(net["weight_types"] as? [String], info.layers.map(\.weightType.description))
        }
        if let b = info.base {
          let j = try XCTUnwrap(c["base"] as? [String: Any])
          XCTAssertEqual(j["lattice_slots"] as? Int, b.latticeSlots, "\(name) \(info.label)")
          XCTAssertEqual(b.latticeSlots, name == "mixture" ? 5 : 0, "the mixture fixture records one-hot slots")
        }
        if let cal = info.calibration {
          let j = try XCTUnwrap(c["calibration"] as? [String: Any])
          XCTAssertEqual((j["quantiles"] as? [Double])?.count, cal.quantiles.count)
          XCTAssertEqual(try XCTUnwrap(j["threshold"] as? Double), Double(cal.threshold), accuracy: 1e-6)
        }
        XCTAssertEqual((c["base"] as? [String: Any])?["components"] as? Int, info.base?.components)
      }
      XCTAssertEqual(json["metadata"] as? [String: String], model.metadata)
    }
  }

  func testInspectRefusesABadFileWithOneLine() throws {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("mixture")))
    bytes[bytes.count - 1] ^= 0x80
    let path = scratch.write("bad.ember", bytes)
    assertRefused(try CLIRunner.run(["inspect", path]), mentioning: "checksumMismatch")
    assertRefused(try CLIRunner.run(["inspect", "--json", path]), mentioning: path)
  }
}

/// Scratch files for these tests.
private final class Scratch {
  let path: String
  init() throws {
    path = NSTemporaryDirectory() + "ember-inspect-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
  func write(_ name: String, _ data: Data) -> String {
    let p = path + "/" + name
    FileManager.default.createFile(atPath: p, contents: data)
    return p
  }
}

/// Deterministic generator for the mutation tests.
private struct CLISplitMix: RandomNumberGenerator {
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

import Foundation
import XCTest

import EmberFormat

/// The committed files under `Fixtures/` pin the byte layout: they must load to the expected
/// specs, and serialising those specs must reproduce them byte for byte.
///
/// Regenerate (after an intended format change only) with
/// `EMBER_REGENERATE_FIXTURES=1 swift test --filter GoldenFixtureTests` or `tools/make-fixtures.sh`.
final class GoldenFixtureTests: XCTestCase {
  func testRegenerateFixturesWhenAsked() throws {
    guard ProcessInfo.processInfo.environment["EMBER_REGENERATE_FIXTURES"] == "1" else {
      throw XCTSkip("set EMBER_REGENERATE_FIXTURES=1 to rewrite Tests/EmberFormatTests/Fixtures")
    }
    for (name, spec) in TestModels.fixtures {
      try ModelWriter.write(spec, to: "\(fixturesDirectory)/\(name).ember")
    }
  }

  func testFixturesLoadToTheExpectedSpecs() throws {
    for (name, spec) in TestModels.fixtures {
      let path = "\(fixturesDirectory)/\(name).ember"
      let bytes = try readBytes(path)
      XCTAssertEqual(try EmberModel(bytes: bytes).spec(), spec, name)
      XCTAssertEqual(try EmberModel(path: path).spec(), spec, name)
    }
  }

  func testSerialisingTheSpecsReproducesTheCommittedBytes() throws {
    for (name, spec) in TestModels.fixtures {
      let committed = try readBytes("\(fixturesDirectory)/\(name).ember")
      let fresh = try ModelWriter.serialize(spec)
      XCTAssertEqual(fresh.count, committed.count, name)
      if let i = fresh.indices.first(where: { $0 < committed.count && fresh[$0] != committed[$0] }) {
        XCTFail("\(name).ember differs from the writer's output first at byte \(i): the format changed (bump the version and regenerate, see FORMAT.md)")
      }
    }
  }

  /// Files written before format 1.3 (`Fixtures/format-1.2`, the committed fixtures of that
  /// version) still load to their specs — without a lattice variance — and a 1.3 writer asked
  /// for version 1.2 reproduces them byte for byte: the 1.3 addition is absent from a file
  /// that does not use it.
  func testFormatOnePointTwoFilesLoadAndReserialiseToTheSameBytes() throws {
    let old = FormatVersion(major: 1, minor: 2)
    for (name, current) in [("full", TestModels.full()), ("mixture", TestModels.mixture())] {
      var spec = current
      for c in spec.classes.indices { spec.classes[c].base?.latticeVariance = [] }
      let committed = try readBytes("\(fixturesDirectory)/format-1.2/\(name).ember")
      let model = try EmberModel(bytes: committed)
      XCTAssertEqual(model.formatVersion, old, name)
      XCTAssertEqual(model.spec(), spec, name)
      XCTAssertEqual(try ModelWriter.serialize(spec, version: old, minReader: FormatVersion(major: 1, minor: 0), validating: true), committed, name)
    }
  }

  func testFixturesAreSmallAndAllPresent() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory).filter { $0.hasSuffix(".ember") }
    XCTAssertEqual(Set(files), Set(TestModels.fixtures.map { "\($0.name).ember" }))
    for f in files {
      let size = try readBytes("\(fixturesDirectory)/\(f)").count
      XCTAssertLessThan(size, 16_384, f)
    }
  }
}

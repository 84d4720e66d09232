import XCTest

@testable import EmberFormat

/// Thousands of damaged files: every load either throws ``EmberFormatError`` or — only where
/// the damage cannot matter — yields exactly the original model. Nothing traps.
final class CorruptionTests: XCTestCase {
  struct Sample {
    let name: String
    let spec: ModelSpec
    let bytes: [UInt8]
    let payload: [UInt8]
    /// Where the payload starts inside the file.
    let payloadStart: Int
  }

  static let samples: [Sample] = TestModels.fixtures.map { name, spec in
    let bytes = try! ModelWriter.serialize(spec)
    let payload = ModelWriter.payloadBytes(spec)
    let start = (0...(bytes.count - payload.count)).first { Array(bytes[$0..<($0 + payload.count)]) == payload }!
    return Sample(name: name, spec: spec, bytes: bytes, payload: payload, payloadStart: start)
  }

  /// Number of damaged loads, checked against the 10,000 floor at the end of the run.
  nonisolated(unsafe) static var mutationsTried = 0

  enum Outcome: Equatable { case threw(EmberFormatError.Code), loaded(ModelSpec) }

  func load(_ bytes: [UInt8]) -> Outcome {
    Self.mutationsTried += 1
    do {
      return .loaded(try EmberModel(bytes: bytes).spec())
    } catch let e as EmberFormatError {
      XCTAssertFalse(e.message.isEmpty)
      return .threw(e.code)
    } catch {
      XCTFail("non-format error \(error)")
      return .threw(.io)
    }
  }

  func testTheSamplesPutThePayloadAtTheEndOfTheFile() {
    for s in Self.samples {
      XCTAssertEqual(s.payloadStart + s.payload.count, s.bytes.count, s.name)
      XCTAssertEqual(s.payloadStart % 64, 0, s.name)
    }
  }

  func testTruncationAtEveryLengthIsRefused() {
    for s in Self.samples {
      for n in 0..<s.bytes.count {
        let outcome = load(Array(s.bytes[0..<n]))
        guard case .threw(let code) = outcome else {
          XCTFail("\(s.name) truncated to \(n) bytes loaded")
          continue
        }
        // Short files and files cut inside the payload say "truncated"; cuts inside the
        // envelope header may read as malformed.
        if n < 16 || n >= s.payloadStart { XCTAssertEqual(code, .truncated, "\(s.name) \(n)") }
      }
    }
  }

  func testEverySingleByteChangeToThePayloadIsDetected() {
    var rng = SplitMix64(seed: 11)
    for s in Self.samples {
      for i in s.payloadStart..<s.bytes.count {
        // All 255 changes of every byte of the smallest model; 8 bit flips and one random
        // value per byte of the others.
        var deltas: [UInt8] = (0..<8).map { 1 << $0 }
        deltas.append(UInt8.random(in: 1...255, using: &rng))
        if s.name == "minimal" { deltas = Array(1...255) }
        for delta in deltas {
          var m = s.bytes
          m[i] ^= delta
          XCTAssertEqual(load(m), .threw(.checksumMismatch), "\(s.name) byte \(i) ^ \(delta)")
        }
      }
    }
  }

  func testRandomByteFlipsAnywhere() {
    var rng = SplitMix64(seed: 12)
    var harmless = 0
    for round in 0..<6000 {
      let s = Self.samples[round % Self.samples.count]
      var m = s.bytes
      var touchedPayload = false
      for _ in 0..<Int.random(in: 1...16, using: &rng) {
        let i = Int.random(in: 0..<m.count, using: &rng)
        m[i] ^= UInt8.random(in: 1...255, using: &rng)
        if i >= s.payloadStart { touchedPayload = true }
      }
      switch load(m) {
      case .threw: break
      case .loaded(let spec):
        // Only envelope padding may change without effect; then the model is the same.
        XCTAssertFalse(touchedPayload, "\(s.name): payload damage went undetected (round \(round))")
        XCTAssertEqual(spec, s.spec, "\(s.name): a damaged envelope changed the model")
        harmless += 1
      }
    }
    // Padding is a small share of the envelope, and the envelope a small share of the file.
    XCTAssertLessThan(harmless, 200)
  }

  func testRandomGarbageIsRefused() {
    var rng = SplitMix64(seed: 13)
    for round in 0..<2000 {
      var m = (0..<Int.random(in: 0...4096, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      if round % 2 == 0, m.count >= 8 {
        // Plausible header: a small root offset and the right identifier.
        m[0] = UInt8.random(in: 8...64, using: &rng); m[1] = 0; m[2] = 0; m[3] = 0
        m.replaceSubrange(4..<8, with: Array("EMBR".utf8))
      }
      guard case .threw = load(m) else { return XCTFail("garbage of \(m.count) bytes loaded") }
    }
  }

  func testHugeCountsAndOffsetsInTheEnvelopeAreRefused() {
    let values: [UInt32] = [0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFC, 0x0001_0000]
    for s in Self.samples {
      for at in stride(from: 0, to: s.payloadStart, by: 4) {
        for v in values + [UInt32(s.bytes.count), UInt32(s.bytes.count - at)] {
          var m = s.bytes
          for k in 0..<4 { m[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
          if case .loaded(let spec) = load(m) { XCTAssertEqual(spec, s.spec, "\(s.name) word \(at) = \(v)") }
        }
      }
    }
  }

  /// Damage inside the payload behind a *correct* checksum reaches the FlatBuffers verifier and
  /// the semantic checks: those must refuse it or produce a model that is fully consistent.
  func testDamagedPayloadsBehindAValidChecksumNeverTrap() throws {
    var rng = SplitMix64(seed: 14)
    // Huge counts and offsets, a count just past the end, and a NaN / infinity bit pattern.
    let values: [UInt32] = [0xFFFF_FFFF, 0x8000_0000, 0x7FC0_0000]
    var loaded = 0
    var refused = 0
    func check(_ payload: [UInt8], _ s: Sample) throws {
      let file = try ModelWriter.envelope(payload: payload, version: .current, minReader: FormatVersion(major: 1, minor: 0))
      switch load(file) {
      case .threw: refused += 1
      case .loaded(let spec):
        loaded += 1
        // A model that loads is semantically valid: the checked writer accepts it and it
        // round-trips.
        let again = try ModelWriter.serialize(spec)
        XCTAssertEqual(try EmberModel(bytes: again).spec(), spec, s.name)
      }
    }
    for s in Self.samples {
      for at in stride(from: 0, to: s.payload.count - 3, by: 4) {
        for v in values + [UInt32(s.payload.count - at)] {
          var p = s.payload
          for k in 0..<4 { p[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
          try check(p, s)
        }
      }
    }
    for round in 0..<3000 {
      let s = Self.samples[round % Self.samples.count]
      var p = s.payload
      for _ in 0..<Int.random(in: 1...8, using: &rng) {
        p[Int.random(in: 0..<p.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      if round % 3 == 0 { p.removeLast(Int.random(in: 1..<p.count, using: &rng)) }
      try check(p, s)
    }
    XCTAssertGreaterThan(refused, 0)
    print("re-checksummed payload damage: \(refused) refused, \(loaded) loaded as valid models")
  }

  func testZZMoreThanTenThousandMutationsPerRun() {
    // The class runs its tests alphabetically; this name sorts last and sees the total.
    XCTAssertGreaterThanOrEqual(Self.mutationsTried, 10_000, "run the whole CorruptionTests class")
    print("CorruptionTests: \(Self.mutationsTried) damaged files loaded")
  }
}

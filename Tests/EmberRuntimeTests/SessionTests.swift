import EmberFormat
import XCTest

@testable import EmberRuntime

/// The runtime facade: encoding policy, strict numbers, the evaluator's batching and non-finite
/// policy, answers and validated sampler overrides.
final class SessionTests: XCTestCase {
  /// x numeric (mean 1, std 2), n integer, c categorical {p, q} (impute index 1).
  func smallModel() throws -> EmberSession {
    let features = [
      FeatureSpec(name: "x", kind: .numeric, imputeValue: 1, mean: 1, std: 2, min: -5, max: 5, slotOffset: 0),
      FeatureSpec(name: "n", kind: .integer, imputeValue: 4, mean: 4, std: 1, min: 0, max: 9, slotOffset: 1),
      FeatureSpec(name: "c", kind: .categorical, imputeValue: 1, categories: ["p", "q"], slotOffset: 2, slotCount: 2),
    ]
    var rng = RandomSource(seed: 3)
    let classes = ["a", "b"].map { label in
      ClassSpec(label: label, prior: 0.5, base: TestModels.base(4, components: 1, &rng),
                calibration: Calibration(levels: [0, 0.5, 1], quantiles: [1, 5, 9], threshold: 8, rows: 10))
    }
    let spec = ModelSpec(
      target: "y", features: features, classes: classes,
      scoreCalibration: Calibration(levels: [0, 0.5, 1], quantiles: [1, 5, 9], threshold: 8, rows: 10))
    return try EmberSession(EmberModel(bytes: try ModelWriter.serialize(spec)))
  }

  func encode(_ s: EmberSession, _ fields: [String], policy: UnknownCategoryPolicy = .missing) throws -> ([Float], RowFlags) {
    let e = try s.encoder(header: ["c", "x", "n", "extra"], unknownCategories: policy)
    var out = [Float](repeating: -7, count: s.width)
    let flags = try out.withUnsafeMutableBufferPointer { (p) throws(EmberRuntimeError) in try e.encode(fields, into: p.baseAddress!) }
    return (out, flags)
  }

  func testRawNumbersFollowTheDecimalGrammarAndTheFloatRange() {
    let values: [(String, RawNumber.Parsed)] = [
      ("1", .value(1)), ("-2.5", .value(-2.5)), ("+.5", .value(0.5)), ("3.", .value(3)), ("1e-3", .value(0.001)),
      ("2E+2", .value(200)), ("3e38", .value(3e38)), ("1e-50", .value(1e-50)),
      ("1e39", .outOfRange), ("-1e308", .outOfRange), ("1e400", .outOfRange),
      ("inf", .nonFinite), ("-Infinity", .nonFinite), ("NAN", .nonFinite),
      ("0x10", .notANumber), ("0x1p3", .notANumber), ("5.1\u{0}9999", .notANumber), ("1e", .notANumber), ("e5", .notANumber),
      (".", .notANumber), ("--1", .notANumber), ("1-", .notANumber), ("1.2.3", .notANumber), ("", .notANumber), ("1 2", .notANumber),
    ]
    for (text, expected) in values { XCTAssertEqual(RawNumber.parse(text), expected, text) }
  }

  func testMissingTokensAreTheTrainersSetAndImputeEveryKind() throws {
    let s = try smallModel()
    let (imputed, _) = try encode(s, ["", "", "", "zz"])
    XCTAssertEqual(imputed, [0, 0, 0, 1])
    for token in MissingValue.tokens {
      XCTAssertTrue(MissingValue.isMissing(token), token)
      XCTAssertEqual(try encode(s, [token, token, token, "zz"]).0, imputed, token)
    }
    for notMissing in ["N", "null", "None", "-", "0", "NAN"] { XCTAssertFalse(MissingValue.isMissing(notMissing), notMissing) }
  }

  func testUnknownCategoriesAreMissingAndFlaggedOrRefusedOnRequest() throws {
    let s = try smallModel()
    let (row, flags) = try encode(s, ["r", "3", "5", ""])
    XCTAssertEqual(row, [1, 1, 0, 1])
    XCTAssertEqual(flags, .unknownCategory)
    XCTAssertEqual(try encode(s, ["p", "3", "5", ""]).1, [])
    XCTAssertThrowsError(try encode(s, ["r", "3", "5", ""], policy: .error)) { error in
      let e = error as! EmberRuntimeError
      XCTAssertEqual(e.code, .unknownCategory)
      XCTAssertEqual(e.location, "c")
      XCTAssertEqual(e.column, 0)
    }
  }

  func testBadCellsNameTheirColumnAndFieldIndex() throws {
    let s = try smallModel()
    for (fields, column, code) in [(["p", "abc", "5", ""], 1, EmberRuntimeError.Code.badValue), (["p", "1", "1e39", ""], 2, .badValue)] {
      XCTAssertThrowsError(try encode(s, fields)) { error in
        let e = error as! EmberRuntimeError
        XCTAssertEqual(e.code, code)
        XCTAssertEqual(e.column, column)
      }
    }
  }

  func testEncodedValuesAreClampedToTheCertifiedBox() throws {
    let s = try smallModel()
    let (row, _) = try encode(s, ["p", "3e38", "-3e38", ""])
    XCTAssertEqual(row[0], ModelLimits.encodedMagnitude)
    XCTAssertEqual(row[1], -ModelLimits.encodedMagnitude)
  }

  func testADuplicatedFeatureColumnIsRefusedAndOtherDuplicatesIgnored() throws {
    let s = try smallModel()
    XCTAssertThrowsError(try s.encoder(header: ["x", "n", "c", "x"])) { error in
      XCTAssertEqual((error as! EmberRuntimeError).code, .missingColumns)
      XCTAssertEqual((error as! EmberRuntimeError).column, 3)
    }
    XCTAssertNoThrow(try s.encoder(header: ["x", "n", "c", "id", "id"]))
  }

  func testTheEvaluatorMatchesTheEnergiesForAnyThreadCountAndChunking() throws {
    let model = try TestModels.mixed()
    let s = try EmberSession(model)
    var rng = RandomSource(seed: 5)
    let n = 333
    let x = (0..<(n * s.width)).map { _ in rng.nextNormalFloat() * 2 }
    let reference = s.energy.energies(x)
    for threads in [1, 2, 3] {
      var out = [Float](repeating: .nan, count: n * s.classCount)
      x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { Evaluator(s, threads: threads).energies(rows: xp.baseAddress!, count: n, into: $0.baseAddress!) }
      }
      XCTAssertEqual(out, reference, "threads \(threads)")
    }
    var chunked = [Float]()
    x.withUnsafeBufferPointer { xp in
      Evaluator(s).forEachChunk(rows: xp.baseAddress!, count: n) { start, m, e in
        XCTAssertEqual(start, chunked.count / s.classCount)
        chunked += UnsafeBufferPointer(start: e, count: m * s.classCount)
      }
    }
    XCTAssertEqual(chunked, reference)
  }

  func testNoAnswerIsEverNonFinite() throws {
    let s = try EmberSession(try TestModels.mixed())
    let d = s.width
    var x = [Float](repeating: 0, count: 4 * d)
    for i in 0..<d {
      x[i] = .greatestFiniteMagnitude
      x[d + i] = -.greatestFiniteMagnitude
      x[2 * d + i] = .nan
      x[3 * d + i] = i % 2 == 0 ? .infinity : -.infinity
    }
    var e = [Float](repeating: 0, count: 4 * s.classCount)
    x.withUnsafeBufferPointer { xp in
      e.withUnsafeMutableBufferPointer { Evaluator(s).energies(rows: xp.baseAddress!, count: 4, into: $0.baseAddress!) }
    }
    XCTAssertTrue(e.allSatisfy(\.isFinite), "\(e)")
    var p = [Float](repeating: 0, count: s.classCount)
    for r in 0..<4 {
      e.withUnsafeBufferPointer { ep in
        x.withUnsafeBufferPointer { xp in
          XCTAssertTrue(s.score(ep.baseAddress! + r * s.classCount).isFinite)
          p.withUnsafeMutableBufferPointer {
            _ = s.classify(ep.baseAddress! + r * s.classCount, row: xp.baseAddress! + r * d, probabilities: $0.baseAddress!)
          }
        }
      }
      XCTAssertTrue(p.allSatisfy(\.isFinite))
      XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-4)
    }
    var energies = [Float](repeating: 0, count: 4)
    var gradients = [Float](repeating: 0, count: 4 * d)
    x.withUnsafeBufferPointer { xp in
      energies.withUnsafeMutableBufferPointer { ep in
        gradients.withUnsafeMutableBufferPointer { gp in
          Evaluator(s).energyAndGradient(classIndex: 0, rows: xp.baseAddress!, count: 4, energies: ep.baseAddress!, gradients: gp.baseAddress!)
        }
      }
    }
    XCTAssertTrue(energies.allSatisfy(\.isFinite) && gradients.allSatisfy(\.isFinite))
  }

  func testPercentilesAreZeroToHundredAndUnknownCategoriesAreAnomalous() throws {
    let s = try smallModel()
    XCTAssertEqual(s.percentile(ofScore: 0), 0)
    XCTAssertEqual(s.percentile(ofScore: 5), 50)
    XCTAssertEqual(s.percentile(ofScore: 7), 75)
    XCTAssertEqual(s.percentile(ofScore: 100), 100)
    XCTAssertEqual(s.isAnomaly(score: 1), false)
    XCTAssertEqual(s.isAnomaly(score: 9), true)
    XCTAssertEqual(s.isAnomaly(score: 1, flags: .unknownCategory), true)
    XCTAssertEqual(s.isAnomaly(score: 9, threshold: 10), false)
  }

  func testSamplerOverridesAreValidatedWithTheFileRanges() {
    func problem(_ change: (inout SamplerOverrides) -> Void) -> String? {
      var o = SamplerOverrides()
      change(&o)
      do {
        try o.validate()
        return nil
      } catch {
        XCTAssertEqual(error.code, .badOption)
        return error.location
      }
    }
    XCTAssertNil(problem { _ in })
    XCTAssertNil(problem { $0.steps = 1_000_000; $0.noise = -1; $0.initNoise = 100 })
    XCTAssertEqual(problem { $0.steps = 1_000_001 }, "steps")
    XCTAssertEqual(problem { $0.stepSize = 0 }, "step_size")
    XCTAssertEqual(problem { $0.stepSize = .nan }, "step_size")
    XCTAssertEqual(problem { $0.noise = .infinity }, "noise_scale")
    XCTAssertEqual(problem { $0.temperature = 1e7 }, "temperature")
    XCTAssertEqual(problem { $0.initNoise = 1e30 }, "init_noise")
    XCTAssertEqual(problem { $0.gradClip = -1 }, "grad_clip")
    XCTAssertEqual(problem { $0.divergenceLimit = 2e6 }, "divergence_limit")
  }

  func testSamplingThroughTheSessionIsDeterministicAndCanStopEarly() throws {
    let s = try EmberSession(try TestModels.mixed())
    let c = s.classCount - 1  // base only
    func draw(threads: Int) throws -> [Float] {
      var rows: [Float] = []
      var o = SamplerOverrides()
      o.steps = 3
      _ = try s.sample(classIndex: c, count: 700, seed: 9, overrides: o, threads: threads) { block, _ in
        rows += block
        return true
      }
      return rows
    }
    XCTAssertEqual(try draw(threads: 1), try draw(threads: 3))
    var blocks = 0
    _ = try s.sample(classIndex: c, count: 5000, seed: 1) { _, _ in
      blocks += 1
      return false
    }
    XCTAssertEqual(blocks, 1)
    XCTAssertThrowsError(try s.sample(classIndex: c, count: 1, seed: 1, threads: 5000) { _, _ in true })
    XCTAssertThrowsError(try s.sample(classIndex: 99, count: 1, seed: 1) { _, _ in true })
  }

  func testAllocationSplitsByLargestRemainderWithTiesToTheLowerIndex() {
    XCTAssertEqual(EmberSession.allocate(10, weights: [0.7, 0.3]), [7, 3])
    XCTAssertEqual(EmberSession.allocate(5, weights: [1, 1, 1]), [2, 2, 1])
    XCTAssertEqual(EmberSession.allocate(7, weights: [0.5, 0.25, 0.25]), [3, 2, 2])
    XCTAssertEqual(EmberSession.allocate(0, weights: [1, 2]), [0, 0])
    XCTAssertEqual(EmberSession.allocate(3, weights: [0, 0]), [3, 0])
  }
}

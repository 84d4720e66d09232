import EmberFormat
import XCTest
@testable import EmberRuntime

/// The class filters of sampling (``ClassFilter``): rows of class c are kept only where c has
/// the least energy (balanced) or where the classification read-out with equal priors picks c
/// (readout, the default), the same rows for any thread count or block size.
final class ClassFilterTests: XCTestCase {
  /// Two overlapping base-only Gaussian classes in 2-d: "wide" N((0, 0), 2²·I) with prior 0.9,
  /// "narrow" N((1, 0), 0.5²·I) with prior 0.1. Rows of "wide" near (1, 0) are likelier under
  /// "narrow" (balanced posterior), so an unfiltered draw of "wide" lands there often.
  func overlappingModel() throws -> EnergyModel { try EnergyModel(try overlappingFile()) }

  func overlappingFile(offsets: [Float] = [0, 0], readout: StackedReadout? = nil) throws -> EmberModel {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [
        ClassSpec(
          label: "wide", prior: 0.9,
          base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [0.25, 0, 0, 0.25], logDetCovariance: 2 * Double.log(4)),
          offset: offsets[0]),
        ClassSpec(
          label: "narrow", prior: 0.1,
          base: GaussianBaseSpec(means: [1, 0], logWeights: [0], precision: [4, 0, 0, 4], logDetCovariance: 2 * Double.log(0.25)),
          offset: offsets[1]),
      ], temperature: 1.5, readout: readout)
    return try EmberModel(bytes: try ModelWriter.serialize(spec))
  }

  func draw(
    _ energy: EnergyModel, classIndex: Int, count: Int, filter: ClassFilter, threads: Int = 1, block: Int = 256
  ) throws -> ([Float], SamplingStats) {
    let s = SamplerDefaults(kind: .langevin, steps: 0, stepSize: 0.01, initNoise: 0, initialization: .base)
    var rows: [Float] = []
    let stats = try Sampler(energy, blockSize: block).run(
      classIndex: classIndex, count: count, seed: 11, settings: s, threads: threads, filter: filter
    ) { b, _ in
      rows += b
      return true
    }
    return (rows, stats)
  }

  /// Rows whose least-energy class is not `classIndex`.
  func inconsistent(_ energy: EnergyModel, _ rows: [Float], classIndex: Int) -> Int {
    let e = energy.energies(rows)
    let c = energy.classCount
    return (0..<(rows.count / energy.width)).filter { i in
      (0..<c).contains { k in k != classIndex && e[i * c + k] < e[i * c + classIndex] }
    }.count
  }

  func testBalancedFilterKeepsOnlyRowsWhoseLeastEnergyIsTheirClass() throws {
    let energy = try overlappingModel()
    for c in 0..<2 {
      let (off, offStats) = try draw(energy, classIndex: c, count: 2000, filter: .off)
      let (kept, stats) = try draw(energy, classIndex: c, count: 2000, filter: .balanced)
      XCTAssertEqual(kept.count, 2000 * 2)
      XCTAssertTrue(kept.allSatisfy { $0.isFinite })
      XCTAssertEqual(offStats.filterRejected, 0)
      XCTAssertEqual(inconsistent(energy, kept, classIndex: c), stats.filterFallbacks)
      if c == 0 {
        // ≈ 9 % of N(0, 4I) lies where N((1, 0), I/4) is denser: the filter has work to do.
        XCTAssertGreaterThan(inconsistent(energy, off, classIndex: c), 100)
        XCTAssertGreaterThan(stats.filterRejected, 100)
        XCTAssertEqual(stats.filterFallbacks, 0)
      }
    }
  }

  func testFilteredRowsAreTheSameForAnyThreadCountAndBlockSize() throws {
    let energy = try overlappingModel()
    let (reference, _) = try draw(energy, classIndex: 0, count: 601, filter: .balanced)
    XCTAssertEqual(try draw(energy, classIndex: 0, count: 601, filter: .balanced, threads: 3).0, reference)
    XCTAssertEqual(try draw(energy, classIndex: 0, count: 601, filter: .balanced, threads: 2, block: 7).0, reference)
  }

  func testAcceptedFirstDrawsAreTheUnfilteredRows() throws {
    // A row the filter accepts at its first attempt is the unfiltered row of the same chain.
    let energy = try overlappingModel()
    let (off, _) = try draw(energy, classIndex: 0, count: 500, filter: .off)
    let (kept, _) = try draw(energy, classIndex: 0, count: 500, filter: .balanced)
    let d = energy.width
    let e = energy.energies(off)
    var same = 0
    for i in 0..<500 {
      let consistent = e[i * 2] <= e[i * 2 + 1]
      let equal = Array(off[(i * d)..<(i * d + d)]) == Array(kept[(i * d)..<(i * d + d)])
      XCTAssertEqual(consistent, equal, "row \(i)")
      if equal { same += 1 }
    }
    XCTAssertGreaterThan(same, 400)
  }

  func testSessionFiltersByTheReadoutByDefaultAndOffRestoresTheUnfilteredRows() throws {
    // Offsets make the read-out's answer differ from the least energy.
    let session = try EmberSession(try overlappingFile(offsets: [0.8, -0.5]))
    let energy = session.energy
    func rows(_ filter: ClassFilter?) throws -> [Float] {
      var o = SamplerOverrides()
      o.classFilter = filter
      o.initialization = .base
      var out: [Float] = []
      _ = try session.sample(classIndex: 0, count: 300, seed: 11, overrides: o) { b, _ in
        out += b
        return true
      }
      return out
    }
    let byDefault = try rows(nil)
    XCTAssertEqual(byDefault, try rows(.readout))
    XCTAssertEqual(classifyWithEqualPriors(session, byDefault).filter { $0 != 0 }.count, 0)
    let balanced = try rows(.balanced)
    XCTAssertTrue(balanced != byDefault)
    XCTAssertEqual(inconsistent(energy, balanced, classIndex: 0), 0)
    XCTAssertTrue(try rows(.off) != byDefault)
  }

  // MARK: readout

  /// The answer of `classify` (the session's posteriors, as `ember classify`) with equal priors:
  /// the class of largest p(c|x)/π_c, for every row.
  func classifyWithEqualPriors(_ session: EmberSession, _ rows: [Float]) -> [Int] {
    let energy = session.energy
    let d = energy.width
    let c = energy.classCount
    let e = energy.energies(rows)
    var p = [Float](repeating: 0, count: c)
    return (0..<(rows.count / d)).map { i in
      let row = Array(rows[(i * d)..<(i * d + d)])
      let energies = Array(e[(i * c)..<(i * c + c)])
      _ = session.classify(energies, row: row, probabilities: &p)
      let ratios = (0..<c).map { Double(p[$0]) / session.model.classes[$0].prior }
      return ratios.indices.max { ratios[$0] < ratios[$1] }!
    }
  }

  /// Read-outs that disagree with the least energy: calibrated offsets and temperature, and a
  /// stacked read-out with weights on the encoded row.
  func readoutFiles() throws -> [EmberModel] {
    [
      try overlappingFile(offsets: [0.8, -0.5]),
      try overlappingFile(readout: StackedReadout(weights: [0.7, 0.2, -0.1, 1.3], bias: [0.4, -0.9], inputWeights: [0.3, 0.5, -0.2, 0.1])),
    ]
  }

  func testReadoutFilterRowsAreTheClassifyAnswerWithEqualPriors() throws {
    for (f, file) in try readoutFiles().enumerated() {
      let session = try EmberSession(file)
      for c in 0..<2 {
        let (kept, stats) = try draw(session.energy, classIndex: c, count: 2000, filter: .readout)
        let (balanced, _) = try draw(session.energy, classIndex: c, count: 2000, filter: .balanced)
        let (off, _) = try draw(session.energy, classIndex: c, count: 2000, filter: .off)
        XCTAssertEqual(kept.count, 2000 * 2)
        let answers = classifyWithEqualPriors(session, kept)
        XCTAssertEqual(answers.filter { $0 != c }.count, stats.filterFallbacks, "file \(f) class \(c)")
        XCTAssertEqual(stats.filterFallbacks, 0, "file \(f) class \(c)")
        // The read-out's answer is not the least energy here: the filters keep different rows.
        XCTAssertTrue(kept != balanced, "file \(f) class \(c)")
        XCTAssertGreaterThan(classifyWithEqualPriors(session, off).filter { $0 != c }.count, 20, "file \(f) class \(c)")
        XCTAssertGreaterThan(stats.filterRejected, 20)
      }
    }
  }

  func testReadoutFilteredRowsAreTheSameForAnyThreadCountAndBlockSize() throws {
    for file in try readoutFiles() {
      let energy = try EnergyModel(file)
      let (reference, _) = try draw(energy, classIndex: 1, count: 601, filter: .readout)
      XCTAssertEqual(try draw(energy, classIndex: 1, count: 601, filter: .readout, threads: 3).0, reference)
      XCTAssertEqual(try draw(energy, classIndex: 1, count: 601, filter: .readout, threads: 2, block: 7).0, reference)
    }
  }
}

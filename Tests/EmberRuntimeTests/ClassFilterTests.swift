import EmberFormat
import XCTest
@testable import EmberRuntime

/// The class filter of sampling (``ClassFilter``): rows of class c are kept only where c has
/// the least energy, the same rows for any thread count or block size.
final class ClassFilterTests: XCTestCase {
  /// Two overlapping base-only Gaussian classes in 2-d: "wide" N((0, 0), 2²·I) with prior 0.9,
  /// "narrow" N((1, 0), 0.5²·I) with prior 0.1. Rows of "wide" near (1, 0) are likelier under
  /// "narrow" (balanced posterior), so an unfiltered draw of "wide" lands there often.
  func overlappingModel() throws -> EnergyModel { try EnergyModel(try overlappingFile()) }

  func overlappingFile() throws -> EmberModel {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [
        ClassSpec(
          label: "wide", prior: 0.9,
          base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [0.25, 0, 0, 0.25], logDetCovariance: 2 * Double.log(4))),
        ClassSpec(
          label: "narrow", prior: 0.1,
          base: GaussianBaseSpec(means: [1, 0], logWeights: [0], precision: [4, 0, 0, 4], logDetCovariance: 2 * Double.log(0.25))),
      ])
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

  func testSessionFiltersByDefaultAndOffRestoresTheUnfilteredRows() throws {
    let session = try EmberSession(try overlappingFile())
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
    XCTAssertEqual(byDefault, try rows(.balanced))
    XCTAssertEqual(inconsistent(energy, byDefault, classIndex: 0), 0)
    XCTAssertNotEqual(try rows(.off), byDefault)
  }
}

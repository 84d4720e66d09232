import EmberFormat
import XCTest
@testable import EmberRuntime

final class SamplerTests: XCTestCase {
  /// A base-only 2-d Gaussian class with mean (1, −2) and standard deviations (0.5, 2), whose
  /// stored starting rows all sit far from the mean at (4, 4).
  func gaussianModel() throws -> EnergyModel {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [
        ClassSpec(
          label: "g", prior: 1,
          base: GaussianBaseSpec(means: [1, -2], logWeights: [0], precision: [4, 0, 0, 0.25], logDetCovariance: 0),
          startingRows: [4, 4, 4, 4])
      ])
    return try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(spec)))
  }

  func moments(_ energy: EnergyModel, _ settings: SamplerDefaults, count: Int = 4000, seed: UInt64 = 1) throws -> (mean: [Double], variance: [Double], stats: SamplingStats) {
    var rows: [Float] = []
    let stats = try Sampler(energy).run(classIndex: 0, count: count, seed: seed, settings: settings) { block, _ in rows += block; return true }
    XCTAssertEqual(rows.count, count * 2)
    var mean = [0.0, 0.0]
    var sq = [0.0, 0.0]
    for i in 0..<count {
      for j in 0..<2 {
        mean[j] += Double(rows[i * 2 + j]) / Double(count)
        sq[j] += Double(rows[i * 2 + j]) * Double(rows[i * 2 + j]) / Double(count)
      }
    }
    return (mean, [sq[0] - mean[0] * mean[0], sq[1] - mean[1] * mean[1]], stats)
  }

  func testNormalDrawsHaveUnitMomentsAndGaussianTails() {
    var rng = RandomSource(seed: 42)
    let n = 400_000
    var s1 = 0.0
    var s2 = 0.0
    var s4 = 0.0
    var beyond3 = 0
    for _ in 0..<n {
      let z = rng.nextNormal()
      s1 += z
      s2 += z * z
      s4 += z * z * z * z
      if abs(z) > 3 { beyond3 += 1 }
    }
    XCTAssertEqual(s1 / Double(n), 0, accuracy: 0.01)
    XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.01)
    XCTAssertEqual(s4 / Double(n), 3, accuracy: 0.06)
    // P(|Z| > 3) = 0.0027.
    XCTAssertEqual(Double(beyond3) / Double(n), 0.0027, accuracy: 0.0004)
  }

  func testLangevinFromFarStartsConvergesToTheGaussiansMeanAndVariance() throws {
    // Relaxation time of the wide coordinate is 1/(ε·0.25) = 200 steps: run 10 of them.
    var s = SamplerDefaults(kind: .langevin, steps: 2000, stepSize: 0.02, temperature: 1, initNoise: 0)
    s.initialization = .startingRows
    let (mean, variance, stats) = try moments(try gaussianModel(), s)
    XCTAssertEqual(stats.restarts, 0)
    XCTAssertEqual(mean[0], 1, accuracy: 0.05)
    XCTAssertEqual(mean[1], -2, accuracy: 0.2)
    XCTAssertEqual(variance[0], 0.25, accuracy: 0.25 * 0.12)
    XCTAssertEqual(variance[1], 4, accuracy: 4 * 0.12)
  }

  func testTemperatureScalesTheVariance() throws {
    var s = SamplerDefaults(kind: .langevin, steps: 400, stepSize: 0.02, temperature: 0.25, initNoise: 0)
    s.initialization = .base
    let (_, variance, _) = try moments(try gaussianModel(), s)
    XCTAssertEqual(variance[0], 0.25 * 0.25, accuracy: 0.25 * 0.25 * 0.12)
    XCTAssertEqual(variance[1], 4 * 0.25, accuracy: 4 * 0.25 * 0.12)
  }

  func testMALACorrectsTheBiasOfLargeSteps() throws {
    // ε = 0.2 on a precision-4 coordinate: unadjusted Langevin inflates that variance by
    // 1/(1 − 2ε·4/4)… enough to be visible; MALA's accept/reject removes it.
    var ula = SamplerDefaults(kind: .langevin, steps: 300, stepSize: 0.2, temperature: 1, initNoise: 0)
    ula.initialization = .base
    var mala = ula
    mala.kind = .mala
    let (_, vu, _) = try moments(try gaussianModel(), ula)
    let (mm, vm, stats) = try moments(try gaussianModel(), mala)
    XCTAssertGreaterThan(vu[0], 0.25 * 1.3, "unadjusted Langevin should be visibly biased at this step")
    XCTAssertEqual(vm[0], 0.25, accuracy: 0.25 * 0.12)
    XCTAssertEqual(vm[1], 4, accuracy: 4 * 0.12)
    XCTAssertEqual(mm[0], 1, accuracy: 0.05)
    XCTAssertGreaterThan(stats.acceptanceRate, 0.2)
    XCTAssertLessThan(stats.acceptanceRate, 1)
  }

  func testTabEBMUpdateIsNearlyGradientDescentFromTheStartingRows() throws {
    // α = 0.1, σ = 0.01, 200 steps: chains collapse near the mode (the known behaviour of the
    // published setting), far tighter than the Gaussian itself.
    var s = SamplerDefaults.tabebm
    s.initialization = .startingRows
    let (mean, variance, _) = try moments(try gaussianModel(), s, count: 500)
    XCTAssertEqual(mean[0], 1, accuracy: 0.05)
    XCTAssertLessThan(variance[0], 0.01)
  }

  func testInterpolatedStartsLieOnSegmentsBetweenStoredRows() throws {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [ClassSpec(label: "g", prior: 1, base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [1, 0, 0, 1], logDetCovariance: 0),
                          startingRows: [0, 0, 10, 0])])
    let energy = try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(spec)))
    var s = SamplerDefaults(steps: 0, initNoise: 0)
    s.initialization = .interpolate
    var rows: [Float] = []
    _ = try Sampler(energy).run(classIndex: 0, count: 200, seed: 3, settings: s) { b, _ in rows += b; return true }
    let xs = stride(from: 0, to: rows.count, by: 2).map { rows[$0] }
    XCTAssertTrue(stride(from: 1, to: rows.count, by: 2).allSatisfy { rows[$0] == 0 })
    XCTAssertTrue(xs.allSatisfy { (0...10).contains($0) })
    XCTAssertGreaterThan(Set(xs.map { Int($0) }).count, 8, "starts spread along the segment")
  }

  func testOutputIsIdenticalForAnyThreadCountAndBlockSize() throws {
    let energy = try EnergyModel(try TestModels.mixed())
    var s = SamplerDefaults(kind: .mala, steps: 20, stepSize: 0.05)
    s.initialization = .startingRows
    func draw(_ threads: Int, _ block: Int) throws -> [Float] {
      var rows: [Float] = []
      _ = try Sampler(energy, blockSize: block).run(classIndex: 6, count: 301, seed: 5, settings: s, threads: threads) { b, _ in rows += b; return true }
      return rows
    }
    let reference = try draw(1, 256)
    XCTAssertEqual(try draw(2, 256), reference)
    XCTAssertEqual(try draw(2, 7), reference)
  }

  /// Independence Metropolis–Hastings from the base targets the full energy: with a base
  /// N(0, I) and a linear network term r(x) = x₀ (E = −r + E_base), the target is N((1, 0), I).
  func testIndependenceProposalsFromTheBaseReachTheTilt() throws {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(2),
      classes: [
        ClassSpec(
          label: "t", prior: 1,
          layers: [DenseLayerSpec(inputs: 2, outputs: 1, activation: .identity, weights: [1, 0], bias: [0])],
          output: .logOdds,
          base: GaussianBaseSpec(means: [0, 0], logWeights: [0], precision: [1, 0, 0, 1], logDetCovariance: 0))
      ])
    let energy = try EnergyModel(try EmberModel(bytes: try ModelWriter.serialize(spec)))
    let plain = SamplerDefaults(kind: .langevin, steps: 0, stepSize: 0.01, initNoise: 0, initialization: .base)
    let (m0, _, s0) = try moments(energy, plain)
    XCTAssertEqual(m0[0], 0, accuracy: 0.06, "no proposals: plain base draws")
    XCTAssertEqual(s0.independenceProposals, 0)
    var tilted = plain
    tilted.proposals = 60
    let (m1, v1, s1) = try moments(energy, tilted)
    XCTAssertEqual(m1[0], 1, accuracy: 0.08)
    XCTAssertEqual(m1[1], 0, accuracy: 0.06)
    XCTAssertEqual(v1[0], 1, accuracy: 0.1)
    XCTAssertEqual(s1.independenceProposals, 4000 * 60)
    XCTAssertGreaterThan(s1.independenceAccepted, 0)
    // Same seed, same rows whatever the thread count.
    var a: [Float] = []
    var b: [Float] = []
    _ = try Sampler(energy).run(classIndex: 0, count: 600, seed: 3, settings: tilted, threads: 1) { blk, _ in a += blk; return true }
    _ = try Sampler(energy).run(classIndex: 0, count: 600, seed: 3, settings: tilted, threads: 3) { blk, _ in b += blk; return true }
    XCTAssertEqual(a, b)
  }
}

extension SamplerTests {
  /// Chain ranges reassemble a run: chains a..<b of a run started at `firstChain: a` are rows
  /// a..<b of the run from chain 0 (what lets Spark partitions take chain ranges).
  func testChainRangesReassembleARun() throws {
    let energy = try EnergyModel(try TestModels.mixed())
    let settings = SamplerDefaults(kind: .mala, steps: 7, stepSize: 0.05, noiseScale: -1, temperature: 1, initNoise: 0.1)
    var whole: [Float] = []
    _ = try Sampler(energy, blockSize: 16).run(classIndex: 0, count: 70, seed: 3, settings: settings) { b, _ in
      whole += b
      return true
    }
    var parts: [Float] = []
    for (first, count) in [(0, 5), (5, 40), (45, 25)] {
      _ = try Sampler(energy, blockSize: 16).run(
        classIndex: 0, count: count, seed: 3, settings: settings, threads: 2, firstChain: first
      ) { b, _ in
        parts += b
        return true
      }
    }
    XCTAssertEqual(parts, whole)
  }
}

import EmberFormat
import XCTest

@testable import EmberTrainer

final class BackpropTests: XCTestCase {
  /// L = Σ_i g_i r(x_i) in double precision.
  func loss(_ net: MLP, _ x: [Float], _ n: Int, _ g: [Float]) -> Double {
    let r = net.outputs(x, count: n)
    var s = 0.0
    for i in 0..<n { s += Double(g[i]) * Double(r[i]) }
    return s
  }

  func testWeightGradientsMatchFiniteDifferences() {
    for act in [Activation.silu, .tanh, .softplus, .gelu, .relu] {
      var rng = TrainerRandom(seed: 7, stream: UInt64(act.rawValue))
      // Odd sizes exercise the kernels' remainder paths (4-row / 8-column tiles).
      let sizes = [5, 11, 9, 1]
      var net = MLP(sizes: sizes, activation: act, rng: &rng)
      // Larger last layer so the output is not tiny.
      for i in net.weightOffsets[2]..<net.params.count { net.params[i] *= 10 }
      let n = 7
      let x = (0..<(n * sizes[0])).map { _ in Float(rng.gaussian()) }
      let g = (0..<n).map { _ in Float(rng.gaussian()) }
      var grad = [Float](repeating: 0, count: net.params.count)
      let ws = MLPWorkspace(sizes: sizes, capacity: n)
      x.withUnsafeBufferPointer { xp in
        net.params.withUnsafeBufferPointer { pp in
          g.withUnsafeBufferPointer { gp in
            grad.withUnsafeMutableBufferPointer { dp in
              net.forward(xp.baseAddress!, count: n, params: pp.baseAddress!, workspace: ws)
              net.backward(
                xp.baseAddress!, count: n, upstream: gp.baseAddress!, params: pp.baseAddress!, workspace: ws,
                grad: dp.baseAddress!)
            }
          }
        }
      }
      let h: Float = 1e-2
      var worst = 0.0
      var errors: [Double] = []
      for i in stride(from: 0, to: net.params.count, by: 3) {
        var plus = net, minus = net
        plus.params[i] += h
        minus.params[i] -= h
        let fd = (loss(plus, x, n, g) - loss(minus, x, n, g)) / Double(2 * h)
        let err = abs(fd - Double(grad[i])) / max(1, abs(fd))
        worst = max(worst, err)
        errors.append(err)
      }
      if act == .relu {
        // Kinks make a few central differences straddle a switch; the rest must agree.
        let good = errors.filter { $0 < 5e-3 }.count
        XCTAssertGreaterThan(Double(good) / Double(errors.count), 0.9, "activation relu")
      } else {
        XCTAssertLessThan(worst, 5e-3, "activation \(act)")
      }
    }
  }

  func testGemmMatchesNaiveProduct() {
    var rng = TrainerRandom(seed: 3)
    for (m, p, q) in [(1, 1, 1), (4, 8, 3), (9, 17, 13), (6, 3, 33), (5, 12, 7), (8, 30, 5), (7, 16, 5), (13, 8, 9), (12, 24, 3)] {
      let a = (0..<(m * q)).map { _ in Float(rng.gaussian()) }
      let b = (0..<(q * p)).map { _ in Float(rng.gaussian()) }
      var c = [Float](repeating: 1, count: m * p)
      // A transposed view: A(r, t) = a[t·m + r].
      a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
          c.withUnsafeMutableBufferPointer { cp in
            DenseKernels.gemm(
              m: m, p: p, q: q, a: ap.baseAddress!, ars: 1, ats: m, b: bp.baseAddress!, c: cp.baseAddress!,
              accumulate: true)
          }
        }
      }
      for r in 0..<m {
        for j in 0..<p {
          var s = 1.0
          for t in 0..<q { s += Double(a[t * m + r]) * Double(b[t * p + j]) }
          XCTAssertEqual(Double(c[r * p + j]), s, accuracy: 1e-4, "\(m)×\(p)×\(q) at \(r),\(j)")
        }
      }
    }
  }

  func testGaussianFitInverseAndLogDet() {
    var rng = TrainerRandom(seed: 5)
    let d = 3, n = 50
    let x = (0..<(n * d)).map { i in Float(rng.gaussian() * Double(1 + i % d)) }
    let g = GaussianFit.nceNoise(x, count: n, width: d)
    // P·S = I.
    for i in 0..<d {
      for j in 0..<d {
        var s = 0.0
        for k in 0..<d { s += g.precision[i * d + k] * g.covariance[k * d + j] }
        XCTAssertEqual(s, i == j ? 1 : 0, accuracy: 1e-9)
      }
    }
    // log det by cofactor expansion.
    let c = g.covariance
    let det =
      c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6])
    XCTAssertEqual(g.logDet, log(det), accuracy: 1e-9)
    // Draws have the fit's mean and covariance (20,000 rows: sampling error ≈ 1–2%).
    let m = 20_000
    var draws = [Float](repeating: 0, count: m * d)
    draws.withUnsafeMutableBufferPointer { g.sample(m, into: $0.baseAddress!, rng: &rng) }
    for i in 0..<d {
      var mu = 0.0
      for r in 0..<m { mu += Double(draws[r * d + i]) }
      mu /= Double(m)
      XCTAssertEqual(mu, g.mean[i], accuracy: 0.05 * g.covariance[i * d + i].squareRoot())
      for j in 0..<d {
        var c = 0.0
        for r in 0..<m { c += (Double(draws[r * d + i]) - g.mean[i]) * (Double(draws[r * d + j]) - g.mean[j]) }
        c /= Double(m)
        let scale = (g.covariance[i * d + i] * g.covariance[j * d + j]).squareRoot()
        XCTAssertEqual(c, g.covariance[i * d + j], accuracy: 0.05 * scale, "cov[\(i)][\(j)]")
      }
    }
  }

  func testCalibratorStatistics() {
    XCTAssertEqual(Calibrator.auroc(positive: [3, 4], negative: [1, 2]), 1)
    XCTAssertEqual(Calibrator.auroc(positive: [1], negative: [1]), 0.5)
    XCTAssertEqual(Calibrator.auroc(positive: [1, 3], negative: [2]), 0.5)
    XCTAssertEqual(Calibrator.quantile([0, 10], 0.25), 2.5)
    XCTAssertEqual(Calibrator.balancedAccuracy(predicted: [0, 0, 1, 0], truth: [0, 0, 1, 1], classes: 2), 0.75)
    let t = Calibrator.table((0...100).map(Double.init))!
    XCTAssertEqual(t.threshold, 99, accuracy: 1e-5)
    XCTAssertEqual(t.quantiles[50], 50, accuracy: 1e-5)
    XCTAssertEqual(t.rows, 101)
  }

  func testReadoutFitRecoversShiftedEnergies() {
    // Class 1's energies carry a +3 bias: raw argmin picks class 0 for most rows of class 1.
    var rng = TrainerRandom(seed: 8)
    var e: [[Double]] = [[], []]
    var truth: [Int] = []
    for i in 0..<200 {
      let y = i % 2
      let own = rng.gaussian() * 0.5, other = 2 + rng.gaussian() * 0.5
      e[0].append(y == 0 ? own : other)
      e[1].append((y == 1 ? own : other) + 3)
      truth.append(y)
    }
    let rows = Array(0..<200)
    let lp = [log(0.5), log(0.5)]
    let start = Calibrator.Readout(temperature: 1, offsets: [0, 0])
    let raw = Calibrator.balancedAccuracy(
      predicted: Calibrator.predict(energies: e, rows: rows, logPriors: lp, readout: start), truth: truth, classes: 2)
    XCTAssertLessThan(raw, 0.7)
    let fit = Calibrator.fitReadout(
      energies: e, truth: truth, rows: rows, logPriors: lp, start: start, free: [true, true], fitTemperature: true)
    let fitted = Calibrator.balancedAccuracy(
      predicted: Calibrator.predict(energies: e, rows: rows, logPriors: lp, readout: fit), truth: truth, classes: 2)
    XCTAssertGreaterThan(fitted, 0.95)
    XCTAssertGreaterThan((fit.offsets[1] - fit.offsets[0]) * fit.temperature, 2, "offset difference undoes the bias")
    // Fixed parameters stay put.
    let partial = Calibrator.fitReadout(
      energies: e, truth: truth, rows: rows, logPriors: lp, start: start, free: [false, true], fitTemperature: false)
    XCTAssertEqual(partial.offsets[0], 0)
    XCTAssertEqual(partial.temperature, 1)
  }
}

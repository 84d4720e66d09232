import EmberFormat
import XCTest

@testable import EmberRuntime

final class ExplainerTests: XCTestCase {
  func testGaussLegendreRuleIsExactForHighDegreePolynomials() {
    let (t, w) = Explainer.gaussLegendre(Explainer.nodes)
    XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
    for degree in [1, 5, 20, 63] {
      let integral = zip(t, w).reduce(0.0) { sum, node in
        var power = 1.0
        for _ in 0..<degree { power *= node.0 }
        return sum + node.1 * power
      }
      XCTAssertEqual(integral, 1 / Double(degree + 1), accuracy: 1e-12, "t^\(degree)")
    }
    XCTAssertTrue(t.allSatisfy { $0 > 0 && $0 < 1 })
  }

  /// Σ attributions = s(x) − s(reference) on models with networks, mixtures, every output form.
  /// A ReLU class makes the path integrand piecewise smooth, so the quadrature is close but not
  /// exact there; the smooth model below is held to a tighter bound.
  func testAttributionsAreComplete() throws {
    XCTAssertLessThan(try completenessGap(try TestModels.mixed(d: 7, hidden: 16, seed: 3)), 1e-2)
  }

  func testAttributionsAreCompleteOnASmoothModel() throws {
    var rng = RandomSource(seed: 11)
    let d = 5
    let spec = ModelSpec(
      target: "y", features: TestModels.features(d),
      classes: [
        ClassSpec(
          label: "silu", prior: 0.5,
          layers: [TestModels.layer(d, 12, .silu, &rng), TestModels.layer(12, 1, .identity, &rng)], output: .scalar,
          base: TestModels.base(d, components: 2, &rng)),
        ClassSpec(
          label: "tanh", prior: 0.5,
          layers: [TestModels.layer(d, 12, .tanh, &rng), TestModels.layer(12, 1, .identity, &rng)], output: .logOdds,
          base: TestModels.base(d, components: 1, &rng)),
      ])
    XCTAssertLessThan(try completenessGap(try EmberModel(bytes: try ModelWriter.serialize(spec))), 1e-3)
  }

  /// The worst relative gap |Σ a_i − (s(x) − s(r))| / (1 + |s(x) − s(r)|) over 20 random rows.
  private func completenessGap(_ model: EmberModel) throws -> Double {
    let session = try EmberSession(model)
    let explainer = Explainer(session)
    let evaluator = Evaluator(session)
    let d = session.width
    var rng = RandomSource(seed: 9)
    var worst = 0.0
    for _ in 0..<20 {
      let x = (0..<d).map { _ in rng.nextNormalFloat() * 1.5 }
      var a = [Float](repeating: 0, count: d)
      let reference = x.withUnsafeBufferPointer { xp in a.withUnsafeMutableBufferPointer { explainer.attributions(xp.baseAddress!, into: $0.baseAddress!) } }
      var e = [Float](repeating: 0, count: session.classCount)
      x.withUnsafeBufferPointer { xp in e.withUnsafeMutableBufferPointer { evaluator.energies(rows: xp.baseAddress!, count: 1, into: $0.baseAddress!) } }
      let s = e.withUnsafeBufferPointer { session.score($0.baseAddress!) }
      let total = a.reduce(0, +)
      let gap = Double(abs(total - (s - reference))) / (1 + Double(abs(s - reference)))
      worst = max(worst, gap)
    }
    return worst
  }

  /// A Gaussian class: a_i = ½ (x − m)_i (P(x − m))_i exactly.
  func testGaussianAttributionsAreTheMahalanobisShares() throws {
    let spec = ModelSpec(
      target: "y", features: TestModels.features(3),
      classes: [
        ClassSpec(
          label: "g", prior: 1,
          base: GaussianBaseSpec(
            means: [1, -1, 0.5], logWeights: [0], precision: [2, 0.5, 0, 0.5, 1, 0.3, 0, 0.3, 0.5], logDetCovariance: 0))
      ])
    let session = try EmberSession(try EmberModel(bytes: try ModelWriter.serialize(spec)))
    let x: [Float] = [2.5, 0.2, -1]
    let r: [Double] = [1.5, 1.2, -1.5]
    let p: [Double] = [2, 0.5, 0, 0.5, 1, 0.3, 0, 0.3, 0.5]
    var a = [Float](repeating: 0, count: 3)
    x.withUnsafeBufferPointer { xp in a.withUnsafeMutableBufferPointer { _ = Explainer(session).attributions(xp.baseAddress!, into: $0.baseAddress!) } }
    for i in 0..<3 {
      let pr = (0..<3).reduce(0.0) { $0 + p[i * 3 + $1] * r[$1] }
      XCTAssertEqual(Double(a[i]), 0.5 * r[i] * pr, accuracy: 1e-4, "feature \(i)")
    }
  }

  /// Two well-separated classes; a row of class a with one column moved onto class b's value:
  /// that column comes first, although the moved value sits at class b's typical point. (The
  /// classes differ in three columns, so "class a with one column moved" is the only one-column
  /// story for the row; with one or two differing columns it would be ambiguous.)
  func testTheCorruptedColumnRanksFirst() throws {
    let d = 4
    func cls(_ label: String, _ m: [Float]) -> ClassSpec {
      ClassSpec(
        label: label, prior: 0.5,
        base: GaussianBaseSpec(
          means: m, logWeights: [0],
          precision: [4, -1.6, 0, 0, -1.6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], logDetCovariance: 0))
    }
    let spec = ModelSpec(target: "y", features: TestModels.features(d), classes: [cls("a", [-2, -2, -2, 0]), cls("b", [2, 2, 2, 0])])
    let session = try EmberSession(try EmberModel(bytes: try ModelWriter.serialize(spec)))
    var rng = RandomSource(seed: 4)
    var hits = 0
    let rows = 200
    var x = [Float](repeating: 0, count: rows * d)
    var truth = [Int](repeating: 0, count: rows)
    for r in 0..<rows {
      for i in 0..<d { x[r * d + i] = (i < 3 ? -2 : 0) + 0.5 * rng.nextNormalFloat() }
      truth[r] = rng.nextInt(below: d)
      x[r * d + truth[r]] += 4
    }
    var a = [Float](repeating: 0, count: rows * d)
    x.withUnsafeBufferPointer { xp in a.withUnsafeMutableBufferPointer { session.attributions(rows: xp.baseAddress!, count: rows, into: $0.baseAddress!, threads: 2) } }
    var index = [Int32](repeating: 0, count: 2)
    var share = [Float](repeating: 0, count: 2)
    for r in 0..<rows {
      a.withUnsafeBufferPointer { ap in
        Explainer.top(ap.baseAddress! + r * d, features: d, k: 2, indices: &index, shares: &share)
      }
      if Int(index[0]) == truth[r] { hits += 1 }
      XCTAssertTrue(share.allSatisfy { $0 >= 0 && $0 <= 1 })
      XCTAssertGreaterThanOrEqual(share[0], share[1])
    }
    XCTAssertGreaterThanOrEqual(hits, 190, "top-1 hits out of \(rows)")
  }

  func testAttributionsDoNotDependOnThreads() throws {
    let session = try EmberSession(try TestModels.mixed(d: 7, hidden: 16, seed: 5))
    var rng = RandomSource(seed: 1)
    let n = 37
    let x = (0..<(n * 7)).map { _ in rng.nextNormalFloat() }
    func run(_ threads: Int) -> [Float] {
      var out = [Float](repeating: 0, count: n * 7)
      x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { session.attributions(rows: xp.baseAddress!, count: n, into: $0.baseAddress!, threads: threads) } }
      return out
    }
    let one = run(1)
    XCTAssertEqual(one, run(3))
    XCTAssertTrue(one.allSatisfy(\.isFinite))
  }

  func testSharesOfATypicalRowAreZeroWhenNothingIsPositive() {
    let a: [Float] = [-1, -0.5, 0]
    var index = [Int32](repeating: 0, count: 3)
    var share = [Float](repeating: 1, count: 3)
    Explainer.top(a, features: 3, k: 3, indices: &index, shares: &share)
    XCTAssertEqual(index, [2, 1, 0])
    XCTAssertEqual(share, [0, 0, 0])
  }
}

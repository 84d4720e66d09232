import EmberFormat
@testable import EmberRuntime

/// Random models built through the writer, for runtime tests.
enum TestModels {
  static func layer(_ i: Int, _ o: Int, _ act: Activation, _ rng: inout RandomSource, type: WeightType = .float32) -> DenseLayerSpec {
    let scale = Float(1.0 / Double(i).squareRoot())
    return DenseLayerSpec(
      inputs: i, outputs: o, activation: act, weightType: type,
      weights: (0..<(i * o)).map { _ in rng.nextNormalFloat() * scale },
      bias: (0..<o).map { _ in rng.nextNormalFloat() * 0.1 })
  }

  static func features(_ d: Int) -> [FeatureSpec] {
    (0..<d).map { FeatureSpec(name: "f\($0)", kind: .numeric, mean: 0, std: 1, min: -10, max: 10, slotOffset: $0) }
  }

  /// A positive-definite precision: A·Aᵀ + I.
  static func precision(_ d: Int, _ rng: inout RandomSource) -> [Float] {
    let a = (0..<(d * d)).map { _ in rng.nextNormalFloat() * 0.3 }
    var p = [Float](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0..<d {
        var s: Float = i == j ? 1 : 0
        for k in 0..<d { s += a[i * d + k] * a[j * d + k] }
        p[i * d + j] = s
      }
    }
    return p
  }

  static func base(_ d: Int, components k: Int, _ rng: inout RandomSource) -> GaussianBaseSpec {
    let lw = Float(-Double.log(Double(k)))
    return GaussianBaseSpec(
      means: (0..<(k * d)).map { _ in rng.nextNormalFloat() },
      logWeights: [Float](repeating: lw, count: k), precision: precision(d, &rng), logDetCovariance: 0.3)
  }

  /// A model with one class per configuration: varied activations, outputs, bases, fp16.
  static func mixed(d: Int = 7, hidden: Int = 20, seed: UInt64 = 1) throws -> EmberModel {
    var rng = RandomSource(seed: seed)
    var classes: [ClassSpec] = []
    for (i, act) in Activation.allCases.enumerated() {
      classes.append(
        ClassSpec(
          label: "act-\(act)", prior: 0, layers: [layer(d, hidden, act, &rng), layer(hidden, hidden, act, &rng), layer(hidden, 1, .identity, &rng)],
          output: i % 2 == 0 ? .logOdds : .scalar, base: i == 0 ? base(d, components: 1, &rng) : nil))
    }
    classes.append(
      ClassSpec(label: "lse", prior: 0, layers: [layer(d, hidden, .silu, &rng), layer(hidden, 3, .identity, &rng)], output: .logSumExp,
                base: base(d, components: 5, &rng), networkScale: 0.7))
    classes.append(
      ClassSpec(label: "fp16", prior: 0, layers: [layer(d, hidden, .tanh, &rng, type: .float16), layer(hidden, 1, .softplus, &rng, type: .float16)],
                output: .logOdds))
    classes.append(ClassSpec(label: "base-only", prior: 0, base: base(d, components: 3, &rng)))
    for i in classes.indices { classes[i].prior = 1 / Double(classes.count) }
    let spec = ModelSpec(target: "y", features: features(d), classes: classes)
    return try EmberModel(bytes: try ModelWriter.serialize(spec))
  }
}

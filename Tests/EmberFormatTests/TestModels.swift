import EmberFormat

/// Deterministic model descriptions shared by the format tests and the golden fixtures.
///
/// Every value is built from integer arithmetic and literals only (no libm calls), so the same
/// spec — and therefore the same bytes — comes out on every machine.
enum TestModels {
  /// A small integer LCG (Numerical Recipes constants) for reproducible weights.
  struct LCG {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    /// A value in [-scale, scale) on a grid of 1/1024 (exact in binary16 for |x| < 2).
    mutating func float(_ scale: Float = 1) -> Float {
      let k = Int64(next() % 2048) - 1024
      return Float(k) / 1024 * scale
    }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float(scale) } }
  }

  /// A dense layer with reproducible weights.
  static func layer(
    _ rng: inout LCG, _ inputs: Int, _ outputs: Int, _ activation: Activation, _ type: WeightType = .float32
  ) -> DenseLayerSpec {
    DenseLayerSpec(
      inputs: inputs, outputs: outputs, activation: activation, weightType: type,
      weights: rng.floats(inputs * outputs, scale: 0.5), bias: rng.floats(outputs, scale: 0.25))
  }

  /// Identity-scaled precision for width `d`.
  static func precision(_ d: Int, _ scale: Float = 1) -> [Float] {
    (0..<(d * d)).map { $0 / d == $0 % d ? scale : 0 }
  }

  static let levels: [Float] = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1]

  static func calibration(_ rng: inout LCG, rows: Int) -> Calibration {
    var q = rng.floats(levels.count, scale: 4).sorted()
    q[0] -= 1
    return Calibration(levels: levels, quantiles: q, threshold: q[6], rows: rows)
  }

  /// Two numeric features, one class, a 2→8→1 SiLU f32 network on a Gaussian base.
  static func tiny() -> ModelSpec {
    var r = LCG(seed: 1)
    let d = 2
    return ModelSpec(
      provenance: Provenance(producer: "ember-tests", producerVersion: "0.1.0", source: "tiny.csv", sourceRows: 20, seed: 1, objective: "nce"),
      target: "y",
      features: [
        FeatureSpec(name: "x1", kind: .numeric, imputeValue: 0.5, mean: 0.5, std: 2, min: -3, max: 4, slotOffset: 0),
        FeatureSpec(name: "x2", kind: .numeric, imputeValue: 1, mean: 1, std: 0.25, min: 0, max: 2, slotOffset: 1, missingCount: 3),
      ],
      classes: [
        ClassSpec(
          label: "a", prior: 1, trainRows: 20,
          layers: [layer(&r, d, 8, .silu), layer(&r, 8, 1, .identity)],
          base: GaussianBaseSpec(means: [0.5, -0.5], logWeights: [0], precision: precision(d, 0.25), logDetCovariance: 2.772588722239781),
          calibration: calibration(&r, rows: 5), sampler: SamplerDefaults(), startingRows: r.floats(4 * d, scale: 2)),
      ])
  }

  /// fp16 hidden layers, an integer feature, two classes, logSumExp output over 2 logits.
  static func fp16() -> ModelSpec {
    var r = LCG(seed: 2)
    let d = 3
    func cls(_ label: String, _ prior: Double) -> ClassSpec {
      ClassSpec(
        label: label, prior: prior, trainRows: Int(prior * 40),
        layers: [layer(&r, d, 16, .relu, .float16), layer(&r, 16, 16, .tanh, .float16), layer(&r, 16, 2, .identity, .float16)],
        output: .logSumExp, networkScale: 0.5, calibration: calibration(&r, rows: 8),
        sampler: .tabebm, startingRows: nil, offset: -0.125)
    }
    return ModelSpec(
      provenance: Provenance(producer: "ember-tests", seed: 2, objective: "tabebm", heldoutBalancedAccuracy: 0.75),
      target: "label",
      features: [
        FeatureSpec(name: "count", kind: .integer, imputeValue: 3, mean: 3.5, std: 1.5, min: 0, max: 9, slotOffset: 0),
        FeatureSpec(name: "v", kind: .numeric, mean: -2, std: 4, min: -10, max: 7.5, slotOffset: 1),
        FeatureSpec(name: "w", kind: .numeric, mean: 0, std: 1, min: -1, max: 1, slotOffset: 2),
      ],
      classes: [cls("yes", 0.625), cls("no", 0.375)],
      temperature: 0.75)
  }

  /// Base-only classes with a 3-component mixture, categorical features, no network.
  static func mixture() -> ModelSpec {
    var r = LCG(seed: 3)
    let d = 1 + 3 + 2
    func cls(_ label: String) -> ClassSpec {
      ClassSpec(
        label: label, prior: 0.5, trainRows: 12,
        base: GaussianBaseSpec(
          means: r.floats(3 * d, scale: 2), logWeights: [-1.0986123, -1.0986123, -1.0986123],
          precision: precision(d, 4), logDetCovariance: -8.317766166719343,
          latticeVariance: [0] + [Float](repeating: Float(1) / 12, count: 5)),
        calibration: calibration(&r, rows: 6),
        sampler: SamplerDefaults(kind: .mala, steps: 30, stepSize: 0.003, noiseScale: -1, temperature: 0.1, initNoise: 0, gradClip: 0.5, initialization: .base, proposals: 16),
        startingRows: nil)
    }
    return ModelSpec(
      provenance: Provenance(producer: "ember-tests", source: "penguins.csv", sourceRows: 24, seed: 3, objective: "kde"),
      target: "species",
      features: [
        FeatureSpec(name: "bill", kind: .numeric, imputeValue: 44, mean: 44, std: 5, min: 32, max: 60, slotOffset: 0, missingCount: 2),
        FeatureSpec(name: "island", kind: .categorical, imputeValue: 1, categories: ["Biscoe", "Dream", "Torgersen"], slotOffset: 1, slotCount: 3, missingCount: 1),
        FeatureSpec(name: "sex", kind: .categorical, imputeValue: 0, categories: ["female", "male"], slotOffset: 4, slotCount: 2),
      ],
      classes: [cls("Adelie"), cls("Gentoo")],
      scoreCalibration: Calibration(levels: [0, 0.5, 1], quantiles: [-3, 0.25, 6], threshold: 5, rows: 12))
  }

  /// The least a valid model holds: one numeric feature, one base-only class, nothing optional.
  static func minimal() -> ModelSpec {
    ModelSpec(
      target: "t",
      features: [FeatureSpec(name: "x", kind: .numeric)],
      classes: [ClassSpec(label: "only", prior: 1, base: GaussianBaseSpec(means: [0], logWeights: [0], precision: [1], logDetCovariance: 0))])
  }

  /// Everything at once: mixed features, network + mixture base, score calibration, metadata.
  static func full() -> ModelSpec {
    var r = LCG(seed: 5)
    let d = 2 + 4
    func cls(_ label: String, _ prior: Double, starts: Int) -> ClassSpec {
      ClassSpec(
        label: label, prior: prior, trainRows: Int(prior * 64),
        layers: [layer(&r, d, 12, .gelu), layer(&r, 12, 12, .softplus, .float16), layer(&r, 12, 1, .identity)],
        output: .logOdds,
        base: GaussianBaseSpec(means: r.floats(2 * d), logWeights: [-0.6931472, -0.6931472], precision: precision(d, 0.25), logDetCovariance: 8.317766166719343),
        networkScale: 1, calibration: calibration(&r, rows: 16),
        sampler: SamplerDefaults(kind: .langevin, steps: 200, stepSize: 0.01, noiseScale: -1, temperature: 1, initNoise: 0.05, gradClip: 10),
        startingRows: starts > 0 ? r.floats(starts * d, scale: 3) : nil, offset: 0.25)
    }
    return ModelSpec(
      provenance: Provenance(
        producer: "ember train", producerVersion: "0.1.0", source: "data/full.csv", sourceRows: 64,
        seed: 0xDEAD_BEEF_CAFE, objective: "nce", command: "ember train data/full.csv --target kind --seed 42",
        created: 1_790_000_000, trainSeconds: 1.5, heldoutBalancedAccuracy: 0.875, heldoutOODAUROC: 0.9375),
      target: "kind",
      features: [
        FeatureSpec(name: "size", kind: .numeric, imputeValue: 10, mean: 10, std: 3, min: 1, max: 20, slotOffset: 0, missingCount: 4),
        FeatureSpec(name: "legs", kind: .integer, imputeValue: 4, mean: 3.25, std: 1.25, min: 0, max: 8, slotOffset: 1),
        FeatureSpec(name: "colour", kind: .categorical, imputeValue: 2, categories: ["red", "green", "blue", "grün, \"dunkel\""], slotOffset: 2, slotCount: 4, missingCount: 1),
      ],
      classes: [cls("cat", 0.5, starts: 3), cls("dog", 0.375, starts: 0), cls("bird 🐦", 0.125, starts: 2)],
      temperature: 1.25,
      scoreCalibration: Calibration(levels: [0, 0.5, 0.95, 1], quantiles: [-1, 2, 7.5, 9], threshold: 7.5, rows: 20),
      metadata: ["license": "CC0", "dataset": "synthetic", "ünïcode": "✓", "empty": ""],
      readout: StackedReadout(
        weights: [1.5, -0.25, 0, 0.125, 2, -1, 0, 0.5, 0.75], bias: [0.1, -0.2, 0.3],
        inputWeights: (0..<(3 * d)).map { Float($0 % 5) * 0.125 - 0.25 }))
  }

  /// All fixture models by file stem.
  static let fixtures: [(name: String, spec: ModelSpec)] = [
    ("tiny", tiny()), ("fp16", fp16()), ("mixture", mixture()), ("minimal", minimal()), ("full", full()),
  ]
}

/// Version of the `.ember` format: a reader accepts files of its own major version.
public struct FormatVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
  /// Incompatible changes bump this.
  public var major: UInt16
  /// Backward-compatible additions bump this.
  public var minor: UInt16

  /// Creates a version.
  public init(major: UInt16, minor: UInt16) {
    self.major = major
    self.minor = minor
  }

  /// The version this library writes and reads (1.1 added the optional stacked read-out, 1.2
  /// the read-out's input weights and sampler proposals, 1.3 a base's lattice variance).
  public static let current = FormatVersion(major: 1, minor: 3)

  /// `major.minor`.
  public var description: String { "\(major).\(minor)" }

  public static func < (a: FormatVersion, b: FormatVersion) -> Bool {
    (a.major, a.minor) < (b.major, b.minor)
  }
}

/// How a raw column is encoded.
public enum FeatureKind: Int8, Sendable, CaseIterable, CustomStringConvertible {
  /// A real number, z-scored.
  case numeric = 0
  /// An integer, z-scored; decoded values are rounded.
  case integer = 1
  /// A string category, one-hot encoded over its known categories.
  case categorical = 2

  /// Lower-case name.
  public var description: String {
    switch self {
    case .numeric: "numeric"
    case .integer: "integer"
    case .categorical: "categorical"
    }
  }
}

/// A hidden-layer nonlinearity.
public enum Activation: Int8, Sendable, CaseIterable, CustomStringConvertible {
  case identity = 0, silu = 1, relu = 2, tanh = 3, softplus = 4, gelu = 5

  /// Lower-case name as accepted on the command line.
  public var description: String {
    switch self {
    case .identity: "identity"
    case .silu: "silu"
    case .relu: "relu"
    case .tanh: "tanh"
    case .softplus: "softplus"
    case .gelu: "gelu"
    }
  }

  /// Parses a lower-case name.
  public init?(name: String) {
    guard let a = Activation.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
    self = a
  }
}

/// How the last layer's outputs become the network's energy term.
public enum OutputMode: Int8, Sendable, CaseIterable, CustomStringConvertible {
  /// One output r; term = −r.
  case logOdds = 0
  /// K outputs; term = −logsumexp(outputs) (TabEBM).
  case logSumExp = 1
  /// One output; term = output.
  case scalar = 2

  /// Name as used in `inspect`.
  public var description: String {
    switch self {
    case .logOdds: "logOdds"
    case .logSumExp: "logSumExp"
    case .scalar: "scalar"
    }
  }
}

/// Storage type of a weight matrix.
public enum WeightType: Int8, Sendable, CaseIterable, CustomStringConvertible {
  case float32 = 0, float16 = 1

  /// `f32` or `f16`.
  public var description: String { self == .float32 ? "f32" : "f16" }
}

/// Sampler algorithm.
public enum SamplerKind: Int8, Sendable, CaseIterable, CustomStringConvertible {
  /// TabEBM's Algorithm 1: x ← x − α∇E + σε with fixed α, σ.
  case tabebm = 0
  /// Unadjusted Langevin at temperature T: step ε, noise √(2εT).
  case langevin = 1
  /// Metropolis-adjusted Langevin.
  case mala = 2

  /// Lower-case name as accepted on the command line.
  public var description: String {
    switch self {
    case .tabebm: "tabebm"
    case .langevin: "langevin"
    case .mala: "mala"
    }
  }

  /// Parses a lower-case name.
  public init?(name: String) {
    guard let k = SamplerKind.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
    self = k
  }
}

/// Where chains start by default.
public enum ChainInit: Int8, Sendable, CaseIterable, CustomStringConvertible {
  /// At stored encoded starting rows (plus init noise).
  case startingRows = 0
  /// At draws from the class's Gaussian base.
  case base = 1
  /// SMOTE-style: on the segment between a stored row and one of its 5 nearest stored rows.
  case interpolate = 2

  /// Lower-case name.
  public var description: String {
    switch self {
    case .startingRows: "starting-rows"
    case .base: "base"
    case .interpolate: "interpolate"
    }
  }
}

/// One raw input column and how it is encoded.
public struct FeatureSpec: Equatable, Sendable {
  /// Column name in CSV headers.
  public var name: String
  /// Encoding kind.
  public var kind: FeatureKind
  /// Raw value for missing numeric/integer cells; category index for categoricals.
  public var imputeValue: Double
  /// Standardisation mean (raw units).
  public var mean: Double
  /// Standardisation scale (raw units, > 0).
  public var std: Double
  /// Smallest raw value seen in training.
  public var min: Double
  /// Largest raw value seen in training.
  public var max: Double
  /// Category strings in slot order (categoricals only).
  public var categories: [String]
  /// First encoded column.
  public var slotOffset: Int
  /// Number of encoded columns (1, or the category count).
  public var slotCount: Int
  /// Missing cells seen in training.
  public var missingCount: Int

  /// Creates a feature spec.
  public init(
    name: String, kind: FeatureKind, imputeValue: Double = 0, mean: Double = 0, std: Double = 1,
    min: Double = 0, max: Double = 0, categories: [String] = [], slotOffset: Int = 0,
    slotCount: Int = 1, missingCount: Int = 0
  ) {
    self.name = name
    self.kind = kind
    self.imputeValue = imputeValue
    self.mean = mean
    self.std = std
    self.min = min
    self.max = max
    self.categories = categories
    self.slotOffset = slotOffset
    self.slotCount = slotCount
    self.missingCount = missingCount
  }
}

/// A table of held-out quantiles and the threshold derived from it.
public struct Calibration: Equatable, Sendable {
  /// Increasing probability levels in [0, 1].
  public var levels: [Float]
  /// Values at those levels (non-decreasing).
  public var quantiles: [Float]
  /// Anomaly threshold on the same scale.
  public var threshold: Float
  /// Held-out rows behind the table.
  public var rows: Int

  /// Creates a calibration table.
  public init(levels: [Float], quantiles: [Float], threshold: Float, rows: Int) {
    self.levels = levels
    self.quantiles = quantiles
    self.threshold = threshold
    self.rows = rows
  }

  /// The share of calibration rows at or below `value`, in [0, 1], by linear interpolation
  /// in the quantile table (a valid table is never empty). O(log n). Percentiles (0–100) are
  /// the runtime's: ``EmberSession/percentile(ofScore:)``.
  public func share(atOrBelow value: Float) -> Float {
    guard let first = quantiles.first, let last = quantiles.last else { return 0 }
    if value <= first { return levels[0] }
    if value >= last { return levels[levels.count - 1] }
    var lo = 0
    var hi = quantiles.count - 1
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if quantiles[mid] <= value { lo = mid } else { hi = mid }
    }
    let span = quantiles[hi] - quantiles[lo]
    let t = span > 0 ? (value - quantiles[lo]) / span : 1
    return levels[lo] + t * (levels[hi] - levels[lo])
  }
}

/// Default sampler settings of one class.
public struct SamplerDefaults: Equatable, Sendable {
  /// Algorithm.
  public var kind: SamplerKind
  /// Number of update steps per chain.
  public var steps: Int
  /// Gradient step size ε (encoded units²).
  public var stepSize: Float
  /// Per-step noise standard deviation; negative means √(2·ε·T).
  public var noiseScale: Float
  /// Temperature T: Langevin and MALA target e^{−E/T}; chains that start from the base draw
  /// from it with every component's covariance × T, and its independence proposals weigh by
  /// (E_base − E)/T (the target is q_T · e^{−(E − E_base)/T}, q_T the tempered base; exactly
  /// e^{−E/T} for a one-component base). 1 = the fitted energy.
  public var temperature: Float
  /// Standard deviation of the noise added to starting points.
  public var initNoise: Float
  /// Gradient-norm clip; 0 disables it.
  public var gradClip: Float
  /// Where chains start.
  public var initialization: ChainInit
  /// Independence Metropolis–Hastings proposals from the base for chains that start from the
  /// base, before the gradient steps (format 1.2; 0 = none).
  public var proposals: Int

  /// Creates sampler defaults.
  public init(
    kind: SamplerKind = .langevin, steps: Int = 200, stepSize: Float = 0.1, noiseScale: Float = -1,
    temperature: Float = 1, initNoise: Float = 0.01, gradClip: Float = 0,
    initialization: ChainInit = .startingRows, proposals: Int = 0
  ) {
    self.proposals = proposals
    self.kind = kind
    self.steps = steps
    self.stepSize = stepSize
    self.noiseScale = noiseScale
    self.temperature = temperature
    self.initNoise = initNoise
    self.gradClip = gradClip
    self.initialization = initialization
  }

  /// TabEBM's published setting (Algorithm 1): 200 steps, α = 0.1, σ = 0.01.
  public static let tabebm = SamplerDefaults(
    kind: .tabebm, steps: 200, stepSize: 0.1, noiseScale: 0.01, temperature: 1, initNoise: 0.01)
}

/// Who made a model and from what.
public struct Provenance: Equatable, Sendable {
  /// Producing program (e.g. `ember train`).
  public var producer: String
  /// Its version.
  public var producerVersion: String
  /// Source data (file name).
  public var source: String
  /// Rows read from the source.
  public var sourceRows: Int
  /// Training seed.
  public var seed: UInt64
  /// Training objective (e.g. `nce`).
  public var objective: String
  /// The command line that produced the file.
  public var command: String
  /// Unix seconds; 0 for reproducible builds.
  public var created: Int64
  /// Wall-clock training time in seconds; 0 for reproducible builds.
  public var trainSeconds: Double
  /// Held-out balanced accuracy of energy classification (NaN when unknown).
  public var heldoutBalancedAccuracy: Double
  /// Held-out one-class-vs-rest OOD AUROC (NaN when unknown).
  public var heldoutOODAUROC: Double

  /// Creates provenance.
  public init(
    producer: String = "", producerVersion: String = "", source: String = "", sourceRows: Int = 0,
    seed: UInt64 = 0, objective: String = "", command: String = "", created: Int64 = 0,
    trainSeconds: Double = 0, heldoutBalancedAccuracy: Double = .nan, heldoutOODAUROC: Double = .nan
  ) {
    self.producer = producer
    self.producerVersion = producerVersion
    self.source = source
    self.sourceRows = sourceRows
    self.seed = seed
    self.objective = objective
    self.command = command
    self.created = created
    self.trainSeconds = trainSeconds
    self.heldoutBalancedAccuracy = heldoutBalancedAccuracy
    self.heldoutOODAUROC = heldoutOODAUROC
  }

  public static func == (a: Provenance, b: Provenance) -> Bool {
    func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
    return a.producer == b.producer && a.producerVersion == b.producerVersion && a.source == b.source
      && a.sourceRows == b.sourceRows && a.seed == b.seed && a.objective == b.objective
      && a.command == b.command && a.created == b.created && same(a.trainSeconds, b.trainSeconds)
      && same(a.heldoutBalancedAccuracy, b.heldoutBalancedAccuracy)
      && same(a.heldoutOODAUROC, b.heldoutOODAUROC)
  }
}

/// A stacked classification read-out fitted on held-out energies:
/// logit_c = Σ_k W[c][k]·(−E_k) + Σ_i V[c][i]·x_i + b_c, where x is the encoded row (the V term
/// is optional, format 1.2).
public struct StackedReadout: Equatable, Sendable {
  /// C×C weights, row-major (row = output class c, column = energy of class k).
  public var weights: [Float]
  /// C biases.
  public var bias: [Float]
  /// C×d weights on the encoded row, row-major, or nil (energies only).
  public var inputWeights: [Float]?

  /// Creates a read-out.
  public init(weights: [Float], bias: [Float], inputWeights: [Float]? = nil) {
    self.weights = weights
    self.bias = bias
    self.inputWeights = inputWeights
  }
}

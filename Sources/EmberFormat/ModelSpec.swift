/// A dense layer y = act(W·x + b) as plain values (for writing, or a decoded copy).
public struct DenseLayerSpec: Equatable, Sendable {
  /// Input width.
  public var inputs: Int
  /// Output width.
  public var outputs: Int
  /// Nonlinearity applied to W·x + b.
  public var activation: Activation
  /// How the weights are stored in the file (values here are always Float).
  public var weightType: WeightType
  /// Row-major [outputs][inputs].
  public var weights: [Float]
  /// [outputs].
  public var bias: [Float]

  /// Creates a layer description.
  public init(
    inputs: Int, outputs: Int, activation: Activation, weightType: WeightType = .float32,
    weights: [Float], bias: [Float]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.activation = activation
    self.weightType = weightType
    self.weights = weights
    self.bias = bias
  }
}

/// A Gaussian (one component) or Gaussian-mixture/KDE base energy with shared covariance S:
/// E_base(x) = −logsumexp_j(w_j − ½(x−m_j)ᵀP(x−m_j)) + ½ log det S + (d/2) log 2π, with P = S⁻¹.
public struct GaussianBaseSpec: Equatable, Sendable {
  /// k×d component means, row-major.
  public var means: [Float]
  /// k log mixture weights (they log-sum-exp to 0).
  public var logWeights: [Float]
  /// d×d precision P, row-major.
  public var precision: [Float]
  /// log det S.
  public var logDetCovariance: Double
  /// The lattice variance of each encoded slot (d values, h²/12 for a slot whose values sit on
  /// a lattice of spacing h, 0 for a continuous one) that S carries on its diagonal: a base
  /// fitted to dequantized values. Empty: none. Scoring uses S as it is; conditioning on exact
  /// values (imputation, `sample --given`) uses S − diag(latticeVariance). Format 1.3.
  public var latticeVariance: [Float]

  /// Creates a base description.
  public init(
    means: [Float], logWeights: [Float], precision: [Float], logDetCovariance: Double, latticeVariance: [Float] = []
  ) {
    self.means = means
    self.logWeights = logWeights
    self.precision = precision
    self.logDetCovariance = logDetCovariance
    self.latticeVariance = latticeVariance
  }

  /// Number of components k.
  public var components: Int { logWeights.count }
}

/// One class's energy model as plain values.
public struct ClassSpec: Equatable, Sendable {
  /// Class label as it appears in the target column.
  public var label: String
  /// Prior π_c (training share).
  public var prior: Double
  /// Rows of this class used in training.
  public var trainRows: Int
  /// Network layers (empty: no network term).
  public var layers: [DenseLayerSpec]
  /// How the network output becomes an energy term.
  public var output: OutputMode
  /// Optional analytic base energy.
  public var base: GaussianBaseSpec?
  /// Scale on the network term: E = networkScale · term + E_base.
  public var networkScale: Float
  /// Held-out energy quantiles and this class's anomaly threshold.
  public var calibration: Calibration?
  /// Sampler defaults.
  public var sampler: SamplerDefaults?
  /// n×d encoded starting rows, or nil when omitted for privacy.
  public var startingRows: [Float]?
  /// Classification offset: logit_c = −E_c/T + log π_c + offset.
  public var offset: Float

  /// Creates a class description.
  public init(
    label: String, prior: Double, trainRows: Int = 0, layers: [DenseLayerSpec] = [],
    output: OutputMode = .logOdds, base: GaussianBaseSpec? = nil, networkScale: Float = 1,
    calibration: Calibration? = nil, sampler: SamplerDefaults? = nil, startingRows: [Float]? = nil,
    offset: Float = 0
  ) {
    self.label = label
    self.prior = prior
    self.trainRows = trainRows
    self.layers = layers
    self.output = output
    self.base = base
    self.networkScale = networkScale
    self.calibration = calibration
    self.sampler = sampler
    self.startingRows = startingRows
    self.offset = offset
  }

  /// Trainable parameters of the network (weights and biases).
  public var parameterCount: Int { layers.reduce(0) { $0 + $1.weights.count + $1.bias.count } }
}

/// A whole model as plain values: what the trainer produces and ``ModelWriter`` serialises.
public struct ModelSpec: Equatable, Sendable {
  /// Who made it.
  public var provenance: Provenance
  /// Name of the label column.
  public var target: String
  /// Input columns, in encoded-slot order.
  public var features: [FeatureSpec]
  /// Classes.
  public var classes: [ClassSpec]
  /// Shared classification temperature T.
  public var temperature: Float
  /// Calibration of the overall anomaly score.
  public var scoreCalibration: Calibration?
  /// Free-form key/values (sorted by key when written).
  public var metadata: [String: String]
  /// Optional stacked classification read-out (replaces temperature, priors and offsets).
  public var readout: StackedReadout?

  /// Creates a model description.
  public init(
    provenance: Provenance = Provenance(), target: String, features: [FeatureSpec],
    classes: [ClassSpec], temperature: Float = 1, scoreCalibration: Calibration? = nil,
    metadata: [String: String] = [:], readout: StackedReadout? = nil
  ) {
    self.readout = readout
    self.provenance = provenance
    self.target = target
    self.features = features
    self.classes = classes
    self.temperature = temperature
    self.scoreCalibration = scoreCalibration
    self.metadata = metadata
  }

  /// Encoded width d: the sum of the features' slot counts.
  public var encodedWidth: Int { features.reduce(0) { $0 + $1.slotCount } }
}

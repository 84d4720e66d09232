import EmberFormat

/// The one path from a raw row to an answer: a loaded model ready to encode rows, evaluate
/// energies, score, classify and sample. The CLIs, the C API, the Python binding (through the
/// C API) and the trainer's calibration all answer through a session, so every answer is
/// computed by the same code.
///
/// - Encoding: ``encoder(header:unknownCategories:)`` — missing cells (``MissingValue``) are
///   imputed, unknown categories are read as missing and flagged (or refused), numbers outside
///   the 32-bit float range are refused, encoded values are clamped to the certified box.
/// - Evaluation: ``Evaluator`` — batched, threaded; non-finite energies and gradients are
///   replaced by finite ones, so no answer is ever NaN or infinite.
/// - Answers: ``score(_:)``, ``percentile(ofScore:)`` (0–100), ``isAnomaly(score:threshold:flags:)``,
///   ``classify(_:row:probabilities:)``.
/// - Sampling: ``sample(classIndex:count:seed:overrides:starts:threads:emit:)`` with validated
///   ``SamplerOverrides``.
///
/// A session is immutable and may be shared by threads; each thread evaluates through its own
/// ``Evaluator``.
public final class EmberSession: @unchecked Sendable {
  /// The verified model.
  public let model: EmberModel
  /// Its packed per-class energies.
  public let energy: EnergyModel
  /// How energies become scores and class probabilities.
  public let readout: EnergyReadout
  /// How encoded rows become raw fields.
  public let decoder: RowDecoder
  /// The model's score calibration (held-out in-distribution scores), if any.
  public let scoreCalibration: Calibration?
  /// The model's calibrated anomaly threshold on the score scale, if it has one.
  public let threshold: Float?

  /// Prepares `model` for computation. A model that passed verification always prepares; the
  /// error (`.unusableModel`) is a safety net.
  public init(_ model: EmberModel) throws(EmberRuntimeError) {
    self.model = model
    energy = try EnergyModel(model)
    readout = EnergyReadout(energy)
    decoder = RowDecoder(model: model)
    scoreCalibration = model.scoreCalibration
    threshold = model.scoreCalibration?.threshold
    // Verified, and the forward weights copied: the mapped bytes need not stay in memory.
    model.releaseResidentPages()
  }

  /// Maps, verifies and prepares the model at `path`. Every failure is an ``EmberFormatError``
  /// (a preparation failure is reported as `.invalid`, located in the file).
  public convenience init(path: String) throws(EmberFormatError) {
    let model: EmberModel
    do {
      model = try EmberModel(path: path)
    } catch let e as EmberFormatError {
      throw e
    } catch {
      throw EmberFormatError(.io, "cannot load the model", at: path)
    }
    do {
      try self.init(model)
    } catch {
      throw EmberFormatError(.invalid, error.message, at: error.location.isEmpty ? path : path + ": " + error.location)
    }
  }

  /// The energies that conditioning on exact values uses (imputation, `sample --given/--where`,
  /// the class weights given observed cells): ``energy`` with every base's recorded lattice
  /// variance taken out of its covariance (Sheppard's correction,
  /// ``EnergyModel/withoutLatticeVariance()``); ``energy`` itself when no base records one.
  /// Made by each call that conditions (O(C·d³) when a base records a lattice variance, else
  /// O(1)), so that loading a model for scoring pays nothing for it; scoring, classifying,
  /// explaining and unconditional sampling never use it.
  public func conditioning() -> EnergyModel {
    energy.withoutLatticeVariance()
  }

  /// Number of classes C.
  public var classCount: Int { energy.classCount }
  /// Encoded width d.
  public var width: Int { energy.width }
  /// Class labels in model order.
  public var labels: [String] { energy.labels }

  // MARK: Encoding

  /// An encoder for rows with this header (see ``RowEncoder``).
  public func encoder(header: [String], unknownCategories: UnknownCategoryPolicy = .missing) throws(EmberRuntimeError) -> RowEncoder {
    try RowEncoder(model: model, header: header, unknownCategories: unknownCategories)
  }

  // MARK: Answers from one row's energies (C values, already finite)

  /// The anomaly score s(x) = −log Σ_c π_c e^{−E_c(x)}: higher = more anomalous.
  @inline(__always)
  public func score(_ energies: UnsafePointer<Float>) -> Float { readout.score(energies) }

  /// Where `score` falls among the held-out in-distribution scores stored in the model, as a
  /// percentile in [0, 100]; nil when the model has no score calibration. O(log levels).
  @inline(__always)
  public func percentile(ofScore score: Float) -> Float? {
    guard let c = scoreCalibration else { return nil }
    return 100 * c.share(atOrBelow: score)
  }

  /// Whether a row is anomalous: a row with an unknown category always is; otherwise
  /// score > threshold (`threshold` overrides the model's); nil when there is no threshold.
  @inline(__always)
  public func isAnomaly(score: Float, threshold: Float? = nil, flags: RowFlags = []) -> Bool? {
    if flags.contains(.unknownCategory) { return true }
    return (threshold ?? self.threshold).map { score > $0 }
  }

  /// Class probabilities into `probabilities` (C values, summing to 1) and the index of the
  /// most probable class, from a row's energies and its encoded values (d; read by a hybrid
  /// read-out, which weighs the encoded row too).
  @discardableResult @inline(__always)
  public func classify(
    _ energies: UnsafePointer<Float>, row: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>
  ) -> Int {
    readout.posteriors(energies, row: row, into: probabilities)
  }

  /// The most probable class of ``classify(_:row:probabilities:)``, without the probabilities
  /// (`scratch`: C floats).
  @inline(__always)
  public func nearestClass(_ energies: UnsafePointer<Float>, row: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> Int {
    readout.mostProbableClass(energies, row: row, scratch: scratch)
  }

  // MARK: Threads

  /// Most threads any call accepts (a larger request is a bad option, not an allocation
  /// failure).
  public static let maximumThreads = 1024

  /// Checks a requested thread count (1…``maximumThreads``); `name` is the option's name.
  public static func checkThreads(_ n: Int, option name: String) throws(EmberRuntimeError) {
    guard n >= 1, n <= maximumThreads else {
      throw EmberRuntimeError(.badOption, "must be in 1…\(maximumThreads), not \(n)", at: name)
    }
  }

  /// Threads actually used for a request: never more than the cores available (results never
  /// depend on it).
  public static func workers(_ requested: Int) -> Int { max(1, min(requested, Parallel.availableCores)) }
}

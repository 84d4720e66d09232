import EmberFormat

/// Turning per-class energies into anomaly scores and class probabilities.
///
/// - Score: the free energy s(x) = −log Σ_c π_c e^{−E_c(x)} (higher = more anomalous): the
///   negative log density of the prior-weighted mixture of the class models.
/// - Classification: logit_c = −E_c(x)/T + log π_c + offset_c, p(c|x) = softmax over c, with
///   the file's temperature T and offsets; or, when the file carries a stacked read-out,
///   logit_c = Σ_k W[c][k]·(−E_k(x)) + b_c.
public struct EnergyReadout: Sendable {
  /// log π_c.
  public let logPriors: [Float]
  /// Classification offsets.
  public let offsets: [Float]
  /// Classification temperature.
  public let temperature: Float
  /// Overall score calibration from the file, if any.
  public let scoreCalibration: Calibration?
  /// Stacked read-out weights (C×C) and biases (C), when the file has them.
  public let stackedWeights: [Float]?
  public let stackedBias: [Float]?
  /// Stacked read-out weights on the encoded row (C×d), when the file has them.
  public let inputWeights: [Float]?
  /// Encoded width d.
  public let width: Int

  /// Readout for `model`.
  public init(_ model: EnergyModel) {
    self.init(
      logPriors: model.logPriors, offsets: model.model.classes.map { $0.offset }, temperature: model.model.temperature,
      stacked: model.model.readout, width: model.width, scoreCalibration: model.model.scoreCalibration)
  }

  /// A readout with explicit parameters (the trainer evaluates candidate read-outs with the
  /// runtime's own formulas before it writes one into a file).
  public init(
    logPriors: [Float], offsets: [Float], temperature: Float, stacked: StackedReadout?, width: Int,
    scoreCalibration: Calibration? = nil
  ) {
    self.logPriors = logPriors
    self.offsets = offsets
    self.temperature = temperature
    self.scoreCalibration = scoreCalibration
    stackedWeights = stacked?.weights
    stackedBias = stacked?.bias
    inputWeights = stacked?.inputWeights
    self.width = width
  }

  /// Free-energy score of one row's energies (C values).
  @inline(__always)
  public func score(_ e: UnsafePointer<Float>) -> Float {
    var top = -Float.infinity
    for c in logPriors.indices { top = max(top, logPriors[c] - e[c]) }
    guard top.isFinite else { return top == .infinity ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude }
    var total: Float = 0
    for c in logPriors.indices { total += Float.exp(logPriors[c] - e[c] - top) }
    let s = -(top + Float.log(total))
    return s.isFinite ? s : .greatestFiniteMagnitude
  }

  /// Class probabilities (into `p`, C values) and the index of the most probable class, from
  /// one row's energies `e` (C values) and its encoded values `x` (d values; used only by a
  /// read-out with input weights, and required then).
  @discardableResult
  public func posteriors(_ e: UnsafePointer<Float>, row x: UnsafePointer<Float>?, into p: UnsafeMutablePointer<Float>) -> Int {
    let (best, top) = logits(e, row: x, into: p)
    guard top.isFinite else {
      // Every class's energy overflowed (a row astronomically far from all data): fall back
      // to the priors rather than emit NaN.
      for c in logPriors.indices { p[c] = Float.exp(logPriors[c]) }
      return mostProbablePrior
    }
    var total: Float = 0
    for c in logPriors.indices {
      p[c] = Float.exp(p[c] - top)
      total += p[c]
    }
    for c in logPriors.indices { p[c] /= total }
    return best
  }

  /// The index ``posteriors(_:row:into:)`` returns, without computing the probabilities (no
  /// exponentials); `scratch` holds C floats.
  @inline(__always)
  public func mostProbableClass(_ e: UnsafePointer<Float>, row x: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>) -> Int {
    let (best, top) = logits(e, row: x, into: scratch)
    return top.isFinite ? best : mostProbablePrior
  }

  /// The most probable class with equal priors: the first largest of logit_c − log π_c (the
  /// file's read-out — calibrated or stacked — with the class priors taken out), or nil when no
  /// class's logit is finite. `scratch` holds C floats. O(C²) with a stacked read-out, O(C) else.
  @inline(__always)
  public func balancedClass(_ e: UnsafePointer<Float>, row x: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>) -> Int? {
    let (best, top) = logits(e, row: x, into: scratch, equalPriors: true)
    return top.isFinite ? best : nil
  }

  /// The class logits into `p` (NaN read as −∞), the index of the first largest and its value;
  /// `equalPriors` subtracts log π_c from every logit (the posterior under equal priors).
  @inline(__always)
  func logits(
    _ e: UnsafePointer<Float>, row x: UnsafePointer<Float>?, into p: UnsafeMutablePointer<Float>, equalPriors: Bool = false
  ) -> (Int, Float) {
    var top = -Float.infinity
    var best = 0
    let count = logPriors.count
    for c in 0..<count {
      var logit: Float
      if let w = stackedWeights, let b = stackedBias {
        logit = b[c]
        for k in 0..<count { logit -= w[c * count + k] * e[k] }
        if let v = inputWeights, let x {
          for i in 0..<width { logit += v[c * width + i] * x[i] }
        }
      } else {
        logit = -e[c] / temperature + logPriors[c] + offsets[c]
      }
      if equalPriors { logit -= logPriors[c] }
      if logit.isNaN { logit = -.infinity }  // overflowing energies (∞ − ∞): never the answer
      p[c] = logit
      if logit > top {
        top = logit
        best = c
      }
    }
    return (best, top)
  }

  /// The class with the largest prior (the first of equals).
  var mostProbablePrior: Int {
    var best = 0
    for c in logPriors.indices where logPriors[c] > logPriors[best] { best = c }
    return best
  }
}

/// Magnitude bounds every model obeys, checked on load and on write (``ModelValidator``), and
/// the box of encoded inputs on which a valid model is certified to compute finite values.
///
/// The bounds are far above anything `ember train` writes (z-scored data, weight decay, a
/// shrunk Gaussian base): they exist so that a crafted file with a valid checksum cannot make
/// an energy, a gradient, a score, a percentile or a probability infinite or NaN.
public enum ModelLimits {
  /// Encoded inputs are clamped to ±this by the runtime's encoder (a raw value further than
  /// a million standard deviations from the training mean is evaluated at that distance).
  public static let encodedMagnitude: Float = 1e6
  /// On every encoded row within ±``encodedMagnitude``, a valid model's per-class energies,
  /// input gradients and classification logits are bounded by this (checked by interval bounds
  /// through every layer at load time), far below Float's 3.4e38.
  public static let certifiedMagnitude: Double = 1e30
  /// Raw feature statistics (mean, min, max, impute value) are 32-bit float values.
  public static let rawMagnitude = Double(Float.greatestFiniteMagnitude)
  /// Smallest standardisation scale (the trainer uses 1 for columns with a smaller spread).
  public static let minimumStd = 1e-12
  /// Largest magnitude of any network weight, bias or scale, classification offset, read-out
  /// weight or bias, base mean, precision entry, log weight or log determinant.
  public static let parameterMagnitude: Float = 1e6
  /// Classification temperature range.
  public static let temperature: ClosedRange<Float> = 1e-6...1e6
}

extension SamplerDefaults {
  /// Steps per chain, in the file and as an override.
  public static let stepRange: ClosedRange<Int> = 0...1_000_000
  /// Largest step size ε (> 0), in the file and as an override.
  public static let maximumStepSize: Float = 100
  /// Largest per-step noise σ (a negative file value means √(2εT)).
  public static let maximumNoise: Float = 100
  /// Largest temperature T (> 0).
  public static let maximumTemperature: Float = 1e6
  /// Largest noise added to starting rows (encoded units; the default divergence box is 100).
  public static let maximumInitNoise: Float = 100
  /// Largest gradient-norm clip (0 = none).
  public static let maximumGradClip: Float = 1e6
}

/// Interval bounds of a class's energy and input gradient over the box |x_i| ≤ B.
enum EnergyBound {
  /// Largest |activation(z)| for |z| ≤ u.
  static func activation(_ a: Activation, _ u: Double) -> Double {
    switch a {
    case .tanh: min(u, 1)
    case .softplus: u + 0.6931471805599453
    case .identity, .relu, .silu, .gelu: u
    }
  }

  /// Largest |activation′(z)| anywhere.
  static func slope(_ a: Activation) -> Double {
    switch a {
    case .silu: 1.1  // max of σ(z)(1 + z(1 − σ(z))) ≈ 1.0998
    case .gelu: 1.13  // ≈ 1.1289
    case .identity, .relu, .tanh, .softplus: 1
    }
  }

  /// Bounds (energy, gradient) of E = s·term(network) for inputs with |x_i| ≤ box.
  static func network(_ layers: [ModelValidator.LayerFacts], output: OutputMode, scale: Float, box: Double) -> (Double, Double) {
    var u = box
    for l in layers { u = activation(l.activation, l.maxRowAbsSum * u + Double(l.maxAbsBias)) }
    let outputs = Double(layers.last?.outputs ?? 1)
    let term = output == .logSumExp ? u + Double.logApprox(outputs) : u
    var g = Double(abs(scale))
    for l in layers.reversed() { g = l.maxColAbsSum * slope(l.activation) * g }
    return (Double(abs(scale)) * term, g)
  }

  /// Bounds (energy, gradient) of the Gaussian base term for inputs with |x_i| ≤ box.
  static func base(_ b: ModelValidator.BaseFacts, width d: Int, box: Double) -> (Double, Double) {
    let r = box + Double(b.maxAbsMean)
    let quadratic = 0.5 * b.precisionAbsSum * r * r
    let constant = Double(b.maxAbsLogWeight) + 0.5 * abs(b.logDet) + Double(d)
    return (quadratic + constant, b.maxPrecisionRowAbsSum * r)
  }
}

extension Double {
  /// Natural logarithm for x ≥ 1 without libm (an upper bound is all the bounds need).
  static func logApprox(_ x: Double) -> Double {
    var v = x
    var n = 0.0
    while v > 2 {
      v /= 2
      n += 1
    }
    return n * 0.6931471805599453 + (v - 1)
  }
}

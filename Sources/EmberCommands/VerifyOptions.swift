import EmberFormat

/// `ember verify MODEL`: full load checks, one line of verdict (see ``VerbSpec/verify``).
///
/// Runs everything a load runs — envelope structure, version, CRC-32 of the payload, payload
/// structure, semantic rules — and then prepares the model for computation (which also checks
/// that every base precision matrix is positive definite).
///
/// Exit status: 0 valid (`OK MODEL (N classes, M features, SIZE bytes)` on stdout);
/// 3 (``ExitStatus/badModel``) when the file is missing, unreadable, corrupted, of an
/// unsupported version or invalid — with exactly one `ember: error: code: message [location]`
/// line on stderr; 64 for usage errors.
public struct VerifyOptions: Sendable {
  /// The model file.
  public var model: String

  /// Options for verifying `model`.
  public init(model: String) { self.model = model }

  /// Loads and prepares the model; prints the verdict.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let m = energy.model
    print("OK \(model) (\(m.classes.count) classes, \(m.features.count) features, \(m.byteCount) bytes)")
  }
}

import ArgumentParser
import EmberFormat

/// `ember verify MODEL`: full load checks, one line of verdict.
///
/// Runs everything a load runs — envelope structure, version, CRC-32 of the payload, payload
/// structure, semantic rules — and then prepares the model for computation (which also checks
/// that every base precision matrix is positive definite).
///
/// Exit status: 0 valid (`OK MODEL (N classes, M features, SIZE bytes)` on stdout);
/// 3 (``ExitStatus/badModel``) when the file is missing, unreadable, corrupted, of an
/// unsupported version or invalid — with exactly one `ember: error: code: message [location]`
/// line on stderr; 64 for usage errors.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check a model file completely: structure, version, checksum, values.",
    discussion: """
      Prints `OK MODEL (N classes, M features, SIZE bytes)` and exits 0 when the file is valid.
      Otherwise prints one line `ember: error: CODE: MESSAGE [LOCATION]` on stderr and exits 3.
      CODE is one of: io, truncated, notAModel, malformed, unsupportedVersion, checksumMismatch,
      invalid (see docs/FORMAT.md), or unusableModel when the values cannot be computed with.
      """)

  @Argument(help: "The .ember model file.") var model: String

  func run() throws {
    try reportingFailures {
      let energy = try loadEnergyModel(model)
      let m = energy.model
      print("OK \(model) (\(m.classes.count) classes, \(m.features.count) features, \(m.byteCount) bytes)")
    }
  }
}

import EmberFormat
import EmberRuntime

extension Verb {
  /// `ember verify MODEL`: every load check plus runtime preparation, one line of verdict.
  ///
  /// Exit status 0 (`OK MODEL (N classes, M features, SIZE bytes)` on stdout), or 3 with
  /// exactly one `ember: error: CODE: MESSAGE [LOCATION]` line on stderr; 64 for usage errors.
  /// `inspect` runs the very same checks, so the two refuse the same files.
  public static let verify = Verb(
    VerbSpec(
      name: "verify",
      abstract: "Check a model file completely: structure, version, checksum, values.",
      discussion: """
        Prints `OK MODEL (N classes, M features, SIZE bytes)` and exits 0 when the file is valid.
        Otherwise prints one line `ember: error: CODE: MESSAGE [LOCATION]` on stderr and exits 3.
        CODE is one of: io, truncated, notAModel, malformed, unsupportedVersion, checksumMismatch,
        invalid (see docs/FORMAT.md).
        """,
      arguments: [.model], options: [])
  ) { p throws(CLIError) in
    let model = p.positional("model")
    let m = try openSession(model).model
    printOut(visible("OK \(model) (\(m.classes.count) classes, \(m.features.count) features, \(m.byteCount) bytes)") + "\n")
  }

  /// `ember inspect MODEL [--json]`: what a model file holds, after the checks of `verify`.
  public static let inspect = Verb(
    VerbSpec(
      name: "inspect",
      abstract: "Summarise a model: version, provenance, features, classes, networks, calibration.",
      arguments: [.model], options: [.inspectJSON])
  ) { p throws(CLIError) in
    let model = p.positional("model")
    let m = try openSession(model).model
    if p.flag(.inspectJSON) {
      printOut(InspectJSON.render(InspectReport.json(m, path: model)) + "\n")
    } else {
      printOut(InspectReport.text(m, path: model))
    }
  }
}

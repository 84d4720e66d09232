import EmberFormat

/// `ember inspect MODEL [--json]`: what a model file holds, for people or for scripts
/// (see ``VerbSpec/inspect``).
///
/// The model is fully verified first (as by `ember verify`); a bad file gives one
/// `ember: error: …` line on stderr and exit status 3. `--json` prints a single JSON object
/// (snake_case keys; non-finite numbers as `null`).
public struct InspectOptions: Sendable {
  /// The model file.
  public var model: String
  /// Print one JSON object instead of text.
  public var json = false

  /// Options for inspecting `model`.
  public init(model: String) { self.model = model }

  /// Loads and verifies the model, then prints the report.
  public func run() throws {
    let m: EmberModel
    do {
      m = try EmberModel(path: model)
    } catch let e as EmberFormatError {
      throw CLIFailure.model(e.description)
    }
    if json {
      print(InspectJSON.render(InspectReport.json(m, path: model)))
    } else {
      print(InspectReport.text(m, path: model), terminator: "")
    }
  }
}

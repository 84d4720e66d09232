import EmberFormat

extension InspectOptions {
  /// The report `ember inspect --json` prints for `model` (read from `path`), for hosts that
  /// hold a loaded model (the trainer C API's `ember_inspect_json`).
  public static func json(of model: EmberModel, path: String) -> String {
    InspectJSON.render(InspectReport.json(model, path: path))
  }
}

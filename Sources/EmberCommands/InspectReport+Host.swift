import EmberFormat

/// The report `ember inspect --json` prints for `model` (read from `path`), for hosts that hold a
/// loaded model (the trainer C API's `ember_inspect_json`, and through it Python's
/// `Model.inspect()`).
public func inspectReportJSON(_ model: EmberModel, path: String) -> String {
  InspectJSON.render(InspectReport.json(model, path: path))
}

import EmberFormat
import EmberRuntime

/// Writes generated rows for `ember sample` (with or without conditions): the header is the
/// model's features with the class column inserted where the target stood in training, and
/// each encoded row is decoded, checked, labelled and written. The first failure (a row the
/// check rejects, or the sink's error) is kept so the sampler's `emit` can stop and the verb
/// can throw it after the sampler returns.
final class SampleRowWriter {
  private let sink: OutputSink
  private let width: Int
  private let position: Int
  /// The first error met while writing, if any.
  private(set) var failure: CLIError?

  /// Opens the output (stdout when `output` is nil) and writes the header.
  init(session: EmberSession, output: String?) throws(CLIError) {
    let m = session.model
    let features = m.features.map { $0.name }
    var position = features.count
    if let t = m.metadata["target_position"].flatMap({ Int($0) }), t >= 0, t <= features.count { position = t }
    var header = features
    header.insert(m.target.isEmpty ? "label" : m.target, at: position)
    sink = try OutputSink(path: output)
    width = session.width
    self.position = position
    try sink.writeRow(header)
  }

  /// Writes the first `rows` encoded rows of `block` as class `label`: each is decoded by
  /// `decode`, refused when `check` returns an error, then written with the label inserted.
  /// Returns false (and keeps the failure) at the first refused row or write error — the
  /// value a sampler's `emit` returns to stop.
  func write(
    _ block: UnsafeBufferPointer<Float>, rows: Int, label: String, decode: (UnsafePointer<Float>) -> [String],
    check: ([String]) -> CLIError? = { _ in nil }
  ) -> Bool {
    for r in 0..<rows {
      var fields = decode(block.baseAddress! + r * width)
      if let refused = check(fields) {
        failure = refused
        return false
      }
      fields.insert(label, at: position)
      do throws(CLIError) {
        try sink.writeRow(fields)
      } catch {
        failure = error
        return false
      }
    }
    return true
  }

  /// Throws the kept failure, if any.
  func checkFailure() throws(CLIError) {
    if let failure { throw failure }
  }

  /// Finishes the output (renames the temporary file into place).
  func commit() throws(CLIError) { try sink.commit() }
}

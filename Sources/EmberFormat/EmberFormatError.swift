/// An error found while reading, verifying or writing an `.ember` file.
///
/// Every failure carries a machine-readable ``code``, a person-readable ``message`` and, where it
/// applies, the place in the model it concerns (``location``, e.g. `class "setosa" layer 1
/// weights`). Loading never traps on bad input: it throws one of these.
public struct EmberFormatError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: String, Sendable, CaseIterable {
    /// The file could not be opened, read, mapped or written.
    case io
    /// The bytes are too short to be a model.
    case truncated
    /// The bytes do not start with the `EMBR` identifier.
    case notAModel
    /// The FlatBuffers verifier rejected the structure.
    case malformed
    /// The file's major version, or its minimum reader version, is newer than this reader.
    case unsupportedVersion
    /// The payload does not match its checksum: the file was changed after it was written.
    case checksumMismatch
    /// The structure is sound but a value breaks a semantic rule (shape, range, finiteness).
    case invalid
    /// A caller passed an inconsistent model description to the writer.
    case invalidDescription
  }

  /// What kind of failure this is.
  public let code: Code
  /// What is wrong, in words.
  public let message: String
  /// Where in the model (class, layer, field), or the file path; empty when not applicable.
  public let location: String

  /// Creates an error.
  public init(_ code: Code, _ message: String, at location: String = "") {
    self.code = code
    self.message = message
    self.location = location
  }

  /// `code: message (location)`, one line.
  public var description: String {
    location.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue): \(message) [\(location)]"
  }

  /// A copy with `prefix` prepended to the location (e.g. a file path).
  public func located(in prefix: String) -> EmberFormatError {
    EmberFormatError(code, message, at: location.isEmpty ? prefix : "\(prefix): \(location)")
  }
}

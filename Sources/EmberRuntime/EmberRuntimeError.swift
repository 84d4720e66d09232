/// An error raised while running a model: bad input rows, an unknown class, or a model the
/// runtime cannot prepare (e.g. a base precision matrix that is not positive definite).
public struct EmberRuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: String, Sendable {
    /// The model loads but cannot be prepared for computation.
    case unusableModel
    /// Input columns required by the model are absent.
    case missingColumns
    /// A cell could not be read as the feature's kind.
    case badValue
    /// A categorical cell holds a category the model does not know.
    case unknownCategory
    /// A class label that is not in the model.
    case unknownClass
    /// A request that cannot be met (e.g. no starting points for a sampler).
    case badRequest
  }

  /// What kind of failure this is.
  public let code: Code
  /// What is wrong, in words.
  public let message: String
  /// Where: a column name, a class, a model field; empty when not applicable.
  public let location: String

  /// Creates an error.
  public init(_ code: Code, _ message: String, at location: String = "") {
    self.code = code
    self.message = message
    self.location = location
  }

  /// One line: `message (location)`.
  public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}

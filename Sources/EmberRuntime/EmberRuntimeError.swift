/// An error raised while running a model: bad input rows, an unknown class, a bad option value,
/// or a model the runtime cannot prepare.
public struct EmberRuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kind of failure. Front ends map codes (never messages) to exit statuses and C statuses.
  public enum Code: String, Sendable {
    /// The model loads but cannot be prepared for computation.
    case unusableModel
    /// Input columns required by the model are absent (or named twice).
    case missingColumns
    /// A cell could not be read as the feature's kind (or is outside the 32-bit float range).
    case badValue
    /// A categorical cell holds a category the model does not know (strict policy only).
    case unknownCategory
    /// A class label that is not in the model.
    case unknownClass
    /// A request that cannot be met (e.g. no starting points for a sampler).
    case badRequest
    /// An option value outside its documented range (threads, sampler overrides, …).
    case badOption
  }

  /// What kind of failure this is.
  public let code: Code
  /// What is wrong, in words.
  public let message: String
  /// Where: a column name, a class, a model field, an option; empty when not applicable.
  public let location: String
  /// For row errors: the 0-based index of the offending field in the row, when known.
  public let column: Int?

  /// Creates an error.
  public init(_ code: Code, _ message: String, at location: String = "", column: Int? = nil) {
    self.code = code
    self.message = message
    self.location = location
    self.column = column
  }

  /// One line: `location: message`.
  public var description: String { location.isEmpty ? message : location + ": " + message }
}

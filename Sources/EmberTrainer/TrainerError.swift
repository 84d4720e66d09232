/// An error raised while reading training data or training a model.
///
/// Data errors name the file and, where they apply, the line (1-based, the header is line 1;
/// a record spanning several physical lines counts as one) and the column.
public struct TrainerError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: String, Sendable, CaseIterable {
    /// The file could not be opened or read.
    case io
    /// The file has no header row.
    case emptyFile
    /// The file has a header but no data rows (or no usable rows).
    case noRows
    /// A row has a different number of fields than the header.
    case raggedRow
    /// A named column does not exist.
    case missingColumn
    /// A value cannot be read as the column's kind.
    case badValue
    /// The options are inconsistent (e.g. a column both numeric and categorical).
    case badOption
    /// Too few classes or rows remain to train.
    case notEnoughData
    /// The model given to `--add-to` cannot be extended with this data.
    case incompatibleModel
  }

  /// What kind of failure this is.
  public let code: Code
  /// What is wrong, in words.
  public let message: String
  /// File name, when the error concerns a file.
  public let file: String
  /// 1-based line, when the error concerns a row.
  public let line: Int?
  /// Column name, when the error concerns a column.
  public let column: String?

  /// Creates an error.
  public init(_ code: Code, _ message: String, file: String = "", line: Int? = nil, column: String? = nil) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
    self.column = column
  }

  /// `file:line: column "c": message`, one line.
  public var description: String {
    var place = file
    if let line { place += place.isEmpty ? "line \(line)" : ":\(line)" }
    if let column { place += place.isEmpty ? "column \"\(column)\"" : ": column \"\(column)\"" }
    return place.isEmpty ? message : "\(place): \(message)"
  }
}

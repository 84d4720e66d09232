import _EmberSystem

/// A problem reading or writing text: where it happened (file, 1-based line and column) and
/// what it is. Thrown (typed) by ``CSVReader`` and ``TextOutput``; front ends map ``code`` to
/// an exit status in one place (every code but ``Code/write`` is bad input: exit 1).
///
/// `column` is the 1-based *field* number within the record (as in `file:line:column`
/// messages about cell values), 0 when the error concerns the whole record or the file.
/// `line` is the 1-based physical line where the record starts, 0 when it concerns the file.
/// Messages never contain more than a short, escaped excerpt of the input
/// (see ``TextSnippet``).
public struct TextError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kinds of text problems.
  public enum Code: Sendable, Equatable {
    /// The input could not be opened (missing, permission, a directory).
    case open
    /// A read failed.
    case read
    /// An output could not be written.
    case write
    /// A record is longer than the reader's limit (``CSVReader/maxRecordBytes``).
    case recordTooLong
    /// A record has more fields than the reader's limit (``CSVReader/maxFields``).
    case tooManyFields
    /// A NUL byte in the input.
    case nulByte
    /// A quoted field is not closed before the end of the input.
    case unterminatedQuote
    /// A quote character inside an unquoted field.
    case strayQuote
    /// Text between a closing quote and the next separator or line end.
    case textAfterQuote
    /// Bytes that are not valid UTF-8 where text is required.
    case invalidUTF8
  }

  /// What kind of problem this is.
  public let code: Code
  /// What is wrong, in words (without the position).
  public let message: String
  /// The input or output name as given by the user (`<stdin>` for standard input).
  public let file: String
  /// 1-based line where the record starts; 0 when not applicable.
  public let line: Int
  /// 1-based field number; 0 when not applicable.
  public let column: Int

  /// Creates an error.
  public init(_ code: Code, _ message: String, file: String, line: Int = 0, column: Int = 0) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
    self.column = column
  }

  /// `file:line:column: message`, leaving out the parts that are 0.
  public var description: String {
    if line <= 0 { return "\(file): \(message)" }
    if column <= 0 { return "\(file):\(line): \(message)" }
    return "\(file):\(line):\(column): \(message)"
  }
}

/// The operating system's text for an errno value, e.g. "No such file or directory".
public func systemErrorText(_ error: Int32) -> String { String(cString: ember_sys_strerror(error)) }

import EmberFormat
import EmberRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Exit codes of the `ember` command (also listed in `ember --help` and the README).
public enum ExitStatus {
  /// Bad input data (CSV syntax, values, missing columns, unknown labels).
  public static let badInput: Int32 = 1
  /// The model file is missing, unreadable, corrupted or invalid.
  public static let badModel: Int32 = 3
  /// An output could not be written.
  public static let io: Int32 = 4
  /// A usage error: unknown option, missing or malformed value (as swift-argument-parser).
  public static let usage: Int32 = 64
}

/// A failure the CLI reports as one `ember: error: …` line and an exit code.
public struct CLIFailure: Error, CustomStringConvertible {
  /// The text after `ember: error: `.
  public let message: String
  /// The process exit status.
  public let status: Int32

  /// Creates a failure with a message and an exit status.
  public init(message: String, status: Int32) {
    self.message = message
    self.status = status
  }

  public var description: String { message }

  static func input(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.badInput) }
  static func io(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.io) }
  static func model(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.badModel) }
}

/// A bad option value found while running a verb (e.g. a two-character `--delimiter`). The
/// front end reports it as a usage error (exit status 64), the way swift-argument-parser
/// reports a `ValidationError`.
public struct UsageError: Error, CustomStringConvertible {
  /// What is wrong, e.g. `--count must be positive`.
  public let message: String

  /// Creates a usage error.
  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// Writes bytes to a file descriptor, retrying short writes.
func writeAll(_ fd: Int32, _ text: String) {
  var text = text
  text.withUTF8 { p in
    var offset = 0
    while offset < p.count {
      let n = write(fd, p.baseAddress! + offset, p.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      offset += n
    }
  }
}

/// Prints `ember: error: message` on stderr.
public func printError(_ message: String) {
  writeAll(2, "ember: error: \(message)\n")
}

/// Prints a line on stderr.
public func printNote(_ message: String) {
  writeAll(2, message + "\n")
}

/// Runs verb bodies and turns failures into exit statuses.
public enum CommandRunner {
  /// Runs `body`, turning every known error into one `ember: error: …` line on stderr and
  /// returns the exit status (0 on success). A ``UsageError`` is rethrown for the front end
  /// to report as a usage error; any other unknown error is reported with status 1.
  public static func status(of body: () throws -> Void) throws(UsageError) -> Int32 {
    do {
      try body()
      return 0
    } catch let f as CLIFailure {
      printError(f.message)
      return f.status
    } catch let e as CSVInputError {
      printError(e.description)
      return ExitStatus.badInput
    } catch let e as EmberFormatError {
      printError(e.description)
      return e.code == .io && e.message.hasPrefix("write") ? ExitStatus.io : ExitStatus.badModel
    } catch let e as EmberRuntimeError {
      printError(e.description)
      return e.code == .unusableModel ? ExitStatus.badModel : ExitStatus.badInput
    } catch let e as UsageError {
      throw e
    } catch {
      printError("\(error)")
      return ExitStatus.badInput
    }
  }
}

/// Loads and prepares a model, mapping failures to ``CLIFailure/model(_:)``.
func loadEnergyModel(_ path: String) throws -> EnergyModel {
  let model: EmberModel
  do {
    model = try EmberModel(path: path)
  } catch let e as EmberFormatError {
    throw CLIFailure.model(e.description)
  }
  do {
    return try EnergyModel(model)
  } catch let e as EmberRuntimeError {
    throw CLIFailure.model("\(path): \(e.description)")
  }
}

/// The message for a class label the model does not have.
func unknownClass(_ label: String, in m: EmberModel) -> CLIFailure {
  .input("class \"\(label)\" is not in the model (classes: \(m.classes.map(\.label).joined(separator: ", ")))")
}

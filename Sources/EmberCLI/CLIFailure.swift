import ArgumentParser
import EmberFormat
import EmberRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Exit codes of the `ember` command (also listed in `ember --help` and the README).
enum ExitStatus {
  /// Bad input data (CSV syntax, values, missing columns, unknown labels).
  static let badInput: Int32 = 1
  /// The model file is missing, unreadable, corrupted or invalid.
  static let badModel: Int32 = 3
  /// An output could not be written.
  static let io: Int32 = 4
}

/// A failure the CLI reports as one `ember: error: …` line and an exit code.
struct CLIFailure: Error, CustomStringConvertible {
  let message: String
  let status: Int32

  var description: String { message }

  static func input(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.badInput) }
  static func io(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.io) }
  static func model(_ message: String) -> CLIFailure { CLIFailure(message: message, status: ExitStatus.badModel) }
}

/// Prints `ember: error: message` on stderr.
func printError(_ message: String) {
  var line = "ember: error: \(message)\n"
  line.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
}

/// Prints a line on stderr.
func printNote(_ message: String) {
  var line = message + "\n"
  line.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
}

/// Runs a verb body, turning every known error into one stderr line and an exit code.
func reportingFailures(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let f as CLIFailure {
    printError(f.message)
    throw ExitCode(f.status)
  } catch let e as CSVInputError {
    printError(e.description)
    throw ExitCode(ExitStatus.badInput)
  } catch let e as EmberFormatError {
    printError(e.description)
    throw ExitCode(e.code == .io && e.message.hasPrefix("write") ? ExitStatus.io : ExitStatus.badModel)
  } catch let e as EmberRuntimeError {
    printError(e.description)
    throw ExitCode(e.code == .unusableModel ? ExitStatus.badModel : ExitStatus.badInput)
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

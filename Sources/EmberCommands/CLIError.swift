import EmberFormat
import EmberRuntime
import EmberText

// Writing to stderr is one of the few OS calls of the command code (through _EmberSystem).
import _EmberSystem

/// A failure of a command: a kind and the text printed after `ember: error: `. Every verb
/// throws only this; ``status`` is the one place where kinds become exit statuses.
public struct CLIError: Error, Sendable, CustomStringConvertible {
  /// What kind of failure, by cause (never decided by looking at the message).
  public enum Kind: Sendable {
    /// A command-line usage error: unknown option, missing or out-of-range value.
    case usage
    /// Bad input data: CSV syntax, values, missing columns, unknown labels, training data
    /// that cannot be trained on (including training that diverges).
    case badInput
    /// The model file is missing, unreadable, corrupted or invalid.
    case badModel
    /// An output could not be written.
    case output
  }

  /// The kind of failure.
  public let kind: Kind
  /// The message (one line).
  public let message: String

  /// Creates a failure.
  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }

  /// The process exit status: 1 bad input, 3 bad model, 4 output, 64 usage.
  public var status: Int32 {
    switch kind {
    case .badInput: 1
    case .badModel: 3
    case .output: 4
    case .usage: 64
    }
  }

  /// A failure to load or prepare the model at `path` (exit 3).
  public static func model(_ e: EmberFormatError) -> CLIError { CLIError(.badModel, e.description) }

  /// A failure to write an output (exit 4).
  public static func output(_ e: EmberFormatError) -> CLIError { CLIError(.output, e.description) }

  /// A text error: a failed write is an output failure (exit 4); every other code (open,
  /// read, syntax, limits) is bad input (exit 1).
  public static func text(_ e: TextError) -> CLIError {
    CLIError(e.code == .write ? .output : .badInput, e.description)
  }

  /// A runtime error about input data or options, prefixed with `place` (e.g. `file:3:2`):
  /// option errors are usage errors, a model the runtime cannot use is a bad model, every
  /// other code is bad input.
  public static func runtime(_ e: EmberRuntimeError, at place: String = "") -> CLIError {
    let kind: Kind =
      switch e.code {
      case .badOption: .usage
      case .unusableModel: .badModel
      case .missingColumns, .badValue, .unknownCategory, .unknownClass, .badRequest: .badInput
      }
    if kind == .usage { return CLIError(.usage, "--" + e.location.replacingUnderscores() + " " + e.message) }
    // A row error names its column: `file:3:1: column "x": expected a number, found "hello"`.
    let what =
      e.location == "header" ? e.message : e.column != nil && !e.location.isEmpty ? "column \"\(e.location)\": \(e.message)" : e.description
    return CLIError(kind, place.isEmpty ? what : place + ": " + what)
  }
}

extension String {
  /// `step_size` → `step-size` (schema names to option names).
  func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

/// Text as it may be printed on a terminal: control characters (C0, DEL, C1) become `\u{…}`
/// escapes, so a label or cell cannot move the cursor or hide text.
public func visible(_ s: String) -> String {
  guard s.unicodeScalars.contains(where: isControl) else { return s }
  var out = ""
  for u in s.unicodeScalars {
    if isControl(u) {
      out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
    } else {
      out.unicodeScalars.append(u)
    }
  }
  return out
}

@inline(__always)
private func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }

/// Writes bytes to a file descriptor, retrying short writes.
func writeAll(_ fd: Int32, _ text: String) {
  var text = text
  text.withUTF8 { p in _ = ember_sys_write_all(fd, p.baseAddress, p.count) }
}

/// Prints `ember: error: message` on stderr (control characters escaped).
public func printError(_ message: String) {
  writeAll(2, "ember: error: " + visible(message) + "\n")
}

/// Prints lines on stderr (control characters other than the line breaks escaped).
public func printNote(_ message: String) {
  writeAll(2, message.split(separator: "\n", omittingEmptySubsequences: false).map { visible(String($0)) }.joined(separator: "\n") + "\n")
}

/// Prints text on stdout.
func printOut(_ text: String) {
  writeAll(1, text)
}

/// Loads and prepares the session of the model at `path` (failures: exit 3).
func openSession(_ path: String) throws(CLIError) -> EmberSession {
  do {
    let session = try EmberSession(path: path)
    ProcessLifetime.sessions.append(session)
    return session
  } catch {
    throw CLIError.model(error)
  }
}

/// What a verb opens stays alive until the process exits: the process ends right after the
/// verb, and unmapping a model and freeing its packed weights and scratch (a few dozen
/// munmap calls) would only add to a short run's time (≈ 0.2 ms of a one-row `score`).
enum ProcessLifetime {
  nonisolated(unsafe) static var sessions: [EmberSession] = []
  nonisolated(unsafe) static var batches: [RowPipeline.Batch] = []
}

/// The index of class `label`, or a bad-input failure listing the classes.
func classIndex(_ label: String, in session: EmberSession) throws(CLIError) -> Int {
  guard let i = session.model.classIndex(of: label) else {
    throw CLIError(.badInput, "class \"\(label)\" is not in the model (classes: \(session.labels.joined(separator: ", ")))")
  }
  return i
}

/// Refuses an `--output` that names an existing input file (it would be destroyed).
func checkOutput(_ output: String?, against inputs: [String?]) throws(CLIError) {
  guard let output, output != "-" else { return }
  for case let input? in inputs where input != "-" && AtomicFile.sameFile(output, input) {
    throw CLIError(.usage, "--output \(output) is the same file as the input \(input): refusing to overwrite it")
  }
}

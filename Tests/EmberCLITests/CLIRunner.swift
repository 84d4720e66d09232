import Foundation
import XCTest

/// What one run of the `ember` binary did.
struct CLIResult {
  /// Exit status (when the process exited normally).
  let status: Int32
  /// The signal that killed it, if one did.
  let signal: Int32?
  /// Everything written to stdout.
  let stdoutData: Data
  /// Everything written to stderr.
  let stderrData: Data

  var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  var stderr: String { String(decoding: stderrData, as: UTF8.self) }
  /// Non-empty stderr lines.
  var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
  /// True when the process exited normally with status 0.
  var succeeded: Bool { signal == nil && status == 0 }
}

/// Runs the built `ember` executable, for CLI tests in any test file.
///
/// The binary is found next to the test bundle in the build directory (SwiftPM builds the
/// executable together with the tests), or at `$EMBER_BIN` when that is set.
enum CLIRunner {
  enum Failure: Error, CustomStringConvertible {
    case binaryNotFound([String])
    case timedOut([String], TimeInterval)
    var description: String {
      switch self {
      case .binaryNotFound(let tried): "ember binary not found (build it with `swift build`); tried \(tried)"
      case .timedOut(let args, let t): "ember \(args.joined(separator: " ")) did not finish in \(t) s"
      }
    }
  }

  /// Path of the `ember` executable under test.
  static func executablePath() throws -> String {
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["EMBER_BIN"], !env.isEmpty { candidates.append(env) }
    // The test runner is `<build>/debug/<Package>PackageTests.xctest`; `ember` sits beside it.
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    for _ in 0..<3 {
      candidates.append(dir.appendingPathComponent("ember").path)
      dir = dir.deletingLastPathComponent()
    }
    for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("ember").path) }
    for c in candidates where FileManager.default.isExecutableFile(atPath: c) {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), !isDir.boolValue { return c }
    }
    throw Failure.binaryNotFound(candidates)
  }

  /// Runs `ember args…`, feeding `stdin` (or nothing), and waits for it.
  /// - Parameters:
  ///   - arguments: Arguments after `ember`.
  ///   - stdin: Bytes on standard input; nil gives an empty, closed input.
  ///   - environment: Extra environment variables (merged over the current ones).
  ///   - directory: Working directory (default: the current one).
  ///   - timeout: Seconds before the process is killed and ``Failure/timedOut(_:_:)`` thrown.
  static func run(
    _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
    directory: String? = nil, timeout: TimeInterval = 300
  ) throws -> CLIResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try executablePath())
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    // Outputs go to temporary files: no pipe-buffer deadlocks whatever the output size.
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ember-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let outURL = tmp.appendingPathComponent("stdout")
    let errURL = tmp.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    let writer = DispatchQueue(label: "ember-cli-stdin")
    writer.async {
      if let stdin, !stdin.isEmpty { try? input.fileHandleForWriting.write(contentsOf: stdin) }
      try? input.fileHandleForWriting.close()
    }
    if done.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      _ = done.wait(timeout: .now() + 5)
      throw Failure.timedOut(arguments, timeout)
    }
    try? out.close()
    try? err.close()
    let signaled = process.terminationReason == .uncaughtSignal
    return CLIResult(
      status: signaled ? -1 : process.terminationStatus, signal: signaled ? process.terminationStatus : nil,
      stdoutData: (try? Data(contentsOf: outURL)) ?? Data(), stderrData: (try? Data(contentsOf: errURL)) ?? Data())
  }
}

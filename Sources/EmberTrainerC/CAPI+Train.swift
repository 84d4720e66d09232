import EmberC
import EmberCommands
import EmberFormat
import EmberRuntime
import EmberTrainArguments
import EmberTrainer
import Foundation

// The trainer's C API (include/ember_train.h): train in process from a CSV file or CSV text with
// `ember train`'s own option declaration, and hand back the model's bytes. Linked with the
// runtime's C API (ember.h) into libCEmberTrainer.so; errors are reported as there.

/// What an `ember_trained *` points to: a trained model's bytes and the run's summary.
final class TrainedHandle: @unchecked Sendable {
  let bytes: UnsafeMutableBufferPointer<UInt8>
  let summary: UnsafeMutablePointer<CChar>
  let summaryJSON: UnsafeMutablePointer<CChar>

  init(bytes: [UInt8], summary: TrainingSummary) {
    self.bytes = .allocate(capacity: max(bytes.count, 1))
    _ = self.bytes.initialize(from: bytes)
    self.summary = strdup(summary.text)!
    summaryJSON = strdup(summary.json)!
  }

  deinit {
    bytes.deallocate()
    free(summary)
    free(summaryJSON)
  }

  static func from(_ p: OpaquePointer?) -> TrainedHandle? {
    p.map { Unmanaged<TrainedHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
  }
}

/// `void (*)(void *context, const char *label, int32_t class_index, int32_t class_count,
/// int32_t phase, int32_t phases, int32_t step, int32_t steps, double loss)`.
public typealias ProgressCallback = @convention(c) (
  UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32, Int32, Int32, Int32, Int32, Int32, Double
) -> Void

/// A C progress callback made callable from the trainer's worker threads.
private struct Progress: @unchecked Sendable {
  let callback: ProgressCallback
  let context: UnsafeMutableRawPointer?

  func report(_ p: TrainingProgress) {
    // The callback reports training steps (ember_train.h): not the other stages' reports
    // (reading, base choice, scale, calibration, read-out) nor the trainer's closing report of a
    // class (`finished`, repeating its last step for the CLI's display).
    guard p.stage == .network, !p.finished else { return }
    p.label.withCString { label in
      callback(
        context, label, Int32(p.classIndex), Int32(p.classCount), Int32(p.phase), Int32(p.phases), Int32(p.epoch),
        Int32(p.epochs), p.loss)
    }
  }
}

/// The `nargs` C strings of `args`.
private func argumentStrings(_ args: UnsafePointer<UnsafePointer<CChar>?>?, _ nargs: Int) throws -> [String] {
  guard nargs >= 0 else { throw CAPIFailure(CAPIStatus.invalidArgument, "nargs is too large") }
  guard nargs > 0 else { return [] }
  let args = try emberRequired(args, "args")
  return try (0..<nargs).map { i in
    guard let a = args[i] else { throw CAPIFailure(CAPIStatus.invalidArgument, "args[\(i)] is NULL") }
    return String(cString: a)
  }
}

/// Parses option strings with `ember train`'s option table and scanner.
private func parseArguments(_ strings: [String]) throws -> ParsedArguments {
  do {
    return try TrainArguments.parse(strings)
  } catch {
    throw CAPIFailure(CAPIStatus.badOption, error.message)
  }
}

/// Trains with `strings` (option strings) through `run` (a file read in streaming passes, or
/// text held in memory), stores a new handle in `out`. Errors as
/// `ember train` reports them: bad options, bad data and training that diverged are
/// EMBER_E_BAD_OPTION / EMBER_E_BAD_DATA, an unreadable `--add-to` model a format status.
private func train(
  source: String, strings: [String], progress: Progress?, out: UnsafeMutablePointer<OpaquePointer?>,
  run: (TrainingOptions, (@Sendable (TrainingProgress) -> Void)?) throws -> (ModelSpec, TrainingSummary)
) throws {
  let parsed = try parseArguments(strings)
  let command = (["ember", "train", source] + strings).joined(separator: " ")
  let options = TrainArguments.trainingOptions(parsed, command: command)
  if let addTo = options.addTo { _ = try EmberSession(path: addTo) }
  do {
    let report: (@Sendable (TrainingProgress) -> Void)? = progress.map { p in { @Sendable in p.report($0) } }
    let (spec, summary) = try run(options, report)
    let bytes = try ModelWriter.serialize(spec)
    out.pointee = OpaquePointer(Unmanaged.passRetained(TrainedHandle(bytes: bytes, summary: summary)).toOpaque())
  } catch let e as TrainerError {
    throw CAPIFailure(e.code == .badOption ? CAPIStatus.badOption : CAPIStatus.badData, e.description)
  } catch let e as EmberFormatError {
    // The --add-to model was read above: a format error here is a trained model that breaks the
    // file's rules (non-finite or huge weights), as in `ember train`.
    throw CAPIFailure(CAPIStatus.badData, TrainArguments.divergence(e))
  }
}

/// `ember_status ember_train_csv(const char *csv_path, const char *const *args, size_t nargs,
/// ember_train_progress progress, void *context, ember_trained **out)`.
@_cdecl("ember_train_csv")
public func ember_train_csv(
  _ path: UnsafePointer<CChar>?, _ args: UnsafePointer<UnsafePointer<CChar>?>?, _ nargs: Int,
  _ progress: ProgressCallback?, _ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  out?.pointee = nil
  return emberCall("ember_train_csv") {
    let path = String(cString: try emberRequired(path, "csv_path"))
    let out = try emberRequired(out, "out")
    try train(
      source: path, strings: try argumentStrings(args, nargs),
      progress: progress.map { Progress(callback: $0, context: context) }, out: out
    ) { options, report in try Trainer.train(csvPath: path, options: options, progress: report) }
  }
}

/// `ember_status ember_train_text(const char *csv_text, size_t len, const char *source,
/// const char *const *args, size_t nargs, ember_train_progress progress, void *context,
/// ember_trained **out)`.
@_cdecl("ember_train_text")
public func ember_train_text(
  _ text: UnsafePointer<CChar>?, _ length: Int, _ source: UnsafePointer<CChar>?,
  _ args: UnsafePointer<UnsafePointer<CChar>?>?, _ nargs: Int,
  _ progress: ProgressCallback?, _ context: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  out?.pointee = nil
  return emberCall("ember_train_text") {
    guard length >= 0 else { throw CAPIFailure(CAPIStatus.invalidArgument, "len is too large") }
    let text = try emberRequired(text, "csv_text")
    let out = try emberRequired(out, "out")
    let name = source.map { String(cString: $0) } ?? "<data>"
    try train(
      source: name, strings: try argumentStrings(args, nargs),
      progress: progress.map { Progress(callback: $0, context: context) }, out: out
    ) { options, report in
      let bytes = UnsafeRawBufferPointer(start: text, count: length)
      guard let csv = String(validating: bytes, as: UTF8.self) else {
        throw TrainerError(.io, "the text is not UTF-8", file: name)
      }
      return try Trainer.train(table: try CSVTable.parse(csv, file: name), options: options, progress: report)
    }
  }
}

/// `const uint8_t *ember_trained_bytes(const ember_trained *, size_t *len)`: the model file's
/// bytes (owned by the handle); NULL for NULL.
@_cdecl("ember_trained_bytes")
public func ember_trained_bytes(_ trained: OpaquePointer?, _ length: UnsafeMutablePointer<Int>?) -> UnsafePointer<UInt8>? {
  guard let t = TrainedHandle.from(trained) else {
    length?.pointee = 0
    return nil
  }
  length?.pointee = t.bytes.count
  return UnsafePointer(t.bytes.baseAddress)
}

/// `const char *ember_trained_summary(const ember_trained *)`: the lines `ember train` prints.
@_cdecl("ember_trained_summary")
public func ember_trained_summary(_ trained: OpaquePointer?) -> UnsafePointer<CChar>? {
  TrainedHandle.from(trained).map { UnsafePointer($0.summary) }
}

/// `const char *ember_trained_summary_json(const ember_trained *)`: the summary as a JSON object.
@_cdecl("ember_trained_summary_json")
public func ember_trained_summary_json(_ trained: OpaquePointer?) -> UnsafePointer<CChar>? {
  TrainedHandle.from(trained).map { UnsafePointer($0.summaryJSON) }
}

/// `void ember_trained_free(ember_trained *)`; NULL is a no-op.
@_cdecl("ember_trained_free")
public func ember_trained_free(_ trained: OpaquePointer?) {
  guard let trained else { return }
  Unmanaged<TrainedHandle>.fromOpaque(UnsafeRawPointer(trained)).release()
}

nonisolated(unsafe) private let optionsJSON: UnsafeMutablePointer<CChar> = strdup(TrainArguments.declarationJSON)!

/// `const char *ember_train_options_json(void)`: the training options' declaration (static).
@_cdecl("ember_train_options_json")
public func ember_train_options_json() -> UnsafePointer<CChar> { UnsafePointer(optionsJSON) }

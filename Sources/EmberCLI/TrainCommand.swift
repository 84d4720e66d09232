import ArgumentParser
import EmberFormat
import EmberTrainArguments
import EmberTrainer
import Foundation

/// `ember train`: fit one energy network per class of a labelled CSV and write a `.ember` file.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a model: one energy network per class of a labelled CSV table.",
    discussion: """
      Reads DATA.csv (header row required), infers each column's kind (numeric, integer, \
      categorical), imputes missing cells (empty, NA, N/A, ?, NaN) with the mean or mode, holds \
      out 20% of every class for calibration and metrics, trains the classes in parallel and \
      writes the model atomically. With SOURCE_DATE_EPOCH set, the same data, options and seed \
      give byte-identical files. Exit status: 1 bad data or options, 3 unreadable --add-to \
      model, 4 the output could not be written.
      """)

  @Argument(help: "Training data: a CSV file with a header row.") var data: String
  @Option(name: .shortAndLong, help: "Output model (default: DATA with the extension .ember).") var output: String?
  /// Every training option, declared once in EmberTrainArguments (also parsed by the trainer C API).
  @OptionGroup var training: TrainArguments
  @Flag(help: "No progress display and no summary.") var quiet = false

  func run() throws {
    let options = training.trainingOptions(command: (["ember"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    let outputPath = output ?? Self.defaultOutput(for: data)

    let display = ProgressDisplay(enabled: !quiet && isatty(2) != 0)
    let spec: ModelSpec
    let summary: TrainingSummary
    do {
      (spec, summary) = try Trainer.train(csvPath: data, options: options, progress: display.enabled ? display.report : nil)
    } catch let e as TrainerError {
      display.finish()
      fail("\(e)", status: 1)
    } catch let e as EmberFormatError {
      display.finish()
      fail("cannot read the model to extend: \(e)", status: 3)
    }
    display.finish()
    do {
      try ModelWriter.write(spec, to: outputPath)
    } catch {
      fail("cannot write \(outputPath): \(error)", status: 4)
    }
    if !quiet {
      writeStderr(summary.text + "\nwrote \(outputPath)\n")
    }
  }

  /// `dir/name.csv` → `dir/name.ember`.
  static func defaultOutput(for data: String) -> String {
    let url = URL(fileURLWithPath: data)
    let base = url.deletingPathExtension().lastPathComponent
    let dir = (data as NSString).deletingLastPathComponent
    return dir.isEmpty ? base + ".ember" : dir + "/" + base + ".ember"
  }

  private func fail(_ message: String, status: Int32) -> Never {
    writeStderr("ember: error: \(message)\n")
    Foundation.exit(status)
  }
}

private func writeStderr(_ s: String) {
  FileHandle.standardError.write(s.data(using: .utf8)!)
}

/// A one-line progress display on a terminal: class, epoch, loss, ETA (redrawn ≤ 10×/s).
private final class ProgressDisplay: @unchecked Sendable {
  let enabled: Bool
  private let lock = NSLock()
  private var epochsDone: [Int: Int] = [:]
  private var started = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false

  init(enabled: Bool) { self.enabled = enabled }

  @Sendable func report(_ p: TrainingProgress) {
    lock.lock()
    defer { lock.unlock() }
    epochsDone[p.classIndex] = p.epoch
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.1 || p.epoch == p.epochs else { return }
    lastDraw = now
    let done = epochsDone.values.reduce(0, +)
    let total = max(p.epochs * p.classCount, 1)
    let elapsed = now.timeIntervalSince(started)
    let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
    let line =
      "\r\u{1B}[Ktraining class \(p.classIndex + 1)/\(p.classCount) \"\(p.label)\" epoch \(p.epoch)/\(p.epochs) "
      + String(format: "loss %.4f | %3.0f%% ETA %.0fs", p.loss, 100 * Double(done) / Double(total), eta)
    writeStderr(line)
    drawn = true
  }

  func finish() {
    lock.lock()
    defer { lock.unlock() }
    if drawn { writeStderr("\r\u{1B}[K") }
    drawn = false
  }
}

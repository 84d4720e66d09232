import ArgumentParser
import EmberFormat
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
  @Option(help: "Name of the label column.") var target: String
  @Option(name: .shortAndLong, help: "Output model (default: DATA with the extension .ember).") var output: String?
  @Option(help: "Random seed (split, initialisation, noise).") var seed: UInt64 = 0
  @Option(help: "Objective: nce (default) or tabebm.") var objective: String = "nce"
  @Option(help: "Hidden layer widths, comma-separated (default: two layers of 32, 64 or 128 units by class size).") var hidden: String = ""
  @Option(help: "Hidden activation: silu, relu, tanh, softplus, gelu.") var activation: String = "silu"
  @Option(help: "Full-batch training epochs per class.") var epochs: Int = 400
  @Option(help: "AdamW learning rate.") var lr: Double = 1e-3
  @Option(name: .customLong("weight-decay"), help: "AdamW weight decay.") var weightDecay: Double = 1e-3
  @Option(name: .customLong("min-class-rows"), help: "Classes with fewer rows are left out.") var minClassRows: Int = 10
  @Option(help: "Columns to read as categories (comma-separated).") var categorical: String = ""
  @Option(help: "Columns to read as real numbers (comma-separated).") var numeric: String = ""
  @Option(help: "Columns to leave out (comma-separated).") var ignore: String = ""
  @Flag(name: .customLong("no-starting-rows"), help: "Do not store training rows as chain starting points (privacy).")
  var noStartingRows = false
  @Option(name: .customLong("add-to"), help: "Extend this model with the CSV's classes it does not have yet.")
  var addTo: String?
  @Flag(name: .customLong("raw-energies"), help: "Classify with raw energies (T = 1, no per-class offsets fitted on held-out rows).")
  var rawEnergies = false

  @Flag(name: .customLong("no-stacked-readout"), help: "Do not try the stacked read-out (a C×C linear map of the energies fitted on held-out rows, kept only when it classifies held-out rows better).")
  var noStackedReadout = false
  @Flag(help: "After calibration, retrain every class on all its rows (calibration stays that of the held-out run).")
  var refit = false
  @Flag(help: "No progress display and no summary.") var quiet = false
  @Option(help: "Worker threads (default: one per core).") var threads: Int = 0

  func validate() throws {
    guard Objective(rawValue: objective) != nil else {
      throw ValidationError("unknown --objective \"\(objective)\" (nce, tabebm)")
    }
    guard let a = Activation(name: activation), a != .identity else {
      throw ValidationError("unknown --activation \"\(activation)\" (silu, relu, tanh, softplus, gelu)")
    }
    guard hidden.isEmpty || parseWidths(hidden) != nil else {
      throw ValidationError("--hidden takes positive widths separated by commas, e.g. 128,128")
    }
    guard epochs >= 0 else { throw ValidationError("--epochs must be ≥ 0") }
    guard lr > 0 else { throw ValidationError("--lr must be > 0") }
    guard weightDecay >= 0 else { throw ValidationError("--weight-decay must be ≥ 0") }
    guard minClassRows >= 1 else { throw ValidationError("--min-class-rows must be ≥ 1") }
    guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
  }

  func run() throws {
    var options = TrainingOptions(target: target)
    options.settings.objective = Objective(rawValue: objective)!
    options.settings.hidden = hidden.isEmpty ? [] : parseWidths(hidden)!
    options.settings.activation = Activation(name: activation)!
    options.settings.epochs = epochs
    options.settings.learningRate = lr
    options.settings.weightDecay = weightDecay
    options.seed = seed
    options.minClassRows = minClassRows
    options.overrides = ColumnOverrides(categorical: names(categorical), numeric: names(numeric), ignore: names(ignore))
    options.storeStartingRows = !noStartingRows
    options.addTo = addTo
    options.fitReadout = !rawEnergies
    options.stackedReadout = !rawEnergies && !noStackedReadout
    options.refit = refit
    options.threads = threads
    options.command = (["ember"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
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

  private func names(_ list: String) -> Set<String> {
    Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
  }

  private func parseWidths(_ s: String) -> [Int]? {
    let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else { return nil }
    return parts.map { $0! }
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
  private var done: [Int: Double] = [:]
  private var started = Date()
  private var lastDraw = Date.distantPast
  private var drawn = false

  init(enabled: Bool) { self.enabled = enabled }

  @Sendable func report(_ p: TrainingProgress) {
    lock.lock()
    defer { lock.unlock() }
    done[p.classIndex] = p.fraction
    let now = Date()
    guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
    lastDraw = now
    let fraction = done.values.reduce(0, +) / Double(max(p.classCount, 1))
    let elapsed = now.timeIntervalSince(started)
    let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
    let line =
      "\r\u{1B}[Ktraining class \(p.classIndex + 1)/\(p.classCount) \"\(p.label)\" phase \(p.phase)/\(p.phases) step \(p.epoch) "
      + String(format: "loss %.4f | %3.0f%% ETA %.0fs", p.loss, 100 * fraction, eta)
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

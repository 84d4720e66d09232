import EmberCommands
import EmberFormat
import EmberRuntime
import EmberTrainArguments
import EmberTrainer
import Foundation
import _EmberSystem

// `ember train`: its run, through the same runner as the device verbs. The training options are
// declared once in EmberTrainArguments (shared with the trainer C API and Python); the verb adds
// its own `--output`, `--quiet` and `--progress` (how the CLI displays progress).

extension OptionSpec {
  static let trainOutput = OptionSpec(
    "output", short: "o",
    help: "Output model (default: DATA with the extension .ember). Written atomically; an input file is never overwritten.")
  static let trainQuiet = flag("quiet", help: "No progress display and no summary.")
  static let progress = OptionSpec(
    "progress",
    help: "Progress on stderr: a bar redrawn in place, plain lines (a line per class finished and every 5 s), one JSON object per line, or none; auto is bar on a terminal, lines otherwise.",
    kind: .choice(ProgressMode.allCases.map(\.rawValue)), default: "auto")
}

extension Verb {
  /// `ember train DATA --target COLUMN`.
  static let train = Verb(
    VerbSpec(
      name: "train",
      abstract: "Train a model: one energy network per class of a labelled CSV table.",
      discussion: """
        Reads DATA.csv (header row required), infers each column's kind (numeric, integer, \
        categorical), imputes missing cells (empty, NA, N/A, na, ?, NaN, nan) with the mean or \
        mode, holds out 20% of every class for calibration and metrics, trains the classes in \
        parallel and writes the model atomically. With SOURCE_DATE_EPOCH set, the same data, \
        options and seed give byte-identical files. Exit status: 1 bad data or training that \
        diverged, 3 unreadable --add-to model, 4 the output could not be written, 64 usage.
        """,
      arguments: [ArgumentSpec("data", help: "Training data: a CSV file with a header row.")],
      options: TrainArguments.options.flatMap { $0.name == "target" ? [$0, .trainOutput] : [$0] } + [.trainQuiet, .progress])
  ) { p throws(CLIError) in try runTrain(p) }
}

/// Trains, then writes the model; every failure is mapped by its kind (never its message).
func runTrain(_ p: ParsedArguments) throws(CLIError) {
  let data = p.positional("data")
  let options = TrainArguments.trainingOptions(p, command: (["ember"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
  let output = p.string(.trainOutput) ?? defaultOutput(for: data)
  try checkTrainOutput(output, against: [data, options.addTo])
  if let addTo = options.addTo {
    do {
      _ = try EmberSession(path: addTo)
    } catch {
      throw CLIError(.badModel, "cannot read the model to extend: \(error.description)")
    }
  }

  // Scratch buffers above 128 KiB (network workspaces, chunked passes) go back to the system
  // when freed instead of staying in the heap once glibc's dynamic threshold has grown: the
  // peak RSS then follows the data (docs/TRAINING.md, "Memory").
  _ = ember_sys_set_mmap_threshold(128 * 1024)
  let quiet = p.flag(.trainQuiet)
  let mode = quiet ? .none : (p.string(.progress).flatMap(ProgressMode.init(rawValue:)) ?? .auto)
  let display = ProgressDisplay(mode: mode.resolved(stderrIsTerminal: isatty(2) != 0))
  display.note("reading \(data)")
  let spec: ModelSpec
  let summary: TrainingSummary
  do {
    // Streaming passes over the file (the schema, then the encoding): its text is never held.
    (spec, summary) = try Trainer.train(
      csvPath: data, options: options, progress: display.enabled ? display.report : nil)
  } catch let e as TrainerError {
    display.finish()
    throw CLIError(.badInput, e.description)
  } catch let e as EmberFormatError {
    // The --add-to model was read above: a format error here is a trained model that breaks
    // the file's rules (non-finite or huge weights): the training diverged.
    display.finish()
    throw diverged(e)
  } catch {
    display.finish()
    throw CLIError(.badInput, "training failed: \(error)")
  }
  display.finish()
  do {
    try ModelWriter.write(spec, to: output)
  } catch let e as EmberFormatError {
    throw e.code == .invalidDescription ? diverged(e) : CLIError(.output, "cannot write \(output): \(e.description)")
  } catch {
    throw CLIError(.output, "cannot write \(output): \(error)")
  }
  if !quiet { writeStderr(summary.text + "\nwrote \(output)\n") }
}

/// A trained model the file's rules refuse: a training error (exit 1), saying what diverged.
func diverged(_ e: EmberFormatError) -> CLIError { CLIError(.badInput, TrainArguments.divergence(e)) }

/// Refuses an output that is one of the inputs (`train DATA.csv --output DATA.csv`).
func checkTrainOutput(_ output: String, against inputs: [String?]) throws(CLIError) {
  for case let input? in inputs where AtomicFile.sameFile(output, input) {
    throw CLIError(.usage, "--output \(output) is the same file as the input \(input): refusing to overwrite it")
  }
}

/// `dir/name.csv` → `dir/name.ember`.
func defaultOutput(for data: String) -> String {
  let url = URL(fileURLWithPath: data)
  let base = url.deletingPathExtension().lastPathComponent
  let dir = (data as NSString).deletingLastPathComponent
  return dir.isEmpty ? base + ".ember" : dir + "/" + base + ".ember"
}

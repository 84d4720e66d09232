import EmberCommands
import EmberFormat
import EmberRuntime
import EmberTrainer
import Foundation

// `ember train`: its options (declared once, like every verb's) and its run, through the same
// runner as the device verbs.

extension OptionSpec {
  static let target = OptionSpec("target", help: "Name of the label column.", required: true)
  static let trainOutput = OptionSpec(
    "output", short: "o",
    help: "Output model (default: DATA with the extension .ember). Written atomically; an input file is never overwritten.")
  static let trainSeed = OptionSpec("seed", help: "Random seed (split, initialisation, noise).", kind: .seed, default: "0")
  static let objective = OptionSpec(
    "objective", help: "Objective: nce or tabebm.", kind: .choice(Objective.allCases.map(\.rawValue)), default: "nce")
  static let hidden = OptionSpec(
    "hidden", help: "Hidden layer widths, comma-separated (default: two layers of 32, 64 or 128 units by class size).",
    kind: .integers(1...4096))
  static let activation = OptionSpec(
    "activation", help: "Hidden activation.",
    kind: .choice(Activation.allCases.filter { $0 != .identity }.map(\.description)), default: "silu")
  static let epochs = OptionSpec(
    "epochs", help: "Full-batch training epochs per class.", kind: .integer(1...1_000_000), default: "400")
  static let lr = OptionSpec(
    "lr", help: "AdamW learning rate.", kind: .number(low: 0, high: 1, lowOpen: true), default: "0.001")
  static let weightDecay = OptionSpec(
    "weight-decay", help: "AdamW weight decay.", kind: .number(low: 0, high: 1, lowOpen: false), default: "0.001")
  static let minClassRows = OptionSpec(
    "min-class-rows", help: "Classes with fewer rows are left out.", kind: .integer(1...Int.max), default: "10")
  static let categorical = OptionSpec("categorical", help: "Columns to read as categories (comma-separated).", kind: .names)
  static let numeric = OptionSpec("numeric", help: "Columns to read as real numbers (comma-separated).", kind: .names)
  static let integer = OptionSpec(
    "integer",
    help: "Columns to read as whole numbers (comma-separated; samples come out whole). A numeric column whose values are all whole is one already, unless --numeric says otherwise.",
    kind: .names)
  static let ignore = OptionSpec("ignore", help: "Columns to leave out (comma-separated).", kind: .names)
  static let keepStartingRows = flag(
    "keep-starting-rows",
    help: "Store the training rows in the file as chain starting points (SMOTE-style starts; the file then holds training data).")
  static let noStartingRows = flag("no-starting-rows", help: "Do not store training rows (the default; accepted for scripts).")
  static let addTo = OptionSpec("add-to", help: "Extend this model with the CSV's classes it does not have yet.")
  static let rawEnergies = flag(
    "raw-energies", help: "Classify with raw energies (T = 1, no per-class offsets fitted on held-out rows).")
  static let noStackedReadout = flag(
    "no-stacked-readout",
    help: "Classify by temperature and per-class offsets on the energies, without the stacked read-out (a multinomial regression on the energies and the encoded row, fitted on held-out rows).")
  static let refit = flag(
    "refit", help: "After calibration, retrain every class on all its rows (calibration stays that of the held-out run).")
  static let trainQuiet = flag("quiet", help: "No progress display and no summary.")
  static let progress = OptionSpec(
    "progress",
    help: "Progress on stderr: a bar redrawn in place, plain lines (a line per class finished and every 5 s), one JSON object per line, or none; auto is bar on a terminal, lines otherwise.",
    kind: .choice(ProgressMode.allCases.map(\.rawValue)), default: "auto")
  static let maxSeconds = OptionSpec(
    "max-seconds",
    help: "Time budget of the whole run, in seconds: classes still training when their share runs out stop at their best held-out checkpoint; the summary and the file's metadata say which (such a run is not reproducible byte for byte).",
    kind: .number(low: 0, high: 1e9, lowOpen: true))
  static let maxClassRows = OptionSpec(
    "max-class-rows",
    help: "Most rows a class is fitted on; a larger class is fitted on a seeded random subset of this size (its prior still counts every row; 0: no limit).",
    kind: .integer(0...Int.max), default: String(ObjectiveSettings().maxClassRows))
  static let trainThreads = OptionSpec(
    "threads", help: "Worker threads (default: one per core).", kind: .integer(1...EmberSession.maximumThreads))
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
      options: [
        .target, .trainOutput, .trainSeed, .objective, .hidden, .activation, .epochs, .lr, .weightDecay, .minClassRows,
        .categorical, .numeric, .integer, .ignore, .keepStartingRows, .noStartingRows, .addTo, .rawEnergies, .noStackedReadout, .refit, .trainQuiet,
        .progress, .maxSeconds, .maxClassRows, .trainThreads,
      ])
  ) { p throws(CLIError) in try runTrain(p) }
}

/// Trains, then writes the model; every failure is mapped by its kind (never its message).
func runTrain(_ p: ParsedArguments) throws(CLIError) {
  let data = p.positional("data")
  var options = TrainingOptions(target: p.string(.target) ?? "")
  options.settings.objective = p.string(.objective).flatMap(Objective.init(rawValue:)) ?? .nce
  options.settings.hidden = p.ints(.hidden)
  options.settings.activation = p.string(.activation).flatMap(Activation.init(name:)) ?? .silu
  options.settings.epochs = p.int(.epochs) ?? 400
  options.settings.learningRate = p.double(.lr) ?? 1e-3
  options.settings.weightDecay = p.double(.weightDecay) ?? 1e-3
  options.seed = p.uint64(.trainSeed) ?? 0
  options.minClassRows = p.int(.minClassRows) ?? 10
  options.overrides = ColumnOverrides(
    categorical: Set(p.names(.categorical)), numeric: Set(p.names(.numeric)), ignore: Set(p.names(.ignore)),
    integer: Set(p.names(.integer)))
  options.storeStartingRows = p.flag(.keepStartingRows) && !p.flag(.noStartingRows)
  options.addTo = p.string(.addTo)
  options.fitReadout = !p.flag(.rawEnergies)
  options.stackedReadout = !p.flag(.rawEnergies) && !p.flag(.noStackedReadout)
  options.refit = p.flag(.refit)
  options.threads = p.int(.trainThreads) ?? 0
  options.maxSeconds = p.double(.maxSeconds)
  options.settings.maxClassRows = p.int(.maxClassRows) ?? options.settings.maxClassRows
  options.command = (["ember"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
  let output = p.string(.trainOutput) ?? defaultOutput(for: data)
  try checkTrainOutput(output, against: [data, options.addTo])
  if let addTo = options.addTo {
    do {
      _ = try EmberSession(path: addTo)
    } catch {
      throw CLIError(.badModel, "cannot read the model to extend: \(error.description)")
    }
  }

  let quiet = p.flag(.trainQuiet)
  let mode = quiet ? .none : (p.string(.progress).flatMap(ProgressMode.init(rawValue:)) ?? .auto)
  let display = ProgressDisplay(mode: mode.resolved(stderrIsTerminal: isatty(2) != 0))
  display.note("reading \(data)")
  let spec: ModelSpec
  let summary: TrainingSummary
  do {
    let reading = Date()
    let table = try CSVTable.read(path: data)
    let spent = Date().timeIntervalSince(reading)
    display.note(
      "read \(table.rows.count) rows × \(table.header.count) columns in \(String(format: "%.1f", spent)) s; encoding, then fitting each class's base and network")
    (spec, summary) = try Trainer.train(
      table: table, options: options, secondsSpent: spent, progress: display.enabled ? display.report : nil)
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
func diverged(_ e: EmberFormatError) -> CLIError {
  CLIError(
    .badInput,
    "training diverged: the trained model is not usable (\(e.message) [\(e.location)]); lower --lr or check the data for extreme values")
}

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

import EmberCommands
import EmberFormat
import EmberRuntime
import EmberText
import EmberTrainer
import Foundation

// `ember train`'s training options, declared once in the option table (`OptionSpec`), and their
// mapping onto the trainer's `TrainingOptions`. The `ember` CLI lists them in its `train` verb
// (with its own `--output` and `--quiet`); the trainer C API parses CLI-style strings with the
// same table and scanner, and describes the table to hosts (`ember_train_options_json`), from
// which the Python package derives its keyword arguments and estimator hyper-parameters. A new
// training option is one `static let` below, listed in `TrainArguments.options`, and read in
// `TrainArguments.trainingOptions`: the CLI, C and Python pick it up from there.

extension OptionSpec {
  public static let target = OptionSpec("target", help: "Name of the label column.", required: true)
  public static let trainSeed = OptionSpec(
    "seed", help: "Random seed (split, initialisation, noise).", kind: .seed, default: "0")
  public static let objective = OptionSpec(
    "objective", help: "Objective: nce or tabebm.", kind: .choice(Objective.allCases.map(\.rawValue)), default: "nce")
  public static let hidden = OptionSpec(
    "hidden", help: "Hidden layer widths, comma-separated (default: two layers of 32, 64 or 128 units by class size).",
    kind: .integers(1...4096))
  public static let activation = OptionSpec(
    "activation", help: "Hidden activation.",
    kind: .choice(Activation.allCases.filter { $0 != .identity }.map(\.description)), default: "silu")
  public static let epochs = OptionSpec(
    "epochs", help: "Full-batch training epochs per class.", kind: .integer(1...1_000_000), default: "400")
  public static let lr = OptionSpec(
    "lr", help: "AdamW learning rate.", kind: .number(low: 0, high: 1, lowOpen: true), default: "0.001")
  public static let weightDecay = OptionSpec(
    "weight-decay", help: "AdamW weight decay.", kind: .number(low: 0, high: 1, lowOpen: false), default: "0.001")
  public static let minClassRows = OptionSpec(
    "min-class-rows", help: "Classes with fewer rows are left out.", kind: .integer(1...Int.max), default: "10")
  public static let categorical = OptionSpec(
    "categorical", help: "Columns to read as categories (comma-separated).", kind: .names)
  public static let numeric = OptionSpec("numeric", help: "Columns to read as real numbers (comma-separated).", kind: .names)
  public static let integer = OptionSpec(
    "integer",
    help: "Columns to read as whole numbers (comma-separated; samples come out whole). A numeric column whose values are all whole is one already, unless --numeric says otherwise.",
    kind: .names)
  public static let ignore = OptionSpec("ignore", help: "Columns to leave out (comma-separated).", kind: .names)
  public static let keepStartingRows = flag(
    "keep-starting-rows",
    help: "Store the training rows in the file as chain starting points (SMOTE-style starts; the file then holds training data).")
  public static let noStartingRows = flag(
    "no-starting-rows", help: "Do not store training rows (the default; accepted for scripts).")
  public static let addTo = OptionSpec("add-to", help: "Extend this model with the CSV's classes it does not have yet.")
  public static let rawEnergies = flag(
    "raw-energies", help: "Classify with raw energies (T = 1, no per-class offsets fitted on held-out rows).")
  public static let noStackedReadout = flag(
    "no-stacked-readout",
    help: "Classify by temperature and per-class offsets on the energies, without the stacked read-out (a multinomial regression on the energies and the encoded row, fitted on held-out rows).")
  public static let refit = flag(
    "refit", help: "After calibration, retrain every class on all its rows (calibration stays that of the held-out run).")
  public static let maxSeconds = OptionSpec(
    "max-seconds",
    help: "Time budget of the whole run, in seconds: classes still training when their share runs out stop at their best held-out checkpoint; the summary and the file's metadata say which (such a run is not reproducible byte for byte).",
    kind: .number(low: 0, high: 1e9, lowOpen: true))
  public static let maxClassRows = OptionSpec(
    "max-class-rows",
    help: "Most rows a class is fitted on; a larger class is fitted on a seeded random subset of this size (its prior still counts every row; 0: no limit).",
    kind: .integer(0...Int.max), default: String(ObjectiveSettings().maxClassRows))
  public static let maxSteps = OptionSpec(
    "max-steps",
    help: "Most optimiser steps of one network training run (a cross-fitting fold, the held-out split or a refit), whatever the data size; a run usually stops earlier, at its best held-out loss.",
    kind: .integer(1...Int.max), default: String(ObjectiveSettings().maxSteps))
  public static let noDequantize = flag(
    "no-dequantize",
    help: "Fit class bases to whole-number and category columns as they are: no lattice variance (spacing²/12) in the covariance and no uniform noise on the held-out rows that choose the base (what models before round 7 did).")
  public static let trainThreads = OptionSpec(
    "threads", help: "Worker threads (default: one per core).", kind: .integer(1...EmberSession.maximumThreads))
}

/// The training options of `ember train`, declared once (see the top of this file).
public enum TrainArguments {
  /// Every training option, in help order: what `ember train` takes besides its data path,
  /// `--output` and `--quiet`, and all that the trainer C API and Python accept.
  public static let options: [OptionSpec] = [
    .target, .trainSeed, .objective, .hidden, .activation, .epochs, .lr, .weightDecay, .minClassRows, .categorical,
    .numeric, .integer, .ignore, .keepStartingRows, .noStartingRows, .addTo, .rawEnergies, .noStackedReadout, .refit,
    .maxSeconds, .maxClassRows, .maxSteps, .noDequantize, .trainThreads,
  ]

  /// The training options as a verb of their own, for scanning CLI-style strings in hosts.
  public static let spec = VerbSpec(
    name: "train", abstract: "Train a model: one energy network per class of a labelled CSV table.", arguments: [],
    options: options)

  /// Parses CLI-style `arguments` (no data path), e.g. `["--target=y", "--hidden=64,64"]`, with
  /// the scanner of both CLIs. Throws a usage ``CLIError`` with the scanner's message (the
  /// one `ember train` prints).
  public static func parse(_ arguments: [String]) throws(CLIError) -> ParsedArguments {
    try spec.parse(arguments)
  }

  /// The trainer's options from parsed arguments (of `spec` or of a verb that lists
  /// ``options``); `command` is recorded in the model's provenance. An absent option takes its
  /// declared default (or the trainer's, when the table declares none).
  public static func trainingOptions(_ p: ParsedArguments, command: String) -> TrainingOptions {
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
    options.settings.maxSteps = p.int(.maxSteps) ?? options.settings.maxSteps
    options.command = command
    if p.flag(.noDequantize) { options.settings.dequantization = Dequantization() }
    return options
  }

  /// The message for a trained model the file's rules refuse (non-finite or huge weights):
  /// the training diverged — a training error, saying what diverged.
  public static func divergence(_ e: EmberFormatError) -> String {
    "training diverged: the trained model is not usable (\(e.message) [\(e.location)]); lower --lr or check the data for extreme values"
  }

  /// The table as JSON, for hosts that map their own keywords onto it:
  /// `{"options": [{"name": "weight-decay", "flag": false, "required": false, "default": "0.001",
  /// "help": "…", "choices": […]}, …]}` (long names without dashes; `default` null when the
  /// trainer picks the value itself; `choices` only for options taking one of a list of words).
  public static var declarationJSON: String {
    let entries = options.map { o -> String in
      var entry =
        "{\"name\":\(JSONText.quoted(o.name)),\"flag\":\(o.isFlag),\"required\":\(o.required),"
        + "\"default\":\(o.defaultValue.map(JSONText.quoted) ?? "null"),\"help\":\(JSONText.quoted(o.help))"
      if !o.choices.isEmpty { entry += ",\"choices\":[" + o.choices.map(JSONText.quoted).joined(separator: ",") + "]" }
      return entry + "}"
    }
    return "{\"options\":[" + entries.joined(separator: ",") + "]}"
  }
}

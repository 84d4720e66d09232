import EmberFormat

/// The version both front ends print for `--version`.
public let emberVersion = "0.1.0"

/// One option or flag of a verb, as both front ends show and parse it.
public struct OptionSpec: Sendable {
  /// Long name without dashes, e.g. `step-size`.
  public let name: String
  /// Short name, e.g. `o` for `-o`.
  public let short: Character?
  /// Placeholder shown in help, e.g. `step-size`; nil for a flag (takes no value).
  public let value: String?
  /// Help text.
  public let help: String
  /// May be given several times (values accumulate); otherwise the last one wins.
  public let repeatable: Bool
  /// Shown as `(default: …)` in `ember-edge` help.
  public let defaultText: String?
  /// The accepted values, when they are a fixed list (shown as `(values: …)`).
  public let choices: [String]

  /// Creates an option spec.
  public init(
    _ name: String, short: Character? = nil, value: String?, help: String, repeatable: Bool = false,
    default defaultText: String? = nil, choices: [String] = []
  ) {
    self.name = name
    self.short = short
    self.value = value
    self.help = help
    self.repeatable = repeatable
    self.defaultText = defaultText
    self.choices = choices
  }

  /// True for a flag (no value).
  public var isFlag: Bool { value == nil }
}

/// One positional argument of a verb.
public struct ArgumentSpec: Sendable {
  /// Placeholder, e.g. `model`.
  public let name: String
  /// Help text.
  public let help: String
  /// Value when omitted; nil when the argument is required.
  public let defaultValue: String?

  /// Creates a positional argument spec.
  public init(_ name: String, help: String, default defaultValue: String? = nil) {
    self.name = name
    self.help = help
    self.defaultValue = defaultValue
  }
}

/// Name, help texts, positionals and options of one verb: the single source of the help text
/// for `ember` (swift-argument-parser) and `ember-edge` (hand-written parser).
public struct VerbSpec: Sendable {
  /// The verb, e.g. `score`.
  public let name: String
  /// One-line summary.
  public let abstract: String
  /// Longer explanation (may be empty).
  public let discussion: String
  /// Positional arguments in order.
  public let arguments: [ArgumentSpec]
  /// Options and flags.
  public let options: [OptionSpec]

  /// The help text of the option `--name` or the argument `<name>`; traps on a name the verb
  /// lacks (a programming error caught by any run of the verb).
  public func help(_ name: String) -> String {
    if let o = options.first(where: { $0.name == name }) { return o.help }
    if let a = arguments.first(where: { $0.name == name }) { return a.help }
    preconditionFailure("verb \(self.name) has no option or argument \(name)")
  }

  /// The option with this long name.
  public func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
  /// The option with this short name.
  public func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
}

extension VerbSpec {
  static let modelArgument = ArgumentSpec("model", help: "The model file.")
  static let modelFileArgument = ArgumentSpec("model", help: "The .ember model file.")
  static let inputArgument = ArgumentSpec("input", help: "Input CSV with a header row ('-' for standard input).", default: "-")
  static let outputOption = OptionSpec("output", short: "o", value: "output", help: "Output CSV (default: standard output). Written atomically.")

  /// Options of ``RowInputOptions`` (score, classify, energy).
  public static let rowInputOptions: [OptionSpec] = [
    OptionSpec("delimiter", value: "delimiter", help: "Field delimiter: one character, or \\t for tab.", default: ","),
    OptionSpec("unknown-as-missing", value: nil, help: "Impute categories the model does not know instead of failing."),
    OptionSpec("nan-as-missing", value: nil, help: "Treat NaN cells as missing (imputed) instead of failing."),
    OptionSpec("threads", value: "threads", help: "Threads to split rows across (default: all cores)."),
    OptionSpec("stream", value: nil, help: "Read rows one at a time and write each result at once (pipelines, sensors)."),
    OptionSpec(
      "on-error", value: "on-error",
      help: "On a bad row: stop (exit non-zero) or skip (report it on stderr and go on). Default: stop, or skip with --stream.",
      choices: OnError.allCases.map(\.rawValue)),
    OptionSpec("keep", value: "keep", help: "Input columns to copy into the output, comma-separated (e.g. an id)."),
  ]

  /// `ember verify`.
  public static let verify = VerbSpec(
    name: "verify",
    abstract: "Check a model file completely: structure, version, checksum, values.",
    discussion: """
      Prints `OK MODEL (N classes, M features, SIZE bytes)` and exits 0 when the file is valid.
      Otherwise prints one line `ember: error: CODE: MESSAGE [LOCATION]` on stderr and exits 3.
      CODE is one of: io, truncated, notAModel, malformed, unsupportedVersion, checksumMismatch,
      invalid (see docs/FORMAT.md), or unusableModel when the values cannot be computed with.
      """,
    arguments: [modelFileArgument], options: [])

  /// `ember inspect`.
  public static let inspect = VerbSpec(
    name: "inspect",
    abstract: "Summarise a model: version, provenance, features, classes, networks, calibration.",
    discussion: "",
    arguments: [modelFileArgument],
    options: [OptionSpec("json", value: nil, help: "Print one JSON object instead of text.")])

  /// `ember score`.
  public static let score = VerbSpec(
    name: "score",
    abstract: "Score rows for anomaly / out-of-distribution (higher = more anomalous).",
    discussion: """
      score = −log Σ_c π_c·exp(−E_c(x)), the negative log density of the prior-weighted mixture \
      of class energy models. Output columns: score, percentile (0–100, against held-out \
      in-distribution scores stored in the model), anomaly (1 when score > threshold), \
      nearest_class (the most probable class); with --energies one energy_<label> column per \
      class. Rows come out in input order.
      """,
    arguments: [modelArgument, inputArgument],
    options: [
      outputOption,
      OptionSpec("threshold", value: "threshold", help: "Anomaly threshold on the score (default: the model's calibrated threshold)."),
      OptionSpec("energies", value: nil, help: "Add one energy_<label> column per class."),
    ] + rowInputOptions)

  /// `ember classify`.
  public static let classify = VerbSpec(
    name: "classify",
    abstract: "Classify rows with the class energies.",
    discussion: """
      p(c|x) ∝ exp(−E_c(x)/T + log π_c + offset_c) with the model's temperature T and offsets. \
      Output columns: label, then p_<label> for every class. Rows come out in input order.
      """,
    arguments: [modelArgument, inputArgument],
    options: [outputOption, OptionSpec("label-only", value: nil, help: "Write only the label column.")] + rowInputOptions)

  /// `ember energy`.
  public static let energy = VerbSpec(
    name: "energy",
    abstract: "Print the encoded row, its class energies and, optionally, their input gradients.",
    discussion: """
      For each input row: the encoded values (enc_<i>), E_<label> for every class and, with \
      --gradient, dE_<label>_<i> = ∂E_label/∂enc_i for the chosen classes. Used to cross-check \
      the runtime against tools/python's numpy reference.
      """,
    arguments: [modelArgument, inputArgument],
    options: [
      outputOption,
      OptionSpec("gradient", value: nil, help: "Add input gradients."),
      OptionSpec("class", value: "class", help: "Classes whose gradients to print (default: all).", repeatable: true),
    ] + rowInputOptions)

  /// `ember sample`.
  public static let sample = VerbSpec(
    name: "sample",
    abstract: "Generate synthetic rows with SGLD-family samplers on the class energies.",
    discussion: """
      Writes the training CSV's columns (target included) in raw units: categories as strings, \
      integers as integers, values clipped to the observed training range. Without --class, \
      rows are drawn for every class in proportion to the class priors. Defaults for every \
      sampler setting come from the model file. The same --seed gives byte-identical output \
      whatever --threads is. Rows are written as they are produced (memory does not grow with \
      --count). A summary (chains, restarts after divergence, MALA acceptance) goes to stderr.
      """,
    arguments: [modelArgument],
    options: [
      OptionSpec("count", value: "count", help: "Number of rows to generate."),
      OptionSpec("class", value: "class", help: "Generate only this class label (repeatable).", repeatable: true),
      OptionSpec("seed", value: "seed", help: "Random seed.", default: "0"),
      outputOption,
      OptionSpec("sampler", value: "sampler", help: "Sampler: tabebm, langevin or mala (default: the model's).",
        choices: SamplerKind.allCases.map(\.description)),
      OptionSpec("steps", value: "steps", help: "Steps per chain."),
      OptionSpec("step-size", value: "step-size", help: "Step size ε (gradient multiplier)."),
      OptionSpec("noise", value: "noise", help: "Per-step noise standard deviation (default: the model's, or √(2εT))."),
      OptionSpec("temperature", value: "temperature", help: "Temperature T (Langevin, MALA)."),
      OptionSpec("init-noise", value: "init-noise", help: "Noise added to starting rows (standard deviation, encoded units)."),
      OptionSpec("grad-clip", value: "grad-clip", help: "Gradient-norm clip (0 = off)."),
      OptionSpec(
        "init-from", value: "init-from",
        help: "Start chains at stored rows, at draws from the base term, or SMOTE-style between a stored row and a near neighbour (interpolate).",
        choices: InitChoice.allCases.map(\.rawValue)),
      OptionSpec("init-csv", value: "init-csv", help: "Start chains at rows of this CSV (its target column, if present, picks rows per class)."),
      OptionSpec("threads", value: "threads", help: "Threads (default: all cores). Output does not depend on it."),
      OptionSpec("delimiter", value: "delimiter", help: "Field delimiter of --init-csv.", default: ","),
      OptionSpec("quiet", value: nil, help: "No summary on stderr."),
    ])

  /// `ember bench`.
  public static let bench = VerbSpec(
    name: "bench",
    abstract: "Measure energy, energy+gradient and SGLD throughput on a model.",
    discussion: """
      For one class's energy (network + base term): rows/s for energy alone and for energy plus \
      input gradient at each batch size, the full score path (all classes + free energy) in \
      rows/s, and an SGLD job (--chains chains × --steps Langevin steps) in samples/s and \
      seconds; then peak RSS. Rows are drawn from the class's starting rows (or base). \
      --json prints an object (one batch size) or an array of objects.
      """,
    arguments: [modelArgument],
    options: [
      OptionSpec("class", value: "class-label", help: "Class label to benchmark (default: the first)."),
      OptionSpec("threads", value: "threads", help: "Threads (default 1).", default: "1"),
      OptionSpec("batch", value: "batch", help: "Batch sizes, comma-separated.", default: "1,1024"),
      OptionSpec("seconds", value: "seconds", help: "Seconds to spend on each measurement.", default: "1.0"),
      OptionSpec("chains", value: "chains", help: "SGLD chains.", default: "500"),
      OptionSpec("steps", value: "steps", help: "SGLD steps per chain.", default: "200"),
      OptionSpec("json", value: nil, help: "Print JSON."),
    ])

  /// Every verb the device binary has (all but `train`), in help order.
  public static let deviceVerbs: [VerbSpec] = [inspect, verify, score, classify, sample, bench, energy]
}

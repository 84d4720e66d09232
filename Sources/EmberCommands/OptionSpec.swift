import EmberFormat
import EmberRuntime

/// The version both front ends print for `--version`.
public let emberVersion = "0.1.0"

/// How an option's value is read and checked. The scanner checks every value against its
/// kind before a verb runs, so a bad value is always a usage error (exit 64) with one message
/// form, in `ember` and `ember-edge` alike.
public enum ValueKind: Sendable {
  /// No value.
  case flag
  /// Any text (a path, a label).
  case text
  /// A decimal integer in the range.
  case integer(ClosedRange<Int>)
  /// An unsigned 64-bit integer.
  case seed
  /// A finite decimal number in [low, high] (or (low, high] when `lowOpen`).
  case number(low: Double, high: Double, lowOpen: Bool)
  /// One of these words.
  case choice([String])
  /// Comma-separated integers in the range, at least one, no empty items.
  case integers(ClosedRange<Int>)
  /// Comma-separated names, no empty items (the empty string: none).
  case names
  /// One character other than a quote or a line break; `\t` for tab.
  case character

  /// Why `text` is not a valid value, or nil when it is.
  func problem(_ text: String) -> String? {
    switch self {
    case .flag, .text: return nil
    case .integer(let r):
      guard let v = Int(text), r.contains(v) else { return "expected an integer in \(ValueKind.range(r))" }
      return nil
    case .seed:
      return UInt64(text) == nil ? "expected an integer in 0…18446744073709551615" : nil
    case .number(let low, let high, let lowOpen):
      guard case .value(let v) = RawNumber.parse(text), lowOpen ? v > low : v >= low, v <= high else {
        return "expected a number in \(lowOpen ? "(" : "[")\(ValueKind.number(low)), \(ValueKind.number(high))]"
      }
      return nil
    case .choice(let words):
      return words.contains(text) ? nil : "expected one of " + words.map { "'" + $0 + "'" }.joined(separator: ", ")
    case .integers(let r):
      let parts = text.split(separator: ",", omittingEmptySubsequences: false)
      guard !parts.isEmpty, parts.allSatisfy({ Int($0).map(r.contains) ?? false }) else {
        return "expected integers in \(ValueKind.range(r)) separated by commas, e.g. \(r.lowerBound),\(r.upperBound)"
      }
      return nil
    case .names:
      guard text.isEmpty || !text.split(separator: ",", omittingEmptySubsequences: false).contains(where: { $0.isEmpty }) else {
        return "expected names separated by commas, without empty names"
      }
      return nil
    case .character:
      let d = text == "\\t" ? "\t" : text
      guard d.utf8.count == 1, let b = d.utf8.first, b != 0x22, b != 0x0A, b != 0x0D else {
        return "expected a single character other than a quote or a line break (\\t for tab)"
      }
      return nil
    }
  }

  static func range(_ r: ClosedRange<Int>) -> String {
    r.upperBound == Int.max ? "\(r.lowerBound)…" : "\(r.lowerBound)…\(r.upperBound)"
  }

  static func number(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
    return Float(v).description
  }
}

/// One option or flag of a verb: its name, help, the kind of value it takes and its default.
/// Declared once (the static members below and in the `ember` target for `train`), it
/// drives parsing, checking and help text of both `ember` and `ember-edge`.
public struct OptionSpec: Sendable {
  /// Long name without dashes, e.g. `step-size`.
  public let name: String
  /// Short name, e.g. `o` for `-o`.
  public let short: Character?
  /// Placeholder shown in help, e.g. `step-size`; nil for a flag.
  public let value: String?
  /// Help text.
  public let help: String
  /// How the value is read and checked.
  public let kind: ValueKind
  /// May be given several times (values accumulate); otherwise the last one wins.
  public let repeatable: Bool
  /// The value used when the option is absent (also shown as `(default: …)`).
  public let defaultValue: String?
  /// Must be given.
  public let required: Bool

  /// Creates an option spec.
  public init(
    _ name: String, short: Character? = nil, value: String? = nil, help: String, kind: ValueKind = .text,
    repeatable: Bool = false, default defaultValue: String? = nil, required: Bool = false
  ) {
    self.name = name
    self.short = short
    if case .flag = kind { self.value = nil } else { self.value = value ?? name }
    self.help = help
    self.kind = kind
    self.repeatable = repeatable
    self.defaultValue = defaultValue
    self.required = required
  }

  /// A flag (no value).
  public static func flag(_ name: String, help: String) -> OptionSpec { OptionSpec(name, help: help, kind: .flag) }

  /// True for a flag.
  public var isFlag: Bool { value == nil }

  /// The accepted words, when the value is one of a fixed list.
  public var choices: [String] {
    if case .choice(let words) = kind { return words }
    return []
  }
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

/// Name, help texts, positionals and options of one verb.
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

  /// Creates a verb spec.
  public init(name: String, abstract: String, discussion: String = "", arguments: [ArgumentSpec], options: [OptionSpec]) {
    self.name = name
    self.abstract = abstract
    self.discussion = discussion
    self.arguments = arguments
    self.options = options
  }

  /// The option with this long name.
  public func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
  /// The option with this short name.
  public func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
}

// MARK: - The options of the device verbs (each declared once)

extension ArgumentSpec {
  static let model = ArgumentSpec("model", help: "The .ember model file.")
  static let input = ArgumentSpec("input", help: "Input CSV with a header row ('-' for standard input).", default: "-")
}

extension OptionSpec {
  /// Threads: the cap every verb and the C API share.
  static let threadRange = 1...EmberSession.maximumThreads

  public static let output = OptionSpec(
    "output", short: "o",
    help: "Output CSV (default: standard output). A regular file is replaced atomically; a device or pipe is written directly; an input file is never overwritten.")
  public static let threshold = OptionSpec(
    "threshold", help: "Anomaly threshold on the score (default: the model's calibrated threshold).",
    kind: .number(low: -ModelLimits.rawMagnitude, high: ModelLimits.rawMagnitude, lowOpen: false))
  public static let energies = flag("energies", help: "Add one energy_<label> column per class.")
  public static let delimiter = OptionSpec(
    "delimiter", help: "Field delimiter: one character, or \\t for tab.", kind: .character, default: ",")
  public static let unknownCategory = OptionSpec(
    "unknown-category",
    help: "A category never seen in training: read it as missing and flag the row (missing), or stop with an error (error).",
    kind: .choice(UnknownCategoryPolicy.allCases.map { $0.rawValue }), default: "missing")
  public static let unknownAsMissing = flag("unknown-as-missing", help: "Deprecated: unknown categories are read as missing by default.")
  public static let nanAsMissing = flag("nan-as-missing", help: "Deprecated: NaN cells are missing by default, as in training.")
  public static let rowThreads = OptionSpec(
    "threads", help: "Threads to split rows across (default: all cores; at most the cores are used).",
    kind: .integer(threadRange))
  public static let stream = flag("stream", help: "Read rows one at a time and write each result at once (pipelines, sensors).")
  public static let onError = OptionSpec(
    "on-error", help: "On a bad row: stop (exit non-zero) or skip (report it on stderr and go on). Default: stop, or skip with --stream.",
    kind: .choice(OnError.allCases.map { $0.rawValue }))
  public static let keep = OptionSpec(
    "keep", help: "Input columns to copy into the output, comma-separated (e.g. an id).", kind: .names)
  public static let labelOnly = flag("label-only", help: "Write only the label column.")
  public static let gradient = flag("gradient", help: "Add input gradients.")
  public static let gradientClass = OptionSpec(
    "class", help: "Classes whose gradients to print (default: all).", repeatable: true)
  public static let count = OptionSpec(
    "count", help: "Number of rows to generate.", kind: .integer(1...1_000_000_000), required: true)
  public static let sampleClass = OptionSpec(
    "class", help: "Generate only this class label (repeatable).", repeatable: true)
  public static let seed = OptionSpec("seed", help: "Random seed.", kind: .seed, default: "0")
  public static let sampler = OptionSpec(
    "sampler", help: "Sampler: tabebm, langevin or mala (default: the model's).",
    kind: .choice(SamplerKind.allCases.map { $0.description }))
  public static let steps = OptionSpec(
    "steps", help: "Steps per chain (with --given/--where: sweeps per chain, default 30).", kind: .integer(SamplerDefaults.stepRange))
  public static let stepSize = OptionSpec(
    "step-size", help: "Step size ε (gradient multiplier).",
    kind: .number(low: 0, high: Double(SamplerDefaults.maximumStepSize), lowOpen: true))
  public static let noise = OptionSpec(
    "noise", help: "Per-step noise standard deviation (default: the model's, or √(2εT)).",
    kind: .number(low: 0, high: Double(SamplerDefaults.maximumNoise), lowOpen: false))
  public static let temperature = OptionSpec(
    "temperature",
    help: "Temperature T (default: the model's): Langevin/MALA target e^(−E/T); chains from the base draw with each base component's covariance × T and weigh independence proposals by (E_base − E)/T. T < 1 concentrates rows, T = 1 is the fitted energy.",
    kind: .number(low: 0, high: Double(SamplerDefaults.maximumTemperature), lowOpen: true))
  public static let initNoise = OptionSpec(
    "init-noise", help: "Noise added to starting rows (standard deviation, encoded units).",
    kind: .number(low: 0, high: Double(SamplerDefaults.maximumInitNoise), lowOpen: false))
  public static let gradClip = OptionSpec(
    "grad-clip", help: "Gradient-norm clip (0 = off).",
    kind: .number(low: 0, high: Double(SamplerDefaults.maximumGradClip), lowOpen: false))
  public static let initFrom = OptionSpec(
    "init-from",
    help: "Start chains at stored rows, at draws from the base term, or SMOTE-style between a stored row and a near neighbour (interpolate).",
    kind: .choice(InitChoice.allCases.map { $0.rawValue }))
  public static let classFilter = OptionSpec(
    "class-filter",
    help: "Keep a row of class c only where the file's classification read-out (as `ember classify`, priors taken out) picks c (readout), or only where c has the least energy, the most probable class under equal priors with the raw energies (balanced); a rejected chain is re-run from a fresh stream (16 runs at most, then its first row is kept). off keeps every chain's row.",
    kind: .choice(ClassFilter.allCases.map { $0.rawValue }), default: ClassFilter.default.rawValue)
  public static let initCSV = OptionSpec(
    "init-csv", help: "Start chains at rows of this CSV (its target column, if present, picks rows per class).")
  public static let sampleThreads = OptionSpec(
    "threads", help: "Threads (default: all cores). Output does not depend on it.", kind: .integer(threadRange))
  public static let initDelimiter = OptionSpec(
    "delimiter", help: "Field delimiter of --init-csv.", kind: .character, default: ",")
  public static let quiet = flag("quiet", help: "No summary on stderr.")
  public static let inspectJSON = flag("json", help: "Print one JSON object instead of text.")
  public static let benchClass = OptionSpec("class", value: "class-label", help: "Class label to benchmark (default: the first).")
  public static let benchThreads = OptionSpec("threads", help: "Threads.", kind: .integer(threadRange), default: "1")
  public static let batch = OptionSpec(
    "batch", help: "Batch sizes, comma-separated.", kind: .integers(1...65_536), default: "1,1024")
  public static let seconds = OptionSpec(
    "seconds", help: "Seconds to spend on each measurement.", kind: .number(low: 0, high: 3600, lowOpen: true), default: "1.0")
  public static let chains = OptionSpec("chains", help: "SGLD chains.", kind: .integer(1...1_000_000), default: "500")
  public static let benchSteps = OptionSpec(
    "steps", help: "SGLD steps per chain.", kind: .integer(SamplerDefaults.stepRange), default: "200")
  public static let benchJSON = flag("json", help: "Print JSON.")
  public static let explain = OptionSpec(
    "explain", value: "k",
    help: "Add the k raw columns that contribute most to each row's score: why_1, why_1_share, … (integrated gradients; see docs/EXPLAIN.md).",
    kind: .integer(1...1000))
  public static let given = OptionSpec(
    "given", value: "column=value",
    help: "Generate rows with this column fixed (a number, a category, or the target's label); repeatable.",
    repeatable: true)
  public static let whereRule = OptionSpec(
    "where", value: "rule",
    help: "Generate rows meeting this rule: COLUMN>=X, <=, >, < (numeric), COLUMN!=CATEGORY; repeatable.",
    repeatable: true)
  public static let draws = OptionSpec(
    "draws",
    help: "Conditional draws per row (multiple imputation), with a draw column (1…N); without it, one point imputation per row.",
    kind: .integer(1...10_000))
  public static let sweeps = OptionSpec(
    "steps", help: "Sweeps per chain (Gibbs over the missing cells; a point imputation averages the last two thirds).",
    kind: .integer(EmberSession.sweepRange), default: String(EmberSession.defaultSweeps))

  /// Options of the row verbs (score, classify, energy).
  static let rowInput: [OptionSpec] = [delimiter, unknownCategory, rowThreads, stream, onError, keep, unknownAsMissing, nanAsMissing]
}

/// What to do with a row that cannot be read.
public enum OnError: String, CaseIterable, Sendable {
  /// Stop with a non-zero exit status.
  case stop
  /// Report the row on stderr and go on.
  case skip
}

/// Where chains start, as a command-line choice.
public enum InitChoice: String, CaseIterable, Sendable {
  /// At stored training rows.
  case stored
  /// At draws from the base term.
  case base
  /// SMOTE-style between a stored row and a near neighbour.
  case interpolate

  /// The file's chain start.
  var chainInit: ChainInit {
    switch self {
    case .stored: .startingRows
    case .base: .base
    case .interpolate: .interpolate
    }
  }
}

import ArgumentParser
import EmberFormat
import EmberTrainer
import Foundation

/// The options of `ember train`, declared once.
///
/// The CLI parses them from its command line (`TrainCommand` holds them as an option group);
/// the trainer C API (`ember_train_table`, `ember_train_csv`) parses CLI-style strings with the
/// same declaration, so both accept, default and refuse exactly the same options, and
/// `ember_train_options_json` describes them to hosts (the Python package derives its keyword
/// arguments from it). What is not a training option (the data path, `--output`, `--quiet`)
/// stays with the command.
public struct TrainArguments: ParsableArguments, Sendable {
  @Option(help: "Name of the label column.") public var target: String
  @Option(help: "Random seed (split, initialisation, noise).") public var seed: UInt64 = 0
  @Option(help: "Objective: nce (default) or tabebm.") public var objective: String = "nce"
  @Option(help: "Hidden layer widths, comma-separated.") public var hidden: String = "128,128"
  @Option(help: "Hidden activation: silu, relu, tanh, softplus, gelu.") public var activation: String = "silu"
  @Option(help: "Full-batch training epochs per class.") public var epochs: Int = 400
  @Option(help: "AdamW learning rate.") public var lr: Double = 1e-3
  @Option(name: .customLong("weight-decay"), help: "AdamW weight decay.") public var weightDecay: Double = 1e-3
  @Option(name: .customLong("min-class-rows"), help: "Classes with fewer rows are left out.")
  public var minClassRows: Int = 10
  @Option(help: "Columns to read as categories (comma-separated).") public var categorical: String = ""
  @Option(help: "Columns to read as real numbers (comma-separated).") public var numeric: String = ""
  @Option(help: "Columns to leave out (comma-separated).") public var ignore: String = ""
  @Flag(name: .customLong("no-starting-rows"), help: "Do not store training rows as chain starting points (privacy).")
  public var noStartingRows = false
  @Option(name: .customLong("add-to"), help: "Extend this model with the CSV's classes it does not have yet.")
  public var addTo: String?
  @Flag(
    name: .customLong("raw-energies"),
    help: "Classify with raw energies (T = 1, no per-class offsets fitted on held-out rows).")
  public var rawEnergies = false
  @Flag(
    name: .customLong("no-stacked-readout"),
    help: "Do not try the stacked read-out (a C×C linear map of the energies fitted on held-out rows, kept only when it classifies held-out rows better).")
  public var noStackedReadout = false
  @Flag(help: "After calibration, retrain every class on all its rows (calibration stays that of the held-out run).")
  public var refit = false
  @Option(help: "Worker threads (default: one per core).") public var threads: Int = 0

  public init() {}

  public func validate() throws {
    guard Objective(rawValue: objective) != nil else {
      throw ValidationError("unknown --objective \"\(objective)\" (nce, tabebm)")
    }
    guard let a = Activation(name: activation), a != .identity else {
      throw ValidationError("unknown --activation \"\(activation)\" (silu, relu, tanh, softplus, gelu)")
    }
    guard Self.widths(hidden) != nil else {
      throw ValidationError("--hidden takes positive widths separated by commas, e.g. 128,128")
    }
    guard epochs >= 0 else { throw ValidationError("--epochs must be ≥ 0") }
    guard lr > 0 else { throw ValidationError("--lr must be > 0") }
    guard weightDecay >= 0 else { throw ValidationError("--weight-decay must be ≥ 0") }
    guard minClassRows >= 1 else { throw ValidationError("--min-class-rows must be ≥ 1") }
    guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
  }

  /// The trainer's options; `command` is recorded in the model's provenance.
  public func trainingOptions(command: String) -> TrainingOptions {
    var options = TrainingOptions(target: target)
    options.settings.objective = Objective(rawValue: objective)!
    options.settings.hidden = Self.widths(hidden)!
    options.settings.activation = Activation(name: activation)!
    options.settings.epochs = epochs
    options.settings.learningRate = lr
    options.settings.weightDecay = weightDecay
    options.seed = seed
    options.minClassRows = minClassRows
    options.overrides = ColumnOverrides(
      categorical: Self.names(categorical), numeric: Self.names(numeric), ignore: Self.names(ignore))
    options.storeStartingRows = !noStartingRows
    options.addTo = addTo
    options.fitReadout = !rawEnergies
    options.stackedReadout = !rawEnergies && !noStackedReadout
    options.refit = refit
    options.threads = threads
    options.command = command
    return options
  }

  /// Parses CLI-style `arguments` (no program name), e.g. `["--target", "y", "--hidden", "64,64"]`.
  /// Throws ``TrainArgumentsError`` with the parser's message (the one `ember train` prints).
  public static func parse(arguments: [String]) throws(TrainArgumentsError) -> TrainArguments {
    do {
      return try parse(arguments)
    } catch {
      throw TrainArgumentsError(message: message(for: error))
    }
  }

  /// The declaration as JSON, for hosts that map their own keywords onto it:
  /// `{"options": [{"name": "weight-decay", "flag": false, "required": false, "default": "0.001",
  /// "help": "…"}, …]}` (long names without dashes; `default` null when there is none).
  public static var declarationJSON: String {
    let entries = _tool().compactMap { a -> String? in
      guard let name = a.name, name != "help" else { return nil }
      let value = a.defaultValue.map(jsonString) ?? "null"
      return "{\"name\":\(jsonString(name)),\"flag\":\(a.flag),\"required\":\(a.required),\"default\":\(value),"
        + "\"help\":\(jsonString(a.help))}"
    }
    return "{\"options\":[" + entries.joined(separator: ",") + "]}"
  }

  /// The options as swift-argument-parser describes them (its tool-info dump).
  private static func _tool() -> [(name: String?, flag: Bool, required: Bool, defaultValue: String?, help: String)] {
    struct Info: Decodable {
      struct Command: Decodable { let arguments: [Argument]? }
      struct Argument: Decodable {
        struct Name: Decodable {
          let kind: String
          let name: String
        }
        let kind: String
        let names: [Name]?
        let isOptional: Bool
        let defaultValue: String?
        let abstract: String?
      }
      let command: Command
    }
    guard let info = try? JSONDecoder().decode(Info.self, from: Data(_dumpHelp().utf8)) else { return [] }
    return (info.command.arguments ?? []).map { a in
      (a.names?.first { $0.kind == "long" }?.name, a.kind == "flag", !a.isOptional, a.defaultValue, a.abstract ?? "")
    }
  }

  static func names(_ list: String) -> Set<String> {
    Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
  }

  static func widths(_ s: String) -> [Int]? {
    let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 4096 }) else { return nil }
    return parts.map { $0! }
  }
}

/// A training option the declaration refuses (unknown option, bad value, failed validation).
public struct TrainArgumentsError: Error, Sendable, CustomStringConvertible {
  /// The parser's message, e.g. `Unknown option '--hiden'`.
  public let message: String
  public var description: String { message }
}

/// A JSON string literal (quotes, backslashes and control characters escaped).
private func jsonString(_ s: String) -> String {
  var out = "\""
  for u in s.unicodeScalars {
    switch u {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default:
      if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
    }
  }
  return out + "\""
}

import EmberCommands
import EmberFormat

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `ember-edge` (installed on devices as `ember`): the verbs of `ember` except `train`, with
/// the same options, output and exit statuses, without Foundation or swift-argument-parser.
/// A usage error is one `ember: error: …` line on stderr and exit status 64.
@main
enum EdgeCLI {
  static let abstract = "Energy-based models of tabular data: verify, score, classify and sample (device build; train with the full ember CLI)."

  static func main() {
    let status = run(Array(CommandLine.arguments.dropFirst()))
    exit(status)
  }

  /// Runs a command line (without the program name); returns the exit status.
  static func run(_ args: [String]) -> Int32 {
    guard let first = args.first else {
      print(HelpText.root(), terminator: "")
      return 0
    }
    switch first {
    case "--version":
      print(emberVersion)
      return 0
    case "-h", "--help":
      print(HelpText.root(), terminator: "")
      return 0
    case "help":
      if args.count > 1 {
        guard let verb = VerbSpec.deviceVerbs.first(where: { $0.name == args[1] }) else {
          return usageFailure(unknownVerb(args[1]))
        }
        print(HelpText.verb(verb), terminator: "")
      } else {
        print(HelpText.root(), terminator: "")
      }
      return 0
    default:
      break
    }
    guard let verb = VerbSpec.deviceVerbs.first(where: { $0.name == first }) else {
      return usageFailure(unknownVerb(first))
    }
    do {
      switch try ArgumentScanner.scan(Array(args.dropFirst()), verb: verb) {
      case .help(let v):
        print(HelpText.verb(v), terminator: "")
        return 0
      case .version:
        print(emberVersion)
        return 0
      case .run(let parsed):
        let body = try command(parsed)
        return try CommandRunner.status(of: body)
      }
    } catch let e as UsageError {
      return usageFailure(e)
    } catch {
      return usageFailure(UsageError("\(error)"))
    }
  }

  static func unknownVerb(_ name: String) -> UsageError {
    if name == "train" {
      return UsageError("'train' is not in this device build: train with the full ember CLI on a development machine")
    }
    if name.hasPrefix("-") { return UsageError("Unknown option '\(name)' (see 'ember --help')") }
    return UsageError("Unknown subcommand '\(name)' (see 'ember --help')")
  }

  static func usageFailure(_ e: UsageError) -> Int32 {
    printError(e.message)
    return ExitStatus.usage
  }

  /// Maps scanned arguments to an options struct, validates it and returns its `run`.
  static func command(_ p: ParsedArguments) throws -> () throws -> Void {
    let model = p.positional("model")!
    do {
      switch p.verb.name {
      case "verify":
        let o = VerifyOptions(model: model)
        return { try o.run() }
      case "inspect":
        var o = InspectOptions(model: model)
        o.json = p.flag("json")
        return { try o.run() }
      case "score":
        var o = ScoreOptions(model: model)
        o.input = p.positional("input")!
        o.output = p.string("output")
        o.threshold = try p.value("threshold", { Float($0) })
        o.energies = p.flag("energies")
        o.inputOptions = try rowInput(p)
        return { try o.run() }
      case "classify":
        var o = ClassifyOptions(model: model)
        o.input = p.positional("input")!
        o.output = p.string("output")
        o.labelOnly = p.flag("label-only")
        o.inputOptions = try rowInput(p)
        return { try o.run() }
      case "energy":
        var o = EnergyOptions(model: model)
        o.input = p.positional("input")!
        o.output = p.string("output")
        o.gradient = p.flag("gradient")
        o.classes = p.strings("class")
        o.inputOptions = try rowInput(p)
        return { try o.run() }
      case "sample":
        var o = SampleOptions(model: model, count: try p.required("count", { Int($0) }))
        o.classes = p.strings("class")
        o.seed = try p.value("seed", { UInt64($0) }) ?? 0
        o.output = p.string("output")
        o.sampler = try p.value("sampler") { SamplerKind(name: $0) }
        o.steps = try p.value("steps", { Int($0) })
        o.stepSize = try p.value("step-size", { Float($0) })
        o.noise = try p.value("noise", { Float($0) })
        o.temperature = try p.value("temperature", { Float($0) })
        o.initNoise = try p.value("init-noise", { Float($0) })
        o.gradClip = try p.value("grad-clip", { Float($0) })
        o.initFrom = try p.value("init-from", { InitChoice(rawValue: $0) })
        o.initCSV = p.string("init-csv")
        o.threads = try p.value("threads", { Int($0) })
        o.delimiter = p.string("delimiter") ?? ","
        o.quiet = p.flag("quiet")
        try o.validate()
        return { try o.run() }
      case "bench":
        var o = BenchOptions(model: model)
        o.classLabel = p.string("class")
        o.threads = try p.value("threads", { Int($0) }) ?? 1
        o.batch = p.string("batch") ?? "1,1024"
        o.seconds = try p.value("seconds", { Double($0) }) ?? 1.0
        o.chains = try p.value("chains", { Int($0) }) ?? 500
        o.steps = try p.value("steps", { Int($0) }) ?? 200
        o.json = p.flag("json")
        try o.validate()
        return { try o.run() }
      default:
        throw UsageError("Unknown subcommand '\(p.verb.name)'")
      }
    } catch let e as UsageError {
      // Validation messages name the option but not the verb: add the help pointer.
      if e.message.hasSuffix("--help')") { throw e }
      throw ArgumentScanner.usage(e.message, verb: p.verb)
    }
  }

  static func rowInput(_ p: ParsedArguments) throws -> RowInputOptions {
    var o = RowInputOptions()
    o.delimiter = p.string("delimiter") ?? ","
    o.unknownAsMissing = p.flag("unknown-as-missing")
    o.nanAsMissing = p.flag("nan-as-missing")
    o.threads = try p.value("threads", { Int($0) })
    o.stream = p.flag("stream")
    o.onError = try p.value("on-error", { OnError(rawValue: $0) })
    o.keep = p.string("keep")
    return o
  }
}

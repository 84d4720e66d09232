/// A verb: its spec (name, help, options) and what it does with checked arguments.
public struct Verb: Sendable {
  /// Name, help texts, positionals and options.
  public let spec: VerbSpec
  /// Runs the verb; every failure is a ``CLIError``.
  public let run: @Sendable (ParsedArguments) throws(CLIError) -> Void

  /// Creates a verb.
  public init(_ spec: VerbSpec, run: @escaping @Sendable (ParsedArguments) throws(CLIError) -> Void) {
    self.spec = spec
    self.run = run
  }

  /// Every verb the device binary has (all but `train`), in help order.
  public static let device: [Verb] = [inspect, verify, score, classify, sample, impute, bench, energy]
}

/// The command-line front end shared by `ember` (device verbs + train) and `ember-edge`
/// (device verbs): one scanner, one help layout, one runner, one mapping of failures to exit
/// statuses (``CLIError/status``).
public enum CLI {
  /// Runs a command line (without the program name) with `verbs`; returns the exit status.
  /// Prints results on stdout; a failure is one `ember: error: …` line on stderr.
  public static func run(_ args: [String], verbs: [Verb], abstract: String) -> Int32 {
    let specs = verbs.map { $0.spec }
    guard let first = args.first else {
      printOut(HelpText.root(abstract: abstract, verbs: specs))
      return 0
    }
    switch first {
    case "--version":
      printOut(emberVersion + "\n")
      return 0
    case "-h", "--help":
      printOut(HelpText.root(abstract: abstract, verbs: specs))
      return 0
    case "help":
      if args.count > 1 {
        guard let verb = verbs.first(where: { $0.spec.name == args[1] }) else { return fail(unknownVerb(args[1])) }
        printOut(HelpText.verb(verb.spec))
      } else {
        printOut(HelpText.root(abstract: abstract, verbs: specs))
      }
      return 0
    default:
      break
    }
    guard let verb = verbs.first(where: { $0.spec.name == first }) else { return fail(unknownVerb(first)) }
    let parsed: ParsedArguments
    do {
      switch try ArgumentScanner.scan(Array(args.dropFirst()), verb: verb.spec) {
      case .help(let v):
        printOut(HelpText.verb(v))
        return 0
      case .version:
        printOut(emberVersion + "\n")
        return 0
      case .run(let p):
        parsed = p
      }
    } catch {
      return fail(error)
    }
    do {
      try verb.run(parsed)
      return 0
    } catch {
      // A usage error found while running (e.g. conflicting options) points at the help too.
      return fail(error.kind == .usage ? ArgumentScanner.usage(error.message, verb: verb.spec) : error)
    }
  }

  /// Prints the failure and returns its exit status.
  static func fail(_ e: CLIError) -> Int32 {
    printError(e.message)
    return e.status
  }

  static func unknownVerb(_ name: String) -> CLIError {
    if name == "train" {
      return CLIError(.usage, "'train' is not in this device build: train with the full ember CLI on a development machine")
    }
    if name.hasPrefix("-") { return CLIError(.usage, "Unknown option '\(name)' (see 'ember --help')") }
    return CLIError(.usage, "Unknown subcommand '\(name)' (see 'ember --help')")
  }
}

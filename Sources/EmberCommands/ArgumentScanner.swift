import EmberRuntime

/// The arguments of one verb after scanning and checking: positionals by name, option values,
/// flags. Every value has already passed its ``ValueKind`` check, so the typed getters only
/// convert; an absent option yields its declared default (or nil).
public struct ParsedArguments: Sendable {
  /// The verb they belong to.
  public let verb: VerbSpec
  /// Positional values by argument name (only those given).
  var positionals: [String: String] = [:]
  /// Values of options by long name, in command-line order.
  var values: [String: [String]] = [:]
  /// Flags given.
  var flags: Set<String> = []

  /// The value of a positional argument (its default when omitted).
  public func positional(_ name: String) -> String {
    positionals[name] ?? verb.arguments.first { $0.name == name }?.defaultValue ?? ""
  }

  /// The last value of a single-value option, or its default.
  public func string(_ o: OptionSpec) -> String? { values[o.name]?.last ?? o.defaultValue }
  /// Every value of a repeatable option.
  public func strings(_ o: OptionSpec) -> [String] { values[o.name] ?? [] }
  /// Whether a flag was given.
  public func flag(_ o: OptionSpec) -> Bool { flags.contains(o.name) }
  /// An integer option.
  public func int(_ o: OptionSpec) -> Int? { string(o).flatMap { Int($0) } }
  /// A seed option.
  public func uint64(_ o: OptionSpec) -> UInt64? { string(o).flatMap { UInt64($0) } }
  /// A number option.
  public func double(_ o: OptionSpec) -> Double? {
    guard let s = string(o), case .value(let v) = RawNumber.parse(s) else { return nil }
    return v
  }
  /// A number option as Float.
  public func float(_ o: OptionSpec) -> Float? { double(o).map { Float($0) } }
  /// A comma-separated integer list option.
  public func ints(_ o: OptionSpec) -> [Int] { string(o).map { $0.split(separator: ",").compactMap { Int($0) } } ?? [] }
  /// A comma-separated names option.
  public func names(_ o: OptionSpec) -> [String] { string(o).map { $0.split(separator: ",").map(String.init) } ?? [] }
  /// A single-character option as its byte (`\t` is tab).
  public func character(_ o: OptionSpec) -> UInt8 {
    let s = string(o) ?? ","
    return (s == "\\t" ? "\t" : s).utf8.first ?? 0x2C
  }
}

/// What the command line asks for.
enum ScanResult {
  /// Run the verb with these arguments.
  case run(ParsedArguments)
  /// Print this verb's help.
  case help(VerbSpec)
  /// Print the version.
  case version
}

/// The command-line scanner of both front ends, over a ``VerbSpec``: `--name value`,
/// `--name=value`, `-o value`, `-o=value`, `-ovalue`, flags, `--` to end options,
/// `-h`/`--help` and `--version` anywhere before `--`. A value may not start with `-` unless it
/// is `-` itself or joined with `=` (as `--threshold=-5`). Repeated single-value options: the
/// last one wins. Every value is checked against its kind here.
enum ArgumentScanner {
  /// A usage error naming the verb's help.
  static func usage(_ message: String, verb: VerbSpec) -> CLIError {
    CLIError(.usage, "\(message) (see 'ember \(verb.name) --help')")
  }

  /// Scans the arguments after the verb name.
  static func scan(_ args: [String], verb: VerbSpec) throws(CLIError) -> ScanResult {
    let options = args.prefix { $0 != "--" }
    if options.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help(verb) }
    if options.contains("--version") { return .version }
    var parsed = ParsedArguments(verb: verb)
    var positional: [String] = []
    var i = 0
    var optionsEnded = false

    func takeValue(_ spec: OptionSpec, inline: String?) throws(CLIError) {
      var value = inline
      if value == nil {
        if i + 1 < args.count, !(args[i + 1].hasPrefix("-") && args[i + 1] != "-") {
          i += 1
          value = args[i]
        } else {
          throw usage("Missing value for '--\(spec.name) <\(spec.value ?? spec.name)>'", verb: verb)
        }
      }
      if let problem = spec.kind.problem(value!) {
        throw usage("The value '\(value!)' is invalid for '--\(spec.name) <\(spec.value ?? spec.name)>': \(problem)", verb: verb)
      }
      parsed.values[spec.name, default: []].append(value!)
    }

    while i < args.count {
      let arg = args[i]
      if optionsEnded || arg == "-" || !arg.hasPrefix("-") {
        positional.append(arg)
      } else if arg == "--" {
        optionsEnded = true
      } else if arg.hasPrefix("--") {
        let body = arg.dropFirst(2)
        let name = String(body.prefix { $0 != "=" })
        let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
        guard let spec = verb.option(named: name) else { throw usage("Unknown option '--\(name)'", verb: verb) }
        if spec.isFlag {
          if inline != nil { throw usage("The flag '--\(name)' takes no value", verb: verb) }
          parsed.flags.insert(name)
        } else {
          try takeValue(spec, inline: inline)
        }
      } else {
        let body = arg.dropFirst()
        guard let letter = body.first, let spec = verb.option(short: letter) else {
          throw usage("Unknown option '\(arg)'", verb: verb)
        }
        var rest = String(body.dropFirst())
        if rest.hasPrefix("=") { rest.removeFirst() }
        if spec.isFlag {
          guard rest.isEmpty else { throw usage("Unknown option '\(arg)'", verb: verb) }
          parsed.flags.insert(spec.name)
        } else {
          try takeValue(spec, inline: rest.isEmpty ? nil : rest)
        }
      }
      i += 1
    }

    guard positional.count <= verb.arguments.count else {
      throw usage("Unexpected argument '\(positional[verb.arguments.count])'", verb: verb)
    }
    for (k, a) in verb.arguments.enumerated() {
      if k < positional.count {
        parsed.positionals[a.name] = positional[k]
      } else if a.defaultValue == nil {
        throw usage("Missing expected argument '<\(a.name)>'", verb: verb)
      }
    }
    for o in verb.options where o.required && parsed.values[o.name] == nil {
      throw usage("Missing expected argument '--\(o.name) <\(o.value ?? o.name)>'", verb: verb)
    }
    return .run(parsed)
  }
}

import EmberCommands

/// The arguments of one verb after scanning: positionals by name, option values, flags.
struct ParsedArguments {
  /// The verb they belong to.
  let verb: VerbSpec
  /// Positional values by argument name (only those given).
  var positionals: [String: String] = [:]
  /// Values of options by long name, in command-line order.
  var values: [String: [String]] = [:]
  /// Flags given.
  var flags: Set<String> = []

  /// The value of a positional argument (its default when omitted).
  func positional(_ name: String) -> String? {
    positionals[name] ?? verb.arguments.first { $0.name == name }?.defaultValue
  }

  /// The last value of a single-value option.
  func string(_ name: String) -> String? { values[name]?.last }
  /// Every value of a repeatable option.
  func strings(_ name: String) -> [String] { values[name] ?? [] }
  /// Whether a flag was given.
  func flag(_ name: String) -> Bool { flags.contains(name) }

  /// The last value of an option converted by `parse`; a value it rejects is a usage error.
  func value<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
    guard let text = string(name) else { return nil }
    guard let v = parse(text) else {
      let spec = verb.option(named: name)!
      var message = "The value '\(text)' is invalid for '--\(name) <\(spec.value ?? name)>'"
      if !spec.choices.isEmpty { message += ". Please provide one of \(spec.choices.map { "'\($0)'" }.joined(separator: ", "))" }
      throw ArgumentScanner.usage(message, verb: verb)
    }
    return v
  }

  /// A required option's value.
  func required<T>(_ name: String, _ parse: (String) -> T?) throws -> T {
    guard let v = try value(name, parse) else {
      throw ArgumentScanner.usage("Missing expected argument '--\(name) <\(verb.option(named: name)?.value ?? name)>'", verb: verb)
    }
    return v
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

/// A small command-line scanner over a ``VerbSpec``, with swift-argument-parser's rules:
/// `--name value`, `--name=value`, `-o value`, `-o=value`, `-ovalue`, flags, `--` to end
/// options, `-h`/`--help` and `--version` anywhere before `--`. A value may not start with
/// `-` unless it is `-` itself or joined with `=` (as `--threshold=-5`). Repeated
/// single-value options: the last one wins.
enum ArgumentScanner {
  /// A usage error naming the verb's help.
  static func usage(_ message: String, verb: VerbSpec) -> UsageError {
    UsageError("\(message) (see 'ember \(verb.name) --help')")
  }

  /// Scans the arguments after the verb name.
  static func scan(_ args: [String], verb: VerbSpec) throws -> ScanResult {
    let options = args.prefix { $0 != "--" }
    if options.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help(verb) }
    if options.contains("--version") { return .version }
    var parsed = ParsedArguments(verb: verb)
    var positional: [String] = []
    var i = 0
    var optionsEnded = false

    func takeValue(_ spec: OptionSpec, inline: String?) throws {
      var value = inline
      if value == nil {
        if i + 1 < args.count, !(args[i + 1].hasPrefix("-") && args[i + 1] != "-") {
          i += 1
          value = args[i]
        } else {
          throw usage("Missing value for '--\(spec.name) <\(spec.value ?? spec.name)>'", verb: verb)
        }
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
    return .run(parsed)
  }
}

import EmberCommands

/// Help screens of both front ends (swift-argument-parser's layout, wrapped to 80 columns).
enum HelpText {
  static let width = 79
  static let column = 26

  /// `ember --help`.
  static func root(abstract: String, verbs: [VerbSpec]) -> String {
    var out = ""
    out += wrap("OVERVIEW: " + abstract, indent: 0) + "\n\n"
    out += "USAGE: ember <subcommand>\n\n"
    out += "OPTIONS:\n"
    out += entry("--version", "Show the version.")
    out += entry("-h, --help", "Show help information.")
    out += "\nSUBCOMMANDS:\n"
    for v in verbs { out += entry(v.name, v.abstract) }
    out += "\n  See 'ember help <subcommand>' for detailed help.\n"
    return out
  }

  /// `ember VERB --help`.
  static func verb(_ v: VerbSpec) -> String {
    var out = wrap("OVERVIEW: " + v.abstract, indent: 0) + "\n\n"
    if !v.discussion.isEmpty {
      out += v.discussion.split(separator: "\n", omittingEmptySubsequences: false).map { wrap(String($0), indent: 0) }.joined(separator: "\n")
      out += "\n\n"
    }
    var usage = "USAGE: ember \(v.name)"
    for a in v.arguments { usage += a.defaultValue == nil ? " <\(a.name)>" : " [<\(a.name)>]" }
    for o in v.options {
      let shown = o.isFlag ? "--\(o.name)" : "--\(o.name) <\(o.value!)>"
      usage += o.required ? " \(shown)" : (o.repeatable ? " [\(shown) ...]" : " [\(shown)]")
    }
    out += usage + "\n\n"
    if !v.arguments.isEmpty {
      out += "ARGUMENTS:\n"
      for a in v.arguments { out += entry("<\(a.name)>", a.help + (a.defaultValue.map { " (default: \($0))" } ?? "")) }
      out += "\n"
    }
    out += "OPTIONS:\n"
    for o in v.options {
      var name = o.short.map { "-\($0), " } ?? ""
      name += "--\(o.name)"
      if let value = o.value { name += " <\(value)>" }
      var help = o.help
      if let d = o.defaultValue { help += " (default: \(d))" }
      if !o.choices.isEmpty { help += " (values: \(o.choices.joined(separator: ", ")))" }
      out += entry(name, help)
    }
    out += entry("--version", "Show the version.")
    out += entry("-h, --help", "Show help information.")
    return out
  }

  /// `  name                    help…` with the help wrapped at ``column``.
  static func entry(_ name: String, _ help: String) -> String {
    let lead = "  " + name
    if lead.count < column {
      return lead + String(repeating: " ", count: column - lead.count) + wrap(help, indent: column).dropFirst(column) + "\n"
    }
    return lead + "\n" + wrap(help, indent: column) + "\n"
  }

  /// Greedy word wrap; every line starts with `indent` spaces (the first included).
  static func wrap(_ text: String, indent: Int) -> String {
    let pad = String(repeating: " ", count: indent)
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
      if line.isEmpty {
        line = String(word)
      } else if indent + line.count + 1 + word.count <= width {
        line += " " + word
      } else {
        lines.append(line)
        line = String(word)
      }
    }
    lines.append(line)
    return lines.map { pad + $0 }.joined(separator: "\n")
  }
}

import ArgumentParser
import EmberCommands

/// `ember classify`: per-row labels and class probabilities (``ClassifyOptions``).
struct ClassifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.classify)

  @Argument(help: ArgumentHelp(VerbSpec.classify, "model")) var model: String
  @Argument(help: ArgumentHelp(VerbSpec.classify, "input")) var input: String = "-"
  @Option(name: .shortAndLong, help: ArgumentHelp(VerbSpec.classify, "output")) var output: String?
  @Flag(help: ArgumentHelp(VerbSpec.classify, "label-only")) var labelOnly = false
  @OptionGroup var inputOptions: RowInputArguments

  func run() throws {
    var o = ClassifyOptions(model: model)
    o.input = input
    o.output = output
    o.labelOnly = labelOnly
    o.inputOptions = inputOptions.options
    try runVerb { try o.run() }
  }
}

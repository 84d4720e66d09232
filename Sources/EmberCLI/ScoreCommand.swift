import ArgumentParser
import EmberCommands

/// `ember score`: per-row anomaly scores (``ScoreOptions``).
struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.score)

  @Argument(help: ArgumentHelp(VerbSpec.score, "model")) var model: String
  @Argument(help: ArgumentHelp(VerbSpec.score, "input")) var input: String = "-"
  @Option(name: .shortAndLong, help: ArgumentHelp(VerbSpec.score, "output")) var output: String?
  @Option(help: ArgumentHelp(VerbSpec.score, "threshold")) var threshold: Float?
  @Flag(help: ArgumentHelp(VerbSpec.score, "energies")) var energies = false
  @OptionGroup var inputOptions: RowInputArguments

  func run() throws {
    var o = ScoreOptions(model: model)
    o.input = input
    o.output = output
    o.threshold = threshold
    o.energies = energies
    o.inputOptions = inputOptions.options
    try runVerb { try o.run() }
  }
}

import ArgumentParser
import EmberCommands

/// `ember energy`: raw per-class energies and input gradients (``EnergyOptions``).
struct EnergyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.energy)

  @Argument(help: ArgumentHelp(VerbSpec.energy, "model")) var model: String
  @Argument(help: ArgumentHelp(VerbSpec.energy, "input")) var input: String = "-"
  @Option(name: .shortAndLong, help: ArgumentHelp(VerbSpec.energy, "output")) var output: String?
  @Flag(help: ArgumentHelp(VerbSpec.energy, "gradient")) var gradient = false
  @Option(name: .customLong("class"), help: ArgumentHelp(VerbSpec.energy, "class")) var classes: [String] = []
  @OptionGroup var inputOptions: RowInputArguments

  func run() throws {
    var o = EnergyOptions(model: model)
    o.input = input
    o.output = output
    o.gradient = gradient
    o.classes = classes
    o.inputOptions = inputOptions.options
    try runVerb { try o.run() }
  }
}

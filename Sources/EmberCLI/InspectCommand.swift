import ArgumentParser
import EmberCommands

/// `ember inspect MODEL [--json]`: what a model file holds (``InspectOptions``).
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.inspect)

  @Argument(help: ArgumentHelp(VerbSpec.inspect, "model")) var model: String
  @Flag(help: ArgumentHelp(VerbSpec.inspect, "json")) var json = false

  func run() throws {
    var o = InspectOptions(model: model)
    o.json = json
    try runVerb { try o.run() }
  }
}

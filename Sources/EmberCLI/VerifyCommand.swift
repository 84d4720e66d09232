import ArgumentParser
import EmberCommands

/// `ember verify MODEL`: full load checks, one line of verdict (``VerifyOptions``).
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.verify)

  @Argument(help: ArgumentHelp(VerbSpec.verify, "model")) var model: String

  func run() throws {
    let o = VerifyOptions(model: model)
    try runVerb { try o.run() }
  }
}

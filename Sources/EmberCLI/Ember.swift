import ArgumentParser
import EmberCommands

/// The `ember` command: train, inspect and run energy-based models of tabular data.
@main
struct Ember: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ember",
    abstract: "Energy-based models of tabular data: train, verify, score, classify and sample.",
    version: emberVersion,
    subcommands: [
      TrainCommand.self, InspectCommand.self, VerifyCommand.self, ScoreCommand.self,
      ClassifyCommand.self, SampleCommand.self, BenchCommand.self, EnergyCommand.self,
    ]
  )
}

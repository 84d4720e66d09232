import EmberCommands
import Foundation

/// `ember`: the device verbs of `EmberCommands` plus `train`, through the one option table,
/// scanner, runner and exit-status mapping that `ember-edge` uses.
@main
enum Ember {
  static let abstract = "Energy-based models of tabular data: train, verify, score, classify and sample."

  static func main() {
    exit(CLI.run(Array(CommandLine.arguments.dropFirst()), verbs: [Verb.train] + Verb.device, abstract: abstract))
  }
}

import ArgumentParser

/// `ember score` (placeholder until its issue lands).
struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "score", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember score is not available in this build")
  }
}

import ArgumentParser

/// `ember train` (placeholder until its issue lands).
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "train", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember train is not available in this build")
  }
}

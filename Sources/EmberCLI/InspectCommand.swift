import ArgumentParser

/// `ember inspect` (placeholder until its issue lands).
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember inspect is not available in this build")
  }
}

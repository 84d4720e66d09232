import ArgumentParser

/// `ember classify` (placeholder until its issue lands).
struct ClassifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "classify", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember classify is not available in this build")
  }
}

import ArgumentParser

/// `ember verify` (placeholder until its issue lands).
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "verify", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember verify is not available in this build")
  }
}

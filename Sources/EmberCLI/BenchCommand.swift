import ArgumentParser

/// `ember bench` (placeholder until its issue lands).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "bench", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember bench is not available in this build")
  }
}

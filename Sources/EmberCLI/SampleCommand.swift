import ArgumentParser

/// `ember sample` (placeholder until its issue lands).
struct SampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "sample", abstract: "Not yet available.")

  func run() throws {
    throw ValidationError("ember sample is not available in this build")
  }
}

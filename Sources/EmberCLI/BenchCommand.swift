import ArgumentParser
import EmberCommands

/// `ember bench`: throughput of the runtime on a model (``BenchOptions``).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.bench)
  private static let spec = VerbSpec.bench

  @Argument(help: ArgumentHelp(spec, "model")) var model: String
  @Option(name: .customLong("class"), help: ArgumentHelp(spec, "class")) var classLabel: String?
  @Option(help: ArgumentHelp(spec, "threads")) var threads: Int = 1
  @Option(help: ArgumentHelp(spec, "batch")) var batch: String = "1,1024"
  @Option(help: ArgumentHelp(spec, "seconds")) var seconds: Double = 1.0
  @Option(help: ArgumentHelp(spec, "chains")) var chains: Int = 500
  @Option(help: ArgumentHelp(spec, "steps")) var steps: Int = 200
  @Flag(help: ArgumentHelp(spec, "json")) var json = false

  var options: BenchOptions {
    var o = BenchOptions(model: model)
    o.classLabel = classLabel
    o.threads = threads
    o.batch = batch
    o.seconds = seconds
    o.chains = chains
    o.steps = steps
    o.json = json
    return o
  }

  func validate() throws { try validating { try options.validate() } }

  func run() throws {
    let o = options
    try runVerb { try o.run() }
  }
}

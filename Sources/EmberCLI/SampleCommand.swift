import ArgumentParser
import EmberCommands
import EmberFormat

/// `ember sample`: synthetic rows per class (``SampleOptions``).
struct SampleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(VerbSpec.sample)
  private static let spec = VerbSpec.sample

  @Argument(help: ArgumentHelp(spec, "model")) var model: String
  @Option(help: ArgumentHelp(spec, "count")) var count: Int
  @Option(name: .customLong("class"), help: ArgumentHelp(spec, "class")) var classes: [String] = []
  @Option(help: ArgumentHelp(spec, "seed")) var seed: UInt64 = 0
  @Option(name: .shortAndLong, help: ArgumentHelp(spec, "output")) var output: String?
  @Option(help: ArgumentHelp(spec, "sampler")) var sampler: SamplerKind?
  @Option(help: ArgumentHelp(spec, "steps")) var steps: Int?
  @Option(help: ArgumentHelp(spec, "step-size")) var stepSize: Float?
  @Option(help: ArgumentHelp(spec, "noise")) var noise: Float?
  @Option(help: ArgumentHelp(spec, "temperature")) var temperature: Float?
  @Option(help: ArgumentHelp(spec, "init-noise")) var initNoise: Float?
  @Option(help: ArgumentHelp(spec, "grad-clip")) var gradClip: Float?
  @Option(help: ArgumentHelp(spec, "init-from")) var initFrom: InitChoice?
  @Option(help: ArgumentHelp(spec, "init-csv")) var initCSV: String?
  @Option(help: ArgumentHelp(spec, "threads")) var threads: Int?
  @Option(help: ArgumentHelp(spec, "delimiter")) var delimiter: String = ","
  @Flag(help: ArgumentHelp(spec, "quiet")) var quiet = false

  var options: SampleOptions {
    var o = SampleOptions(model: model, count: count)
    o.classes = classes
    o.seed = seed
    o.output = output
    o.sampler = sampler
    o.steps = steps
    o.stepSize = stepSize
    o.noise = noise
    o.temperature = temperature
    o.initNoise = initNoise
    o.gradClip = gradClip
    o.initFrom = initFrom
    o.initCSV = initCSV
    o.threads = threads
    o.delimiter = delimiter
    o.quiet = quiet
    return o
  }

  func validate() throws { try validating { try options.validate() } }

  func run() throws {
    let o = options
    try runVerb { try o.run() }
  }
}

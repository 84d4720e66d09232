import ArgumentParser
import EmberCommands
import EmberFormat

/// Runs a verb from `EmberCommands`: a known failure becomes one `ember: error: …` line and
/// its exit code; a ``UsageError`` becomes a `ValidationError` (exit status 64, with usage).
func runVerb(_ body: () throws -> Void) throws {
  let status: Int32
  do {
    status = try CommandRunner.status(of: body)
  } catch {
    throw ValidationError(error.message)
  }
  if status != 0 { throw ExitCode(status) }
}

/// Runs an options struct's `validate()`, reporting a ``UsageError`` as a `ValidationError`.
func validating(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let e as UsageError {
    throw ValidationError(e.message)
  }
}

extension ArgumentHelp {
  /// The help text of `name` (option or argument) in a verb's spec.
  init(_ verb: VerbSpec, _ name: String) { self.init(verb.help(name)) }
}

extension CommandConfiguration {
  /// Name, abstract and discussion from a verb's spec.
  init(_ verb: VerbSpec) {
    self.init(commandName: verb.name, abstract: verb.abstract, discussion: verb.discussion)
  }
}

extension OnError: ExpressibleByArgument {}
extension InitChoice: ExpressibleByArgument {}

extension SamplerKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// Input options shared by `score`, `classify` and `energy`.
struct RowInputArguments: ParsableArguments {
  @Option(help: ArgumentHelp(VerbSpec.score, "delimiter")) var delimiter: String = ","
  @Flag(help: ArgumentHelp(VerbSpec.score, "unknown-as-missing")) var unknownAsMissing = false
  @Flag(help: ArgumentHelp(VerbSpec.score, "nan-as-missing")) var nanAsMissing = false
  @Option(help: ArgumentHelp(VerbSpec.score, "threads")) var threads: Int?
  @Flag(help: ArgumentHelp(VerbSpec.score, "stream")) var stream = false
  @Option(help: ArgumentHelp(VerbSpec.score, "on-error")) var onError: OnError?
  @Option(help: ArgumentHelp(VerbSpec.score, "keep")) var keep: String?

  /// The same settings for `EmberCommands`.
  var options: RowInputOptions {
    var o = RowInputOptions()
    o.delimiter = delimiter
    o.unknownAsMissing = unknownAsMissing
    o.nanAsMissing = nanAsMissing
    o.threads = threads
    o.stream = stream
    o.onError = onError
    o.keep = keep
    return o
  }
}

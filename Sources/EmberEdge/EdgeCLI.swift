import EmberCommands

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `ember-edge` (installed on devices as `ember`): the verbs of `ember` except `train`, through
/// the same option table, scanner, runner and exit statuses, without Foundation.
@main
enum EdgeCLI {
  static let abstract =
    "Energy-based models of tabular data: verify, score, classify and sample (device build; train with the full ember CLI)."

  static func main() {
    exit(CLI.run(Array(CommandLine.arguments.dropFirst()), verbs: Verb.device, abstract: abstract))
  }
}

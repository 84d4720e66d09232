import EmberCommands

import _EmberSystem

/// `ember-edge` (installed on devices as `ember`): the verbs of `ember` except `train`, through
/// the same option table, scanner, runner and exit statuses, without Foundation.
@main
enum EdgeCLI {
  static let abstract =
    "Energy-based models of tabular data: verify, score, classify and sample (device build; train with the full ember CLI)."

  static func main() {
    ember_sys_exit(CLI.run(arguments(), verbs: Verb.device, abstract: abstract))
  }

  /// The command line without the program name. Embedded Swift has no `CommandLine`: there the
  /// C entry point (tools/micro/main.c) records argv in _EmberSystem.
  static func arguments() -> [String] {
    #if hasFeature(Embedded)
      var args: [String] = []
      let count = Int(ember_sys_argument_count())
      if count > 1 { for i in 1..<count { args.append(String(cString: ember_sys_argument(Int32(i))!)) } }
      return args
    #else
      return Array(CommandLine.arguments.dropFirst())
    #endif
  }
}

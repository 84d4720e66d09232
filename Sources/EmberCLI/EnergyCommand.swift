import ArgumentParser
import EmberFormat
import EmberRuntime

/// `ember energy`: raw per-class energies and input gradients (diagnostics, cross-checks).
struct EnergyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "energy",
    abstract: "Print the encoded row, its class energies and, optionally, their input gradients.",
    discussion: """
      For each input row: the encoded values (enc_<i>), E_<label> for every class and, with \
      --gradient, dE_<label>_<i> = ∂E_label/∂enc_i for the chosen classes. Used to cross-check \
      the runtime against tools/python's numpy reference.
      """)

  @Argument(help: "The model file.") var model: String
  @Argument(help: "Input CSV with a header row ('-' for standard input).") var input: String = "-"
  @Option(name: .shortAndLong, help: "Output CSV (default: standard output). Written atomically.") var output: String?
  @Flag(help: "Add input gradients.") var gradient = false
  @Option(name: .customLong("class"), help: "Classes whose gradients to print (default: all).") var classes: [String] = []
  @OptionGroup var inputOptions: RowInputOptions

  func run() throws {
    try reportingFailures {
      let energy = try loadEnergyModel(model)
      let m = energy.model
      let d = energy.width
      let chosen = try (classes.isEmpty ? m.classes.map(\.label) : classes).map { label -> Int in
        guard let i = m.classIndex(of: label) else {
          throw CLIFailure.input("class \"\(label)\" is not in the model (classes: \(m.classes.map(\.label).joined(separator: ", ")))")
        }
        return i
      }
      let sink = try OutputSink(path: output)
      let workspace = EnergyWorkspace(energy, batch: 1)
      var g = [Float](repeating: 0, count: energy.gradientStride)
      var e: Float = 0
      var pending: [String] = []
      try RowPipeline(energy: energy, options: inputOptions, inputPath: input).run(
        header: { kept in
          var h = kept + (0..<d).map { "enc_\($0)" } + m.classes.map { "E_\($0.label)" }
          if gradient { for c in chosen { h += (0..<d).map { "dE_\(m.classes[c].label)_\($0)" } } }
          try sink.writeRow(h)
        },
        row: { row, energies in
          pending = row.kept
          pending += (0..<m.classes.count).map { energies[$0].description }
        },
        encoded: { _, x in
          var out = Array(pending.prefix(pending.count - m.classes.count))
          out += (0..<d).map { x[$0].description }
          out += pending.suffix(m.classes.count)
          if gradient {
            for c in chosen {
              g.withUnsafeMutableBufferPointer { gp in
                energy.energy(classIndex: c, rows: x, count: 1, into: &e, gradients: gp.baseAddress!, workspace: workspace)
              }
              out += (0..<d).map { g[$0].description }
            }
          }
          try sink.writeRow(out)
        })
      try sink.commit()
    }
  }
}

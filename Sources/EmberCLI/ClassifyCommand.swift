import ArgumentParser
import EmberFormat
import EmberRuntime

/// `ember classify`: per-row labels and class probabilities.
struct ClassifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "classify",
    abstract: "Classify rows with the class energies.",
    discussion: """
      p(c|x) ∝ exp(−E_c(x)/T + log π_c + offset_c) with the model's temperature T and offsets. \
      Output columns: label, then p_<label> for every class. Rows come out in input order.
      """)

  @Argument(help: "The model file.") var model: String
  @Argument(help: "Input CSV with a header row ('-' for standard input).") var input: String = "-"
  @Option(name: .shortAndLong, help: "Output CSV (default: standard output). Written atomically.") var output: String?
  @Flag(help: "Write only the label column.") var labelOnly = false
  @OptionGroup var inputOptions: RowInputOptions

  func run() throws {
    try reportingFailures {
      let energy = try loadEnergyModel(model)
      let readout = EnergyReadout(energy)
      let labels = energy.labels
      let sink = try OutputSink(path: output)
      sink.flushEachLine = inputOptions.stream
      var probs = [Float](repeating: 0, count: energy.classCount)
      try RowPipeline(energy: energy, options: inputOptions, inputPath: input).run(
        header: { kept in
          try sink.writeRow(kept + (inputOptions.stream ? ["line"] : []) + ["label"] + (labelOnly ? [] : labels.map { "p_\($0)" }))
        },
        row: { row, e in
          try probs.withUnsafeMutableBufferPointer { p in
            let best = readout.posteriors(e, into: p.baseAddress!)
            var out = row.kept
            if inputOptions.stream { out.append(String(row.line)) }
            out.append(labels[best])
            if !labelOnly { for c in 0..<labels.count { out.append(p[c].description) } }
            try sink.writeRow(out)
          }
        })
      try sink.commit()
    }
  }
}

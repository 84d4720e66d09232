import ArgumentParser
import EmberFormat
import EmberRuntime

/// `ember score`: per-row anomaly scores.
struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score",
    abstract: "Score rows for anomaly / out-of-distribution (higher = more anomalous).",
    discussion: """
      score = −log Σ_c π_c·exp(−E_c(x)), the negative log density of the prior-weighted mixture \
      of class energy models. Output columns: score, percentile (0–100, against held-out \
      in-distribution scores stored in the model), anomaly (1 when score > threshold), \
      nearest_class (the most probable class); with --energies one energy_<label> column per \
      class. Rows come out in input order.
      """)

  @Argument(help: "The model file.") var model: String
  @Argument(help: "Input CSV with a header row ('-' for standard input).") var input: String = "-"
  @Option(name: .shortAndLong, help: "Output CSV (default: standard output). Written atomically.") var output: String?
  @Option(help: "Anomaly threshold on the score (default: the model's calibrated threshold).") var threshold: Float?
  @Flag(help: "Add one energy_<label> column per class.") var energies = false
  @OptionGroup var inputOptions: RowInputOptions

  func run() throws {
    try reportingFailures {
      let energy = try loadEnergyModel(model)
      let readout = EnergyReadout(energy)
      let limit = threshold ?? energy.model.scoreCalibration?.threshold
      let calibration = energy.model.scoreCalibration
      let labels = energy.labels
      let sink = try OutputSink(path: output)
      sink.flushEachLine = inputOptions.stream
      var probs = [Float](repeating: 0, count: energy.classCount)
      try RowPipeline(energy: energy, options: inputOptions, inputPath: input).run(
        header: { kept in
          var h = kept + (inputOptions.stream ? ["line"] : []) + ["score", "percentile", "anomaly", "nearest_class"]
          if energies { h += labels.map { "energy_\($0)" } }
          try sink.writeRow(h)
        },
        row: { row, e in
          let s = readout.score(e)
          let best = probs.withUnsafeMutableBufferPointer { readout.posteriors(e, into: $0.baseAddress!) }
          var out = row.kept
          if inputOptions.stream { out.append(String(row.line)) }
          out.append(s.description)
          out.append(calibration.map { ($0.percentile(of: s) * 100).description } ?? "")
          out.append(limit.map { s > $0 ? "1" : "0" } ?? "")
          out.append(labels[best])
          if energies { for c in 0..<labels.count { out.append(e[c].description) } }
          try sink.writeRow(out)
        })
      try sink.commit()
    }
  }
}

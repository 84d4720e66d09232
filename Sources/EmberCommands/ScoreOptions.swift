import EmberFormat
import EmberRuntime

/// `ember score`: per-row anomaly scores (see ``VerbSpec/score``).
public struct ScoreOptions: Sendable {
  /// The model file.
  public var model: String
  /// Input CSV with a header row ("-" for standard input).
  public var input = "-"
  /// Output CSV (nil or "-": standard output), written atomically.
  public var output: String?
  /// Anomaly threshold (nil: the model's calibrated threshold).
  public var threshold: Float?
  /// Add one `energy_<label>` column per class.
  public var energies = false
  /// Input handling shared with classify and energy.
  public var inputOptions = RowInputOptions()

  /// Options for scoring with `model`.
  public init(model: String) { self.model = model }

  /// Scores every input row and writes the CSV.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let readout = EnergyReadout(energy)
    let limit = threshold ?? energy.model.scoreCalibration?.threshold
    let calibration = energy.model.scoreCalibration
    let labels = energy.labels
    let sink = try OutputSink(path: output)
    let stream = inputOptions.stream
    sink.flushEachLine = stream
    var probs = [Float](repeating: 0, count: energy.classCount)
    try RowPipeline(energy: energy, options: inputOptions, inputPath: input).run(
      header: { kept in
        var h = kept + (stream ? ["line"] : []) + ["score", "percentile", "anomaly", "nearest_class"]
        if energies { h += labels.map { "energy_\($0)" } }
        try sink.writeRow(h)
      },
      row: { row, e, x in
        let s = readout.score(e)
        let best = probs.withUnsafeMutableBufferPointer { readout.posteriors(e, row: x, into: $0.baseAddress!) }
        var out = row.kept
        if stream { out.append(String(row.line)) }
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

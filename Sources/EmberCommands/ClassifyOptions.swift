import EmberFormat
import EmberRuntime

/// `ember classify`: per-row labels and class probabilities (see ``VerbSpec/classify``).
public struct ClassifyOptions: Sendable {
  /// The model file.
  public var model: String
  /// Input CSV with a header row ("-" for standard input).
  public var input = "-"
  /// Output CSV (nil or "-": standard output), written atomically.
  public var output: String?
  /// Write only the label column.
  public var labelOnly = false
  /// Input handling shared with score and energy.
  public var inputOptions = RowInputOptions()

  /// Options for classifying with `model`.
  public init(model: String) { self.model = model }

  /// Classifies every input row and writes the CSV.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let readout = EnergyReadout(energy)
    let labels = energy.labels
    let sink = try OutputSink(path: output)
    let stream = inputOptions.stream
    sink.flushEachLine = stream
    var probs = [Float](repeating: 0, count: energy.classCount)
    try RowPipeline(energy: energy, options: inputOptions, inputPath: input).run(
      header: { kept in
        try sink.writeRow(kept + (stream ? ["line"] : []) + ["label"] + (labelOnly ? [] : labels.map { "p_\($0)" }))
      },
      row: { row, e, x in
        try probs.withUnsafeMutableBufferPointer { p in
          let best = readout.posteriors(e, row: x, into: p.baseAddress!)
          var out = row.kept
          if stream { out.append(String(row.line)) }
          out.append(labels[best])
          if !labelOnly { for c in 0..<labels.count { out.append(p[c].description) } }
          try sink.writeRow(out)
        }
      })
    try sink.commit()
  }
}

import EmberFormat
import EmberRuntime

/// `ember energy`: raw per-class energies and input gradients (see ``VerbSpec/energy``).
public struct EnergyOptions: Sendable {
  /// The model file.
  public var model: String
  /// Input CSV with a header row ("-" for standard input).
  public var input = "-"
  /// Output CSV (nil or "-": standard output), written atomically.
  public var output: String?
  /// Add input gradients.
  public var gradient = false
  /// Classes whose gradients to print (empty: all).
  public var classes: [String] = []
  /// Input handling shared with score and classify.
  public var inputOptions = RowInputOptions()

  /// Options for evaluating `model`.
  public init(model: String) { self.model = model }

  /// Writes encoded rows, energies and optional gradients as CSV.
  public func run() throws {
    let energy = try loadEnergyModel(model)
    let m = energy.model
    let d = energy.width
    let chosen = try (classes.isEmpty ? m.classes.map(\.label) : classes).map { label -> Int in
      guard let i = m.classIndex(of: label) else { throw unknownClass(label, in: m) }
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
      row: { row, energies, _ in
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

import EmberFormat
import EmberRuntime
import EmberText

// `score`, `classify`, `energy`: CSV rows in, one answer per row out, through the session.

extension Verb {
  /// `ember score MODEL [INPUT]`.
  public static let score = Verb(
    VerbSpec(
      name: "score",
      abstract: "Score rows for anomaly / out-of-distribution (higher = more anomalous).",
      discussion: """
        score = −log Σ_c π_c·exp(−E_c(x)), the negative log density of the prior-weighted mixture \
        of class energy models. Output columns: score, percentile (0–100, against held-out \
        in-distribution scores stored in the model), anomaly (1 when score > threshold, and for \
        every row holding a category never seen in training), nearest_class (the most probable \
        class); with --energies one energy_<label> column per class; with --explain k the k raw \
        columns that contribute most to the score and their shares (why_1, why_1_share, …). \
        Missing cells (empty, NA, N/A, na, ?, NaN, nan) are imputed as in training. Rows come out \
        in input order.
        """,
      arguments: [.model, .input],
      options: [.output, .threshold, .energies, .explain] + OptionSpec.rowInput)
  ) { p throws(CLIError) in
    let input = RowInput(p)
    let output = p.string(.output)
    let model = p.positional("model")
    try checkOutput(output, against: [model, input.input])
    let session = try openSession(model)
    let threshold = p.float(.threshold)
    let withEnergies = p.flag(.energies)
    let labels = session.labels
    let labelText = FieldTable(labels)
    var columns = (input.stream ? ["line"] : []) + ["score", "percentile", "anomaly", "nearest_class"]
    if withEnergies { columns += labels.map { "energy_" + $0 } }
    let explanation = try Explanation(k: p.int(.explain), session: session, threads: input.threads)
    columns += explanation?.columns ?? []
    try input.checkKeep(outputColumns: columns)
    let sink = try OutputSink(path: output)
    sink.flushEachLine = input.stream
    let summary = try RowPipeline(session: session, options: input).run(
      header: { (kept) throws(CLIError) in try sink.writeRow(kept + columns) },
      sink: sink,
      parallel: explanation == nil,
      prepare: explanation.map { e in { x, n in e.compute(x, n) } },
      row: { row, e, x, out in
        let text = out.text
        let s = session.score(e)
        let best = session.nearestClass(e, row: x, scratch: out.scratch)
        for k in row.kept { text.field(k) }
        if input.stream { text.field(row.line) }
        text.field(s)
        let none: StaticString = "", yes: StaticString = "1", no: StaticString = "0"
        if let p = session.percentile(ofScore: s) { text.field(p) } else { text.field(none) }
        text.field(session.isAnomaly(score: s, threshold: threshold, flags: row.flags).map { $0 ? yes : no } ?? none)
        text.field(labelText[best])
        if withEnergies { for c in 0..<labels.count { text.field(e[c]) } }
        if let explanation {
          var why: [String] = []
          explanation.append(to: &why)
          for f in why { text.field(f) }
        }
        text.endLine()
      })
    try sink.commit()
    noteUnknownCategories(summary, "read as missing and flagged anomalous (anomaly = 1)")
  }

  /// `ember classify MODEL [INPUT]`.
  public static let classify = Verb(
    VerbSpec(
      name: "classify",
      abstract: "Classify rows with the class energies.",
      discussion: """
        p(c|x) ∝ exp(−E_c(x)/T + log π_c + offset_c) with the model's temperature T and offsets \
        (or the model's stacked read-out). Output columns: label, then p_<label> for every \
        class. Rows come out in input order.
        """,
      arguments: [.model, .input],
      options: [.output, .labelOnly] + OptionSpec.rowInput)
  ) { p throws(CLIError) in
    let input = RowInput(p)
    let output = p.string(.output)
    let model = p.positional("model")
    try checkOutput(output, against: [model, input.input])
    let session = try openSession(model)
    let labelOnly = p.flag(.labelOnly)
    let labels = session.labels
    let labelText = FieldTable(labels)
    let columns = (input.stream ? ["line"] : []) + ["label"] + (labelOnly ? [] : labels.map { "p_" + $0 })
    try input.checkKeep(outputColumns: columns)
    let sink = try OutputSink(path: output)
    sink.flushEachLine = input.stream
    let summary = try RowPipeline(session: session, options: input).run(
      header: { (kept) throws(CLIError) in try sink.writeRow(kept + columns) },
      sink: sink,
      parallel: true,
      row: { row, e, x, out in
        let text = out.text
        let p = out.scratch
        let best = session.classify(e, row: x, probabilities: p)
        for k in row.kept { text.field(k) }
        if input.stream { text.field(row.line) }
        text.field(labelText[best])
        if !labelOnly { for c in 0..<labels.count { text.field(p[c]) } }
        text.endLine()
      })
    try sink.commit()
    noteUnknownCategories(summary, "read as missing")
  }

  /// `ember energy MODEL [INPUT]`.
  public static let energy = Verb(
    VerbSpec(
      name: "energy",
      abstract: "Print the encoded row, its class energies and, optionally, their input gradients.",
      discussion: """
        For each input row: the encoded values (enc_<i>), E_<label> for every class and, with \
        --gradient, dE_<label>_<i> = ∂E_label/∂enc_i for the chosen classes. Used to cross-check \
        the runtime against tools/python's numpy reference.
        """,
      arguments: [.model, .input],
      options: [.output, .gradient, .gradientClass] + OptionSpec.rowInput)
  ) { p throws(CLIError) in
    let input = RowInput(p)
    let output = p.string(.output)
    let model = p.positional("model")
    try checkOutput(output, against: [model, input.input])
    let session = try openSession(model)
    let d = session.width
    let labels = session.labels
    var chosen: [Int] = []
    for label in p.strings(.gradientClass).isEmpty ? labels : p.strings(.gradientClass) {
      chosen.append(try classIndex(label, in: session))
    }
    let gradient = p.flag(.gradient)
    var columns = (0..<d).map { "enc_\($0)" } + labels.map { "E_" + $0 }
    if gradient { for c in chosen { columns += (0..<d).map { "dE_\(labels[c])_\($0)" } } }
    try input.checkKeep(outputColumns: columns)
    let sink = try OutputSink(path: output)
    let evaluator = Evaluator(session)
    var g = [Float](repeating: 0, count: d)
    var e: Float = 0
    // One evaluator for the gradients: rows are formatted on the calling thread.
    let summary = try RowPipeline(session: session, options: input).run(
      header: { (kept) throws(CLIError) in try sink.writeRow(kept + columns) },
      sink: sink,
      parallel: false,
      row: { row, energies, x, out in
        let text = out.text
        for k in row.kept { text.field(k) }
        for i in 0..<d { text.field(x[i]) }
        for c in 0..<labels.count { text.field(energies[c]) }
        if gradient {
          for c in chosen {
            g.withUnsafeMutableBufferPointer { gp in
              evaluator.energyAndGradient(classIndex: c, rows: x, count: 1, energies: &e, gradients: gp.baseAddress!)
            }
            for v in g { text.field(v) }
          }
        }
        text.endLine()
      })
    try sink.commit()
    noteUnknownCategories(summary, "read as missing")
  }
}

/// The stderr note counting rows with unknown categories.
func noteUnknownCategories(_ s: RowPipeline.Summary, _ what: String) {
  guard s.unknownCategoryRows > 0 else { return }
  let n = s.unknownCategoryRows
  printNote("ember: \(n) row\(n == 1 ? "" : "s") held a category never seen in training: \(what)")
}

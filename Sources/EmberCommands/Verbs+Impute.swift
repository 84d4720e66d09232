import EmberFormat
import EmberRuntime
import EmberText

extension Verb {
  /// `ember impute MODEL [INPUT]`: every missing cell filled by conditional sampling.
  public static let impute = Verb(
    VerbSpec(
      name: "impute",
      abstract: "Fill missing cells from the model's conditional given the observed cells.",
      discussion: """
        Writes the input's columns back, in order, with every missing feature cell (empty, NA, \
        N/A, na, ?, NaN, nan, or a category never seen in training) filled in raw units from \
        the class energy conditioned on the row's observed cells (Metropolis-within-Gibbs with \
        the base term's analytic conditionals as proposals). By default each cell gets a point \
        imputation: a numeric or integer cell its conditional mean (within the training range; \
        an integer column keeps the fraction, as the mean of counts or flags has one), a \
        categorical cell its most probable category, estimated from \
        \(EmberSession.pointChains) chains per class. When the input has the target column, a row's label picks its \
        class; otherwise (or when the label is missing) the classes are weighed by the model's \
        posterior given the observed cells, and a missing label is filled with the most \
        probable class. With --draws N each row is written N times (multiple imputation) with \
        a draw column 1…N, each a draw from the conditional (its class drawn from the \
        posterior when unknown). The same \
        --seed gives byte-identical output whatever --threads is. Observed cells and extra \
        columns are copied unchanged.
        """,
      arguments: [.model, .input],
      options: [.output, .seed, .draws, .sweeps, .rowThreads, .delimiter, .unknownCategory, .quiet])
  ) { p throws(CLIError) in
    let input = p.positional("input")
    let output = p.string(.output)
    let model = p.positional("model")
    try checkOutput(output, against: [model, input])
    let session = try openSession(model)
    let seed = p.uint64(.seed) ?? 0
    let draws: Int? = p.string(.draws) != nil ? p.int(.draws) : nil  // nil: point imputation
    let copies = draws ?? 1
    let sweeps = p.int(.sweeps) ?? EmberSession.defaultSweeps
    let threads = EmberSession.workers(p.int(.rowThreads) ?? Parallel.availableCores)
    let policy = p.string(.unknownCategory).flatMap(UnknownCategoryPolicy.init(rawValue:)) ?? .missing
    let reader: CSVReader
    let first: [String]?
    do throws(TextError) {
      reader = try CSVReader(path: input, delimiter: p.character(.delimiter))
      first = try reader.next()?.strings()
    } catch {
      throw CLIError.text(error)
    }
    guard let header = first else { throw CLIError(.badInput, "\(reader.name):1: empty input: expected a header row") }
    let encoder: RowEncoder
    do throws(EmberRuntimeError) {
      encoder = try session.encoder(header: header, unknownCategories: policy)
    } catch {
      throw CLIError.runtime(error, at: "\(reader.name):1")
    }
    let m = session.model
    let targetColumn = m.target.isEmpty ? nil : header.firstIndex(of: m.target)
    let sink = try OutputSink(path: output)
    try sink.writeRow(header + (draws != nil ? ["draw"] : []))
    let d = session.width
    let f = m.features.count
    let chunk = 256 * threads
    var fields: [[String]] = []
    var x = [Float](repeating: 0, count: chunk * d)
    var missing = [Bool](repeating: false, count: chunk * f)
    var classes = [Int32](repeating: -1, count: chunk)
    var out = [Float](repeating: 0, count: chunk * copies * d)
    var outClasses = [Int32](repeating: 0, count: chunk * copies)
    var stats = ConditionalStats()
    var done = 0
    var filled = 0

    func flush() throws(CLIError) {
      let n = fields.count
      guard n > 0 else { return }
      do throws(EmberRuntimeError) {
        let s = try x.withUnsafeBufferPointer { xp throws(EmberRuntimeError) in
          try missing.withUnsafeBufferPointer { mp throws(EmberRuntimeError) in
            try classes.withUnsafeBufferPointer { cp throws(EmberRuntimeError) in
              try out.withUnsafeMutableBufferPointer { op throws(EmberRuntimeError) in
                try outClasses.withUnsafeMutableBufferPointer { ocp throws(EmberRuntimeError) in
                  try session.impute(
                    rows: xp.baseAddress!, missing: mp.baseAddress!, classes: cp.baseAddress!, count: n, firstRow: done,
                    draws: draws, seed: seed, sweeps: sweeps, threads: threads, into: op.baseAddress!, outClasses: ocp.baseAddress!)
                }
              }
            }
          }
        }
        stats.merge(s)
      } catch {
        throw CLIError.runtime(error)
      }
      for r in 0..<n {
        for t in 0..<copies {
          var row = fields[r]
          let chain = r * copies + t
          out.withUnsafeBufferPointer { op in
            for j in 0..<f where missing[r * f + j] {
              let encoded = op.baseAddress! + chain * d
              row[encoder.columns[j]] =
                draws == nil
                ? session.decoder.estimateField(j, of: encoded) : session.decoder.field(j, of: encoded)
            }
          }
          if let targetColumn, classes[r] < 0 { row[targetColumn] = session.labels[Int(outClasses[chain])] }
          if draws != nil { row.append(String(t + 1)) }
          try sink.writeRow(row)
        }
      }
      done += n
      fields.removeAll(keepingCapacity: true)
    }

    while true {
      let record: [String]
      let line: Int
      do throws(TextError) {
        guard let r = try reader.next() else { break }
        line = r.line
        record = try r.strings()
      } catch {
        throw CLIError.text(error)
      }
      guard record.count == header.count else {
        throw CLIError(.badInput, "\(reader.name):\(line): expected \(header.count) fields as in the header, found \(record.count)")
      }
      let i = fields.count
      do throws(EmberRuntimeError) {
        _ = try x.withUnsafeMutableBufferPointer { (xp) throws(EmberRuntimeError) in try encoder.encode(record, into: xp.baseAddress! + i * d) }
      } catch {
        throw CLIError.runtime(error, at: "\(reader.name):\(line):\(error.column.map { String($0 + 1) } ?? "?")")
      }
      let mask = encoder.missing(record)
      for j in 0..<f {
        missing[i * f + j] = mask[j]
        if mask[j] { filled += copies }
      }
      classes[i] = -1
      if let targetColumn {
        let text = Substring(record[targetColumn]).trimmingCharacters(in: " ")
        if !MissingValue.isMissing(text) {
          guard let c = m.classIndex(of: String(text)) else {
            throw CLIError(
              .badInput,
              "\(reader.name):\(line):\(targetColumn + 1): \"\(RowEncoderText.excerpt(String(text)))\" is not a class of the model (classes: \(RowEncoderText.listing(session.labels)))")
          }
          classes[i] = Int32(c)
        } else {
          filled += copies
        }
      }
      fields.append(record)
      if fields.count == chunk { try flush() }
    }
    try flush()
    guard done > 0 else { throw CLIError(.badInput, "\(reader.name): no data rows after the header") }
    try sink.commit()
    if !p.flag(.quiet) {
      let rate = stats.acceptanceRate.isNaN ? "" : ", acceptance \((stats.acceptanceRate * 1000).rounded() / 10)%"
      let what = draws.map { "× \($0) draw\($0 == 1 ? "" : "s")" } ?? "(point imputation, \(EmberSession.pointChains) chains per class)"
      printNote("ember impute: \(done) rows \(what), \(filled) cells filled, seed \(seed), \(sweeps) sweeps\(rate)")
    }
  }
}

extension Substring {
  /// Without leading and trailing copies of `c`.
  func trimmingCharacters(in c: Character) -> Substring {
    var s = self
    while s.first == c { s = s.dropFirst() }
    while s.last == c { s = s.dropLast() }
    return s
  }
}

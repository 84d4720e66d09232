import EmberFormat
import EmberRuntime
import EmberText

/// Input settings shared by `score`, `classify` and `energy`, read from their options.
struct RowInput {
  var input: String
  var delimiter: UInt8
  var unknownCategories: UnknownCategoryPolicy
  var threads: Int
  var stream: Bool
  var onError: OnError
  var keep: [String]

  init(_ p: ParsedArguments) {
    input = p.positional("input")
    delimiter = p.character(.delimiter)
    unknownCategories = p.string(.unknownCategory).flatMap(UnknownCategoryPolicy.init(rawValue:)) ?? .missing
    if p.flag(.unknownAsMissing) { unknownCategories = .missing }
    stream = p.flag(.stream)
    threads = stream ? 1 : EmberSession.workers(p.int(.rowThreads) ?? Parallel.availableCores)
    onError = p.string(.onError).flatMap(OnError.init(rawValue:)) ?? (stream ? .skip : .stop)
    keep = p.names(.keep)
  }

  /// Refuses `--keep` columns named twice or named like an output column.
  func checkKeep(outputColumns: [String]) throws(CLIError) {
    var seen = Set<String>()
    for name in keep {
      guard seen.insert(name).inserted else { throw CLIError(.usage, "--keep names the column \"\(name)\" twice") }
      guard !outputColumns.contains(name) else {
        throw CLIError(.usage, "--keep column \"\(name)\" would duplicate the output column \"\(name)\"")
      }
    }
  }
}

/// Reads CSV rows, encodes them through the session's encoder and evaluates all class energies
/// in batches split across threads (``Evaluator``); hands each row's energies (finite), in input
/// order, to a callback. Memory is bounded by the chunk size, not the input length.
struct RowPipeline {
  let session: EmberSession
  let options: RowInput

  /// A row ready for output.
  struct Row {
    /// 1-based input line number.
    let line: Int
    /// Values of the `--keep` columns.
    let kept: [String]
    /// What encoding found (e.g. an unknown category read as missing).
    let flags: RowFlags
  }

  /// What a run saw, for the closing note.
  struct Summary {
    var rows = 0
    var skipped = 0
    var unknownCategoryRows = 0
  }

  /// `prepare`, when given, sees each chunk's encoded rows (n×d) after its energies and before
  /// its rows are emitted (for per-row work that is done in parallel, e.g. explanations).
  func run(
    header emitHeader: ([String]) throws(CLIError) -> Void,
    prepare: ((UnsafePointer<Float>, Int) -> Void)? = nil,
    row emit: (Row, UnsafePointer<Float>, UnsafePointer<Float>) throws(CLIError) -> Void
  ) throws(CLIError) -> Summary {
    let reader: CSVReader
    let first: [String]?
    do {
      reader = try CSVReader(path: options.input, delimiter: options.delimiter)
      first = try reader.next()?.strings()
    } catch {
      throw CLIError.text(error)
    }
    guard let header = first else {
      throw CLIError(
        .badInput,
        "\(reader.name):1: empty input: expected a header row with the columns \(RowEncoderText.listing(session.model.features.map { $0.name }))")
    }
    if header.count == 1, session.model.features.count > 1 {
      // Byte search, not String.contains(String): that one lives in _StringProcessing, which
      // would drag the regex engine (+1.2 MB) into the static device binary.
      for (sep, name) in [(UInt8(ascii: ";"), "';'"), (UInt8(ascii: "\t"), "'\\t'"), (UInt8(ascii: "|"), "'|'")]
      where header[0].utf8.contains(sep) {
        throw CLIError(
          .badInput,
          "\(reader.name):1: the header has a single column \"\(RowEncoderText.excerpt(header[0]))\"; the file looks \(name)-separated: pass --delimiter \(name)")
      }
    }
    let encoder: RowEncoder
    do {
      encoder = try session.encoder(header: header, unknownCategories: options.unknownCategories)
    } catch {
      throw CLIError.runtime(error, at: "\(reader.name):1" + (error.column.map { ":\($0 + 1)" } ?? ""))
    }
    var keptIndex: [Int] = []
    for name in options.keep {
      guard let i = header.firstIndex(of: name) else {
        throw CLIError(.badInput, "\(reader.name):1: --keep column \"\(name)\" is not in the header")
      }
      keptIndex.append(i)
    }
    try emitHeader(options.keep)
    let d = session.width
    let c = session.classCount
    let evaluator = Evaluator(session, threads: options.threads)
    let chunk = options.stream ? 1 : Evaluator.batch * options.threads
    var x = [Float](repeating: 0, count: chunk * d)
    var e = [Float](repeating: 0, count: chunk * c)
    var rows: [Row] = []
    rows.reserveCapacity(chunk)
    var summary = Summary()
    let fieldCount = header.count

    func process() throws(CLIError) {
      let n = rows.count
      guard n > 0 else { return }
      x.withUnsafeBufferPointer { xp in
        e.withUnsafeMutableBufferPointer { ep in evaluator.energies(rows: xp.baseAddress!, count: n, into: ep.baseAddress!) }
        prepare?(xp.baseAddress!, n)
      }
      for (i, row) in rows.enumerated() {
        try e.withUnsafeBufferPointer { (ep) throws(CLIError) in
          try x.withUnsafeBufferPointer { (xp) throws(CLIError) in try emit(row, ep.baseAddress! + i * c, xp.baseAddress! + i * d) }
        }
      }
      rows.removeAll(keepingCapacity: true)
    }

    func skipOrStop(_ failure: CLIError) throws(CLIError) {
      if options.onError == .stop { throw failure }
      printNote("ember: skipped: \(failure.message)")
      summary.skipped += 1
    }

    while true {
      let record: CSVRecord
      do {
        guard let r = try reader.next() else { break }
        record = r
      } catch {
        // A syntax error (or an over-long record) leaves the reader mid-record: always fatal.
        throw CLIError.text(error)
      }
      let line = record.line
      guard record.count == fieldCount else {
        try skipOrStop(CLIError(.badInput, "\(reader.name):\(line): expected \(fieldCount) fields as in the header, found \(record.count)"))
        continue
      }
      let flags: RowFlags
      do throws(EmberRuntimeError) {
        flags = try x.withUnsafeMutableBufferPointer { (xp) throws(EmberRuntimeError) in
          try encoder.encode(record, into: xp.baseAddress! + rows.count * d)
        }
      } catch {
        try skipOrStop(CLIError.runtime(error, at: "\(reader.name):\(line):\(error.column.map { String($0 + 1) } ?? "?")"))
        continue
      }
      var kept: [String] = []
      do throws(TextError) {
        for i in keptIndex { kept.append(try record.string(i)) }
      } catch {
        try skipOrStop(CLIError.text(error))
        continue
      }
      if flags.contains(.unknownCategory) { summary.unknownCategoryRows += 1 }
      rows.append(Row(line: line, kept: kept, flags: flags))
      summary.rows += 1
      if rows.count == chunk { try process() }
    }
    try process()
    if summary.rows == 0 {
      throw CLIError(
        .badInput, "\(reader.name): no data rows\(summary.skipped > 0 ? " could be read (\(summary.skipped) skipped)" : " after the header")")
    }
    if summary.skipped > 0 {
      printNote("ember: \(summary.skipped) row\(summary.skipped == 1 ? "" : "s") skipped, \(summary.rows) processed")
    }
    return summary
  }
}

/// Short forms of input text for messages.
enum RowEncoderText {
  /// At most 40 characters.
  static func excerpt(_ s: String) -> String { s.count <= 40 ? s : String(s.prefix(40)) + "…" }
  /// At most 20 names.
  static func listing(_ names: [String]) -> String {
    names.count <= 20 ? names.joined(separator: ", ") : names.prefix(20).joined(separator: ", ") + ", … (\(names.count) columns)"
  }
}

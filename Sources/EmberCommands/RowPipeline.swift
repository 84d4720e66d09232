import EmberFormat
import EmberRuntime

/// What to do with a row that cannot be read.
public enum OnError: String, CaseIterable, Sendable {
  /// Stop with a non-zero exit status.
  case stop
  /// Report the row on stderr and go on.
  case skip
}

/// Input options shared by `score`, `classify` and `energy`.
public struct RowInputOptions: Sendable {
  /// Field delimiter: one character, or `\t` for tab.
  public var delimiter: String = ","
  /// Impute categories the model does not know instead of failing.
  public var unknownAsMissing = false
  /// Treat NaN cells as missing (imputed) instead of failing.
  public var nanAsMissing = false
  /// Threads to split rows across (nil: all cores).
  public var threads: Int?
  /// Read rows one at a time and write each result at once.
  public var stream = false
  /// Policy for bad rows (nil: stop, or skip with ``stream``).
  public var onError: OnError?
  /// Input columns to copy into the output, comma-separated.
  public var keep: String?

  /// Default options.
  public init() {}

  func delimiterByte() throws -> UInt8 {
    let d = delimiter == "\\t" ? "\t" : delimiter
    guard d.utf8.count == 1, let b = d.utf8.first, b != 0x22, b != 0x0A, b != 0x0D else {
      throw UsageError("--delimiter must be a single character other than a quote or newline")
    }
    return b
  }

  var threadCount: Int { max(1, threads ?? Parallel.availableCores) }
  var errorPolicy: OnError { onError ?? (stream ? .skip : .stop) }
  var keptColumns: [String] { keep.map { $0.split(separator: ",").map { String($0) } } ?? [] }
}

/// Reads CSV rows, encodes them with the model's specs and evaluates all class energies in
/// batches split across threads; hands each row's energies, in input order, to a callback.
/// Memory is bounded by the batch size, not the input length.
struct RowPipeline {
  let energy: EnergyModel
  let options: RowInputOptions
  let inputPath: String

  /// A row ready for output.
  struct Row {
    /// 1-based input line number.
    let line: Int
    /// Values of the `--keep` columns.
    let kept: [String]
  }

  func run(
    header emitHeader: ([String]) throws -> Void,
    row emit: (Row, _ energies: UnsafePointer<Float>, _ encoded: UnsafePointer<Float>) throws -> Void,
    encoded emitEncoded: ((Row, UnsafePointer<Float>) throws -> Void)? = nil
  ) throws {
    let reader = try CSVRecordReader(path: inputPath, delimiter: try options.delimiterByte())
    guard let header = try reader.next() else {
      throw CLIFailure.input("\(reader.name):1: empty input: expected a header row with the columns \(energy.model.features.map(\.name).joined(separator: ", "))")
    }
    if header.count == 1, energy.model.features.count > 1 {
      // Byte search, not String.contains(String): that one lives in _StringProcessing, which
      // would drag the regex engine (+1.2 MB) into the static device binary.
      for (sep, name) in [(UInt8(ascii: ";"), "';'"), (UInt8(ascii: "\t"), "'\\t'"), (UInt8(ascii: "|"), "'|'")]
      where header[0].utf8.contains(sep) {
        throw CLIFailure.input("\(reader.name):1: the header has a single column \"\(header[0])\"; the file looks \(name)-separated: pass --delimiter \(name)")
      }
    }
    let encoder: RowEncoder
    do {
      encoder = try RowEncoder(
        model: energy.model, header: header, unknownCategories: options.unknownAsMissing ? .missing : .error,
        nanIsMissing: options.nanAsMissing)
    } catch let e as EmberRuntimeError {
      throw CLIFailure.input("\(reader.name):1: \(e.message)")
    }
    let keptIndex = try options.keptColumns.map { name -> Int in
      guard let i = header.firstIndex(of: name) else {
        throw CLIFailure.input("\(reader.name):1: --keep column \"\(name)\" is not in the header")
      }
      return i
    }
    try emitHeader(options.keptColumns)
    let d = energy.width
    let c = energy.classCount
    let threads = options.stream ? 1 : options.threadCount
    let perThread = 64
    let chunk = options.stream ? 1 : perThread * threads
    // Workspaces for more than one thread are made only once a chunk holds more than one
    // batch: a short input (one row, a few hundred) stays on one thread and one workspace.
    var workspaces = [EnergyWorkspace(energy, batch: perThread)]
    var x = [Float](repeating: 0, count: chunk * d)
    var e = [Float](repeating: 0, count: chunk * c)
    var rows: [Row] = []
    rows.reserveCapacity(chunk)
    var total = 0
    var skipped = 0
    let fieldCount = header.count

    func process() throws {
      let n = rows.count
      guard n > 0 else { return }
      let pieces = (n + perThread - 1) / perThread
      while workspaces.count < min(threads, pieces) { workspaces.append(EnergyWorkspace(energy, batch: perThread)) }
      let used = workspaces.count
      let ws = workspaces
      x.withUnsafeBufferPointer { xp in
        e.withUnsafeMutableBufferPointer { ep in
          Parallel.forEach(pieces, threads: used) { p in
            let start = p * perThread
            let m = min(perThread, n - start)
            energy.energies(rows: xp.baseAddress! + start * d, count: m, into: ep.baseAddress! + start * c, workspace: ws[p % used])
            EnergyReadout.sanitize(ep.baseAddress! + start * c, count: m * c)
          }
        }
      }
      try e.withUnsafeBufferPointer { ep in
        try x.withUnsafeBufferPointer { xp in
          for (i, row) in rows.enumerated() {
            try emit(row, ep.baseAddress! + i * c, xp.baseAddress! + i * d)
            try emitEncoded?(row, xp.baseAddress! + i * d)
          }
        }
      }
      rows.removeAll(keepingCapacity: true)
    }

    while true {
      let fields: [String]
      do {
        guard let f = try reader.next() else { break }
        fields = f
      } catch let error as CSVInputError {
        // A syntax error leaves the reader mid-record: always fatal.
        throw error
      }
      let line = reader.recordLine
      do {
        guard fields.count == fieldCount else {
          throw CLIFailure.input("\(reader.name):\(line): expected \(fieldCount) fields as in the header, found \(fields.count)")
        }
        try x.withUnsafeMutableBufferPointer { xp in
          try encoder.encode(fields, into: xp.baseAddress! + rows.count * d)
        }
      } catch let failure as CLIFailure {
        if options.errorPolicy == .stop { throw failure }
        printNote("ember: skipped: \(failure.message)")
        skipped += 1
        continue
      } catch let error as EmberRuntimeError {
        let column = header.firstIndex(of: error.location).map { $0 + 1 }
        let message = "\(reader.name):\(line):\(column.map(String.init) ?? "?"): column \"\(error.location)\": \(error.message)"
        if options.errorPolicy == .stop { throw CLIFailure.input(message) }
        printNote("ember: skipped: \(message)")
        skipped += 1
        continue
      }
      rows.append(Row(line: line, kept: keptIndex.map { fields[$0] }))
      total += 1
      if rows.count == chunk { try process() }
    }
    try process()
    if total == 0 {
      throw CLIFailure.input("\(reader.name): no data rows\(skipped > 0 ? " could be read (\(skipped) skipped)" : " after the header")")
    }
    if skipped > 0 { printNote("ember: \(skipped) row\(skipped == 1 ? "" : "s") skipped, \(total) processed") }
  }
}

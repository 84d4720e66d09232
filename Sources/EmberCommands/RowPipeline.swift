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

/// Reads CSV rows, encodes them through the session's encoder, evaluates all class energies
/// and formats each row's output line, in batches split across threads (``Evaluator``); writes
/// the lines to the sink in input order. Memory is bounded by the batch size, not the input
/// length; the output never depends on the thread count.
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

  /// Where a row's output goes: the text of the current worker (or of the calling thread) and
  /// `classes` floats of scratch memory of its own.
  struct Out {
    let text: RowText
    let scratch: UnsafeMutablePointer<Float>
  }

  /// What a run saw, for the closing note.
  struct Summary {
    var rows = 0
    var skipped = 0
    var unknownCategoryRows = 0
  }

  /// Writes the header line (`emitHeader`, given the `--keep` names), then every good row's
  /// line: `format` appends it to `out.text` from the row, its energies (C values) and its
  /// encoded values (d values). With `parallel`, `format` runs on the worker threads, each row
  /// right after its energies (it must only read shared state; its `out` is the worker's
  /// own); otherwise on the calling thread, in input order, after `prepare` (when given) has
  /// seen the batch's good encoded rows (n×d, for per-batch work such as explanations).
  func run(
    header emitHeader: ([String]) throws(CLIError) -> Void,
    sink: OutputSink,
    parallel: Bool,
    prepare: ((UnsafePointer<Float>, Int) -> Void)? = nil,
    row format: (Row, UnsafePointer<Float>, UnsafePointer<Float>, Out) -> Void
  ) throws(CLIError) -> Summary {
    let reader: CSVReader
    let first: [String]?
    do {
      // Reading overlaps the work (below) with two sets of reader buffers: half-size reads
      // keep the memory of one default set.
      reader = try CSVReader(
        path: options.input, delimiter: options.delimiter,
        chunkBytes: parallel && options.threads > 1 ? CSVReader.defaultChunkBytes / 2 : CSVReader.defaultChunkBytes)
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
    var summary = Summary()
    let batch = Batch(session: session, rows: options.stream ? 1 : RowPipeline.batchRows, threads: options.threads)
    ProcessLifetime.batches.append(batch)
    // With rows formatted in parallel on several threads, the current batch is moved out of
    // the reader; this thread reads (and splits) the next batch while the others work on the
    // current one, then joins them.
    let overlap = parallel && options.threads > 1
    let copy = CSVBatchCopy()
    var next = RowPipeline.read(reader, batch.capacity)
    while true {
      guard case .records(let records) = next else {
        if case .failure(let error) = next { throw error }
        break
      }
      if overlap {
        records.move(into: copy)
        batch.process(copy, encoder: encoder, fieldCount: header.count, kept: keptIndex, formats: true, format: format) {
          next = RowPipeline.read(reader, batch.capacity)
        }
      } else {
        batch.process(records, encoder: encoder, fieldCount: header.count, kept: keptIndex, formats: parallel, format: format)
      }
      // In input order: refused rows first reported (or fatal), then the batch's lines.
      var good = 0
      for i in 0..<records.count {
        if let failure = batch.slots[i].failure {
          if options.onError == .stop { throw failure }
          printNote("ember: skipped: \(failure.message)")
          summary.skipped += 1
          continue
        }
        if batch.slots[i].row.flags.contains(.unknownCategory) { summary.unknownCategoryRows += 1 }
        if !parallel && good != i { batch.move(i, to: good) }
        good += 1
      }
      summary.rows += good
      if parallel {
        for p in 0..<batch.pieces { try sink.write(batch.texts[p]) }
      } else if good > 0 {
        prepare?(batch.x, good)
        let out = Out(text: batch.texts[0], scratch: batch.scratch)
        out.text.removeAll()
        for i in 0..<good { format(batch.slots[i].row, batch.e + i * batch.classes, batch.x + i * batch.width, out) }
        try sink.write(out.text)
      }
      if !overlap { next = RowPipeline.read(reader, batch.capacity) }
    }
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

extension RowPipeline {
  /// What reading the next batch gave.
  enum Read {
    case records(CSVBatch)
    case end
    case failure(CLIError)
  }

  /// The reader's next batch of at most `rows` records. A syntax error (or an over-long
  /// record) leaves the reader mid-record: always fatal, after the rows before it.
  static func read(_ reader: CSVReader, _ rows: Int) -> Read {
    do {
      guard let r = try reader.nextBatch(maxRecords: rows) else { return .end }
      return .records(r)
    } catch {
      return .failure(CLIError.text(error))
    }
  }

  /// Records read, encoded and evaluated together (one reader batch); fixed, so that what is
  /// computed together never depends on the thread count.
  static let batchRows = 1024

  /// One row's slot in a batch: the row for output, or why it was refused.
  struct Slot {
    var row = Row(line: 0, kept: [], flags: [])
    var failure: CLIError?
  }

  /// Rows encoded, evaluated and formatted together by one thread: the unit of work handed
  /// out within a batch.
  static let pieceRows = 64

  /// Buffers for one batch: encoded rows (n×d), energies (n×C), row slots, one output text per
  /// piece of ``pieceRows`` rows, and per thread an evaluator and C floats of scratch. Threads
  /// take the next piece until none is left; each buffer row is written by one thread, and
  /// what a piece computes does not depend on which thread runs it.
  final class Batch {
    let capacity: Int
    let width: Int
    let classes: Int
    let x: UnsafeMutablePointer<Float>
    let e: UnsafeMutablePointer<Float>
    let slots: UnsafeMutablePointer<Slot>
    /// Piece p's output lines (when formatted in parallel).
    let texts: [RowText]
    /// Thread w's scratch: `classes` floats at `scratch + w * classes`.
    let scratch: UnsafeMutablePointer<Float>
    private let evaluators: [Evaluator]

    init(session: EmberSession, rows: Int, threads: Int) {
      capacity = rows
      width = session.width
      classes = session.classCount
      // Written before read, batch by batch: left uninitialised, so that a short input
      // touches only the pages it uses.
      x = .allocate(capacity: max(rows * width, 1))
      e = .allocate(capacity: max(rows * classes, 1))
      slots = .allocate(capacity: rows)
      let workers = max(1, threads)
      evaluators = (0..<workers).map { _ in Evaluator(session) }
      texts = (0..<max(1, (rows + RowPipeline.pieceRows - 1) / RowPipeline.pieceRows)).map { _ in RowText(capacity: 256) }
      scratch = .allocate(capacity: max(workers * classes, 1))
    }

    /// Slots initialised by the last ``process(_:encoder:fieldCount:kept:formats:format:first:)``.
    private(set) var filled = 0
    /// The pieces of the last batch (their texts hold its lines, in order).
    private(set) var pieces = 0

    deinit {
      clear()
      x.deallocate()
      e.deallocate()
      slots.deallocate()
      scratch.deallocate()
    }

    /// Deinitialises the slots of the last batch.
    func clear() {
      slots.deinitialize(count: filled)
      filled = 0
    }

    /// Encodes every record into its slot (or records why it was refused), evaluates the
    /// energies of each piece, refused slots included (their values are never used), and,
    /// when `formats`, appends each good row's line to its piece's text. With `first`, the
    /// calling thread runs it before it takes pieces (the records must then not be the
    /// reader's current batch when `first` reads on).
    func process<Records: CSVRecords>(
      _ records: Records, encoder: RowEncoder, fieldCount: Int, kept: [Int], formats: Bool,
      format: (Row, UnsafePointer<Float>, UnsafePointer<Float>, Out) -> Void, first: (() -> Void)? = nil
    ) {
      clear()
      let n = records.count
      filled = n
      let pieceRows = RowPipeline.pieceRows
      pieces = (n + pieceRows - 1) / pieceRows
      Parallel.claiming(pieces, threads: evaluators.count, first: first) { p, w in
        let lo = p * pieceRows
        let hi = min(n, lo + pieceRows)
        for i in lo..<hi {
          let row = self.x + i * self.width
          let slot = Batch.encode(records[i], encoder: encoder, fieldCount: fieldCount, kept: kept, into: row)
          // A refused row's values are evaluated but never used: make them defined.
          if slot.failure != nil { row.update(repeating: 0, count: self.width) }
          (self.slots + i).initialize(to: slot)
        }
        self.evaluators[w].energies(rows: self.x + lo * self.width, count: hi - lo, into: self.e + lo * self.classes)
        guard formats else { return }
        let out = Out(text: self.texts[p], scratch: self.scratch + w * self.classes)
        out.text.removeAll()
        for i in lo..<hi where self.slots[i].failure == nil {
          format(self.slots[i].row, self.e + i * self.classes, self.x + i * self.width, out)
        }
      }
    }

    private static func encode(
      _ record: CSVRecord, encoder: RowEncoder, fieldCount: Int, kept: [Int], into x: UnsafeMutablePointer<Float>
    ) -> Slot {
      let name = record.reader.name
      let line = record.line
      guard record.count == fieldCount else {
        return Slot(failure: CLIError(.badInput, "\(name):\(line): expected \(fieldCount) fields as in the header, found \(record.count)"))
      }
      let flags: RowFlags
      do throws(EmberRuntimeError) {
        flags = try encoder.encode(record, into: x)
      } catch {
        return Slot(failure: CLIError.runtime(error, at: "\(name):\(line):\(error.column.map { String($0 + 1) } ?? "?")"))
      }
      var values: [String] = []
      if !kept.isEmpty {
        do throws(TextError) {
          for i in kept { values.append(try record.string(i)) }
        } catch {
          return Slot(failure: CLIError.text(error))
        }
      }
      return Slot(row: Row(line: line, kept: values, flags: flags))
    }

    /// Moves slot, encoded row and energies `i` to `j` (< i).
    func move(_ i: Int, to j: Int) {
      slots[j] = slots[i]
      (x + j * width).update(from: x + i * width, count: width)
      (e + j * classes).update(from: e + i * classes, count: classes)
    }
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

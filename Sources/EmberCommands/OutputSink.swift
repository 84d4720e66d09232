import EmberFormat
import EmberText

/// CSV output to standard output or to a file opened by ``AtomicFile/open(_:)`` (a regular
/// file is replaced atomically by ``commit()``, a device or FIFO written directly; an error or
/// a signal never leaves a partial file or a temporary one), buffered by EmberText's
/// ``TextOutput``.
final class OutputSink {
  private let destination: AtomicFile.Destination?
  private let out: TextOutput
  private var fieldsInLine = 0

  /// Flush after every line (streaming mode).
  var flushEachLine: Bool {
    get { out.flushesEachLine }
    set { out.flushesEachLine = newValue }
  }

  /// Standard output when `path` is nil or "-", otherwise `path`.
  init(path: String?) throws(CLIError) {
    if let path, path != "-" {
      do {
        destination = try AtomicFile.open(path)
      } catch {
        throw CLIError.output(error)
      }
      out = TextOutput(fileDescriptor: destination!.fd, name: path)
    } else {
      destination = nil
      out = TextOutput(fileDescriptor: 1, name: "<stdout>")
    }
  }

  /// Appends one CSV line (fields quoted when needed).
  func writeRow(_ fields: [String]) throws(CLIError) {
    do {
      try out.appendRow(fields)
    } catch {
      throw CLIError.text(error)
    }
  }

  /// Appends the lines held by `text` (rows formatted by ``RowPipeline``).
  func write(_ text: RowText) throws(CLIError) {
    do {
      try out.append(text)
    } catch {
      throw CLIError.text(error)
    }
  }

  /// Appends one field of the current line (quoted when needed), after a separator unless it
  /// is the line's first. For per-row output without building an array of strings.
  func field(_ text: String) throws(CLIError) {
    try nextField { () throws(TextError) in try out.appendField(text) }
  }

  /// Appends a float field: its shortest round-trip text (`description`; never quoted).
  func field(_ value: Float) throws(CLIError) {
    try nextField { () throws(TextError) in try out.append(value) }
  }

  /// Appends an integer field in decimal.
  func field(_ value: Int) throws(CLIError) {
    try nextField { () throws(TextError) in try out.append(value) }
  }

  /// Writes one field of the current line with `write`, after a separator unless it is the
  /// line's first; a text error becomes the CLI's.
  private func nextField(_ write: () throws(TextError) -> Void) throws(CLIError) {
    do {
      if fieldsInLine > 0 { try out.append(byte: out.delimiter) }
      try write()
    } catch {
      throw CLIError.text(error)
    }
    fieldsInLine += 1
  }

  /// Ends the current line (see ``field(_:)-(String)``).
  func endRow() throws(CLIError) {
    fieldsInLine = 0
    do {
      try out.endLine()
    } catch {
      throw CLIError.text(error)
    }
  }

  /// Flushes and finishes the file (rename into place for a regular file).
  func commit() throws(CLIError) {
    do {
      try out.flush()
    } catch {
      throw CLIError.text(error)
    }
    do {
      try destination?.commit()
    } catch {
      throw CLIError.output(error)
    }
  }
}

import EmberFormat
import EmberText

/// CSV output to standard output or to a file opened by ``AtomicFile/open(_:)`` (a regular
/// file is replaced atomically by ``commit()``, a device or FIFO written directly; an error or
/// a signal never leaves a partial file or a temporary one), buffered by EmberText's
/// ``TextOutput``.
final class OutputSink {
  private let destination: AtomicFile.Destination?
  private let out: TextOutput

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

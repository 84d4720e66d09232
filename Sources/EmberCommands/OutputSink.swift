import EmberFormat

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Buffered CSV output to standard output or to a file opened by ``AtomicFile/open(_:)``
/// (a regular file is replaced atomically by ``commit()``, a device or FIFO written directly;
/// an error or a signal never leaves a partial file or a temporary one).
final class OutputSink {
  private let fd: Int32
  private let destination: AtomicFile.Destination?
  private let name: String
  private var buffer: [UInt8] = []
  /// Flush after every line (streaming mode).
  var flushEachLine = false

  /// Standard output when `path` is nil or "-", otherwise `path`.
  init(path: String?) throws(CLIError) {
    if let path, path != "-" {
      do {
        destination = try AtomicFile.open(path)
      } catch {
        throw CLIError.output(error)
      }
      fd = destination!.fd
      name = path
    } else {
      destination = nil
      fd = 1
      name = "<stdout>"
    }
    buffer.reserveCapacity(1 << 16)
  }

  /// Appends one CSV line (fields quoted when needed) and a newline.
  func writeRow(_ fields: [String]) throws(CLIError) {
    for (i, f) in fields.enumerated() {
      if i > 0 { buffer.append(0x2C) }
      appendField(f)
    }
    buffer.append(0x0A)
    if flushEachLine || buffer.count >= 1 << 16 { try flush() }
  }

  /// Appends raw text (must end lines itself).
  func write(_ text: String) throws(CLIError) {
    buffer.append(contentsOf: text.utf8)
    if flushEachLine || buffer.count >= 1 << 16 { try flush() }
  }

  private func appendField(_ f: String) {
    let needsQuotes = f.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
    if !needsQuotes {
      buffer.append(contentsOf: f.utf8)
      return
    }
    buffer.append(0x22)
    for b in f.utf8 {
      if b == 0x22 { buffer.append(0x22) }
      buffer.append(b)
    }
    buffer.append(0x22)
  }

  /// Writes buffered bytes out.
  func flush() throws(CLIError) {
    var offset = 0
    while offset < buffer.count {
      let n = buffer.withUnsafeBytes { p in systemWrite(fd, p.baseAddress! + offset, p.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        throw CLIError(.output, "\(name): write failed: \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes and finishes the file (rename into place for a regular file).
  func commit() throws(CLIError) {
    try flush()
    do {
      try destination?.commit()
    } catch {
      throw CLIError.output(error)
    }
  }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

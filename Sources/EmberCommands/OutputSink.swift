import EmberFormat

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Buffered CSV output to standard output or to a file. A file is written to a temporary
/// sibling and renamed into place by ``commit()``, so an error never leaves a partial file.
final class OutputSink {
  private let fd: Int32
  private let finalPath: String?
  private let tempPath: String?
  private var buffer: [UInt8] = []
  private var committed = false
  /// Flush after every line (streaming mode).
  var flushEachLine = false

  /// Standard output when `path` is nil or "-", otherwise an atomic file at `path`.
  init(path: String?) throws {
    if let path, path != "-" {
      var template = Array((path + ".tmp-XXXXXX").utf8CString)
      let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
      guard fd >= 0 else {
        throw CLIFailure.io("\(path): cannot create the output file: \(String(cString: strerror(errno)))")
      }
      fchmod(fd, 0o644)
      self.fd = fd
      finalPath = path
      tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    } else {
      fd = 1
      finalPath = nil
      tempPath = nil
    }
    buffer.reserveCapacity(1 << 16)
  }

  deinit {
    if let tempPath, !committed {
      close(fd)
      unlink(tempPath)
    }
  }

  /// Appends one CSV line (fields quoted when needed) and a newline.
  func writeRow(_ fields: [String]) throws {
    for (i, f) in fields.enumerated() {
      if i > 0 { buffer.append(0x2C) }
      appendField(f)
    }
    buffer.append(0x0A)
    if flushEachLine || buffer.count >= 1 << 16 { try flush() }
  }

  /// Appends raw text (must end lines itself).
  func write(_ text: String) throws {
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
  func flush() throws {
    var offset = 0
    while offset < buffer.count {
      let n = buffer.withUnsafeBytes { p in Glibc.write(fd, p.baseAddress! + offset, p.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        throw CLIFailure.io("\(finalPath ?? "<stdout>"): write failed: \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes and, for a file, fsyncs and renames it into place.
  func commit() throws {
    try flush()
    guard let finalPath, let tempPath else { return }
    guard fsync(fd) == 0 else { throw CLIFailure.io("\(finalPath): fsync failed: \(String(cString: strerror(errno)))") }
    close(fd)
    guard rename(tempPath, finalPath) == 0 else {
      unlink(tempPath)
      committed = true
      throw CLIFailure.io("\(finalPath): cannot move the output into place: \(String(cString: strerror(errno)))")
    }
    committed = true
  }
}

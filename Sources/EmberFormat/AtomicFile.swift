#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Crash-safe file replacement: bytes go to a temporary file in the target's directory, are
/// fsynced, then renamed over the target (and the directory fsynced). Readers see the old file
/// or the new one, never a mix.
public enum AtomicFile {
  /// Writes `bytes` to `path` atomically. Throws ``EmberFormatError`` (`.io`) naming the path.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    var template = Array((path + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw ioError("cannot create a temporary file next to it", path) }
    let tmpPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    var ok = false
    defer {
      if !ok { unlink(tmpPath) }
    }
    var written = 0
    try bytes.withUnsafeBytes { raw in
      while written < raw.count {
        let n = systemWrite(fd, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          close(fd)
          throw ioError("write failed", path)
        }
        written += n
      }
    }
    fchmod(fd, 0o644)
    guard fsync(fd) == 0 else {
      close(fd)
      throw ioError("fsync failed", path)
    }
    close(fd)
    guard rename(tmpPath, path) == 0 else { throw ioError("cannot rename the temporary file into place", path) }
    ok = true
    let dir = directory(of: path)
    let dfd = open(dir, O_RDONLY)
    if dfd >= 0 {
      fsync(dfd)
      close(dfd)
    }
  }

  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  static func ioError(_ what: String, _ path: String) -> EmberFormatError {
    EmberFormatError(.io, "\(what): \(String(cString: strerror(errno)))", at: path)
  }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.write(fd, p, n)
  #else
    return Musl.write(fd, p, n)
  #endif
}

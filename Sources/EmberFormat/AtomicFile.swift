import _EmberSystem

/// Crash-safe file replacement: bytes go to a temporary file in the target's directory, are
/// fsynced, then renamed over the target (and the directory fsynced). Readers see the old file
/// or the new one, never a mix. OS calls go through `_EmberSystem`.
public enum AtomicFile {
  /// Writes `bytes` to `path` atomically. Throws ``EmberFormatError`` (`.io`) naming the path.
  public static func write(_ bytes: [UInt8], to path: String) throws(EmberFormatError) {
    var template = Array((path + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { ember_sys_make_temporary($0.baseAddress!, 0o644) }
    guard fd >= 0 else { throw ioError("cannot create a temporary file next to it", fd, path) }
    let tmpPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    let written = bytes.withUnsafeBytes { ember_sys_write_all(fd, $0.baseAddress, $0.count) }
    guard written == 0 else {
      _ = ember_sys_close(fd)
      _ = ember_sys_unlink(tmpPath)
      throw ioError("write failed", written, path)
    }
    let synced = ember_sys_fsync(fd)
    _ = ember_sys_close(fd)
    guard synced == 0 else {
      _ = ember_sys_unlink(tmpPath)
      throw ioError("fsync failed", synced, path)
    }
    let renamed = ember_sys_rename(tmpPath, path)
    guard renamed == 0 else {
      _ = ember_sys_unlink(tmpPath)
      throw ioError("cannot rename the temporary file into place", renamed, path)
    }
    ember_sys_fsync_directory(directory(of: path))
  }

  static func directory(of path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  /// An `.io` error for a failed call that returned `-errno` in `status`.
  static func ioError(_ what: String, _ status: Int32, _ path: String) -> EmberFormatError {
    EmberFormatError(.io, "\(what): \(String(cString: ember_sys_strerror(-status)))", at: path)
  }
}

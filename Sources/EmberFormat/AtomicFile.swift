import _EmberSystem

/// Crash-safe output files. ``open(_:)`` decides, once, how a path is written:
///
/// - a regular file or a new path: bytes go to a temporary sibling (`PATH.tmp-XXXXXX`), are
///   fsynced, then renamed over the path (and the directory fsynced) by
///   ``Destination/commit()``; readers see the old file or the new one, never a mix; an existing
///   file keeps its permission bits;
/// - a symbolic link: followed (up to 40 links); its final target is replaced as above, the
///   link itself stays;
/// - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe): written directly,
///   never replaced by a regular file;
/// - a directory: refused.
///
/// Until commit, the temporary file is removed when the destination is abandoned (an error)
/// and when the process receives SIGINT, SIGTERM or SIGHUP: no `*.tmp-*` file is left behind
/// (`_EmberSystem`'s temporary-file table and signal handlers). OS calls go through
/// `_EmberSystem`, so the file builds in Embedded Swift too.
public enum AtomicFile {
  /// An output opened by ``open(_:)``: write to ``fd``, then ``commit()``.
  public final class Destination {
    /// File descriptor to write to.
    public let fd: Int32
    /// The path as given (for messages).
    public let path: String
    /// Final path the temporary file is renamed to (nil: written directly).
    let target: String?
    /// The temporary file (nil: written directly).
    let temporary: String?
    private var finished = false

    init(fd: Int32, path: String, target: String?, temporary: String?) {
      self.fd = fd
      self.path = path
      self.target = target
      self.temporary = temporary
    }

    /// Whether bytes go through a temporary file renamed into place.
    public var isAtomic: Bool { temporary != nil }

    /// Finishes the file: fsync + rename for a regular file, close for a direct one. Throws
    /// ``EmberFormatError`` (`.io`) naming the path; the temporary file is then removed.
    public func commit() throws(EmberFormatError) {
      guard !finished else { return }
      finished = true
      guard let target, let temporary else {
        _ = ember_sys_close(fd)
        return
      }
      defer { ember_sys_unregister_temporary(temporary) }
      let synced = ember_sys_fsync(fd)
      guard synced == 0 else {
        _ = ember_sys_close(fd)
        _ = ember_sys_unlink(temporary)
        throw AtomicFile.ioError("fsync failed", synced, path)
      }
      _ = ember_sys_close(fd)
      let renamed = ember_sys_rename(temporary, target)
      guard renamed == 0 else {
        _ = ember_sys_unlink(temporary)
        throw AtomicFile.ioError("cannot move the output into place", renamed, path)
      }
      ember_sys_fsync_directory(AtomicFile.directory(of: target))
    }

    /// Gives up: closes and removes the temporary file (a direct output is just closed).
    public func abandon() {
      guard !finished else { return }
      finished = true
      _ = ember_sys_close(fd)
      if let temporary {
        _ = ember_sys_unlink(temporary)
        ember_sys_unregister_temporary(temporary)
      }
    }

    deinit { abandon() }
  }

  /// Opens `path` for writing as described on ``AtomicFile``. Throws `.io` naming the path.
  public static func open(_ path: String) throws(EmberFormatError) -> Destination {
    var target = path
    let kind = ember_sys_path_kind(path, 1)  // follows every link, /proc/self/fd/N included
    if kind > 0 {
      if kind == Int32(EMBER_FILE_DIRECTORY) { throw EmberFormatError(.io, "is a directory", at: path) }
      // A regular file is replaced at its real path; anything else (a device, a FIFO, a file
      // reached through a link with no usable path, e.g. /dev/stdout) is written directly.
      let regular = kind == Int32(EMBER_FILE_REGULAR)
      if regular {
        target = try resolve(path)
        if ember_sys_same_file(target, path) != 1 { target = "" }
      }
      if !regular || target.isEmpty {
        let fd = ember_sys_open_write(path, regular ? 1 : 0)
        guard fd >= 0 else { throw ioError("cannot open for writing", fd, path) }
        return Destination(fd: fd, path: path, target: nil, temporary: nil)
      }
    } else {
      target = try resolve(path)  // a new file, or a dangling link: create its target
    }
    let existingMode = ember_sys_path_mode(target)
    let mode = existingMode >= 0 ? existingMode : 0o644
    var template = Array((target + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { ember_sys_make_temporary($0.baseAddress!, mode) }
    guard fd >= 0 else { throw ioError("cannot create a temporary file next to it", fd, path) }
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    ember_sys_register_temporary(temporary)
    return Destination(fd: fd, path: path, target: target, temporary: temporary)
  }

  /// Writes `bytes` to `path` (see ``open(_:)``). Throws ``EmberFormatError`` (`.io`).
  public static func write(_ bytes: [UInt8], to path: String) throws(EmberFormatError) {
    let out = try open(path)
    let status = bytes.withUnsafeBytes { ember_sys_write_all(out.fd, $0.baseAddress, $0.count) }
    if status != 0 {
      out.abandon()
      throw ioError("write failed", status, path)
    }
    try out.commit()
  }

  /// Whether two paths name the same existing file (after following links). Used to refuse
  /// an output that would overwrite an input.
  public static func sameFile(_ a: String, _ b: String) -> Bool { ember_sys_same_file(a, b) == 1 }

  /// `path` with symbolic links followed (the final component may not exist yet).
  static func resolve(_ path: String) throws(EmberFormatError) -> String {
    var current = path
    for _ in 0..<40 {
      guard ember_sys_path_kind(current, 0) == Int32(EMBER_FILE_LINK) else { return current }
      var buffer = [CChar](repeating: 0, count: 4097)
      let n = Int(ember_sys_read_link(current, &buffer, 4096))
      guard n > 0 else { return current }
      let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      current = link.hasPrefix("/") ? link : directory(of: current) + "/" + link
    }
    throw EmberFormatError(.io, "too many levels of symbolic links", at: path)
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

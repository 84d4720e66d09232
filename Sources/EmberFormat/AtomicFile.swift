// OS calls (open, stat, rename, signals) for output files. One of the few places of the
// device code that imports the C library directly.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

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
/// and when the process receives SIGINT, SIGTERM or SIGHUP: no `*.tmp-*` file is left behind.
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
        close(fd)
        return
      }
      defer { TemporaryFiles.unregister(temporary) }
      guard fsync(fd) == 0 else {
        let e = AtomicFile.ioError("fsync failed", path)
        close(fd)
        unlink(temporary)
        throw e
      }
      close(fd)
      guard rename(temporary, target) == 0 else {
        let e = AtomicFile.ioError("cannot move the output into place", path)
        unlink(temporary)
        throw e
      }
      let dfd = systemOpen(AtomicFile.directory(of: target), O_RDONLY | O_CLOEXEC)
      if dfd >= 0 {
        fsync(dfd)
        close(dfd)
      }
    }

    /// Gives up: closes and removes the temporary file (a direct output is just closed).
    public func abandon() {
      guard !finished else { return }
      finished = true
      close(fd)
      if let temporary {
        unlink(temporary)
        TemporaryFiles.unregister(temporary)
      }
    }

    deinit { abandon() }
  }

  /// Opens `path` for writing as described on ``AtomicFile``. Throws `.io` naming the path.
  public static func open(_ path: String) throws(EmberFormatError) -> Destination {
    var st = stat()
    var target = path
    if stat(path, &st) == 0 {  // follows every link, /proc/self/fd/N included
      let kind = st.st_mode & S_IFMT
      if kind == S_IFDIR { throw EmberFormatError(.io, "is a directory", at: path) }
      // A regular file is replaced at its real path; anything else (a device, a FIFO, a file
      // reached through a link with no usable path, e.g. /dev/stdout) is written directly.
      if kind == S_IFREG {
        target = try resolve(path)
        var real = stat()
        if !(stat(target, &real) == 0 && real.st_dev == st.st_dev && real.st_ino == st.st_ino) { target = "" }
      }
      if kind != S_IFREG || target.isEmpty {
        let fd = systemOpen(path, O_WRONLY | O_CLOEXEC | (kind == S_IFREG ? O_TRUNC : 0))
        guard fd >= 0 else { throw ioError("cannot open for writing", path) }
        return Destination(fd: fd, path: path, target: nil, temporary: nil)
      }
    } else {
      target = try resolve(path)  // a new file, or a dangling link: create its target
    }
    let mode = stat(target, &st) == 0 ? mode_t(st.st_mode & 0o7777) : 0o644
    var template = Array((target + ".tmp-XXXXXX").utf8CString)
    TemporaryFiles.installHandlers()
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw ioError("cannot create a temporary file next to it", path) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    TemporaryFiles.register(temporary)
    fchmod(fd, mode)
    return Destination(fd: fd, path: path, target: target, temporary: temporary)
  }

  /// Writes `bytes` to `path` (see ``open(_:)``). Throws ``EmberFormatError`` (`.io`).
  public static func write(_ bytes: [UInt8], to path: String) throws(EmberFormatError) {
    let out = try open(path)
    var written = 0
    var failure: EmberFormatError?
    bytes.withUnsafeBytes { raw in
      while written < raw.count {
        let n = systemWrite(out.fd, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          failure = ioError("write failed", path)
          return
        }
        written += n
      }
    }
    if let failure {
      out.abandon()
      throw failure
    }
    try out.commit()
  }

  /// Whether two paths name the same existing file (after following links). Used to refuse
  /// an output that would overwrite an input.
  public static func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat()
    var sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
  }

  /// `path` with symbolic links followed (the final component may not exist yet).
  static func resolve(_ path: String) throws(EmberFormatError) -> String {
    var current = path
    for _ in 0..<40 {
      var st = stat()
      guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return current }
      var buffer = [CChar](repeating: 0, count: 4097)
      let n = readlink(current, &buffer, 4096)
      guard n > 0 else { return current }
      let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      current = link.hasPrefix("/") ? link : directory(of: current) + "/" + link
    }
    throw EmberFormatError(.io, "too many levels of symbolic links", at: path)
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

/// Temporary files not yet committed, removed by a signal handler on SIGINT, SIGTERM, SIGHUP
/// (the handler then re-raises the signal with its default action). The table is a fixed
/// array of C strings so the handler only calls async-signal-safe `unlink`.
enum TemporaryFiles {
  static let capacity = 16
  nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    p.initialize(repeating: nil, count: capacity)
    return p
  }()
  nonisolated(unsafe) static var installed = false

  static func register(_ path: String) {
    for i in 0..<capacity where slots[i] == nil {
      slots[i] = strdup(path)
      return
    }
  }

  static func unregister(_ path: String) {
    for i in 0..<capacity {
      if let p = slots[i], String(cString: p) == path {
        slots[i] = nil
        free(p)
      }
    }
  }

  static func installHandlers() {
    guard !installed else { return }
    installed = true
    for sig in [SIGINT, SIGTERM, SIGHUP] {
      var action = sigaction()
      #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = TemporaryFiles.handler
      #else
        action.__sa_handler.sa_handler = TemporaryFiles.handler
      #endif
      sigemptyset(&action.sa_mask)
      action.sa_flags = 0
      sigaction(sig, &action, nil)
    }
  }

  /// Removes every registered temporary file, then dies of `sig` as if unhandled.
  static let handler: @convention(c) (Int32) -> Void = { sig in
    for i in 0..<TemporaryFiles.capacity {
      if let p = TemporaryFiles.slots[i] { unlink(p) }
    }
    signal(sig, SIG_DFL)
    raise(sig)
  }
}

@inline(__always)
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
  #if canImport(Glibc)
    return Glibc.open(path, flags)
  #else
    return Musl.open(path, flags)
  #endif
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.write(fd, p, n)
  #else
    return Musl.write(fd, p, n)
  #endif
}

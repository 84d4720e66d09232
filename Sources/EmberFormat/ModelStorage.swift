#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Owns the bytes of a loaded model: a read-only memory map of the file, or a 64-byte-aligned
/// copy of caller bytes. Every view into the model points here and lives no longer than it.
final class ModelStorage: @unchecked Sendable {
  let base: UnsafeRawPointer
  let count: Int
  private let mapped: Bool

  /// Maps `path` read-only. Throws `.io` naming the path.
  init(path: String) throws {
    // O_NONBLOCK: opening a FIFO with no writer must not hang; it is refused below.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
      throw EmberFormatError(.io, "cannot open: \(String(cString: strerror(errno)))", at: path)
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw EmberFormatError(.io, "cannot stat: \(String(cString: strerror(errno)))", at: path)
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw EmberFormatError(.io, "is a directory, not a model file", at: path)
    case S_IFIFO: throw EmberFormatError(.io, "is a FIFO (named pipe), not a model file: models are memory-mapped", at: path)
    default: throw EmberFormatError(.io, "is a device or socket, not a regular model file", at: path)
    }
    let size = Int(st.st_size)
    guard size > 0 else { throw EmberFormatError(.truncated, "the file is empty", at: path) }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw EmberFormatError(.io, "cannot map: \(String(cString: strerror(errno)))", at: path)
    }
    base = UnsafeRawPointer(p)
    count = size
    mapped = true
  }

  /// Copies `bytes` into 64-byte-aligned memory.
  init(bytes: UnsafeRawBufferPointer) {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    if let src = bytes.baseAddress, bytes.count > 0 { p.copyMemory(from: src, byteCount: bytes.count) }
    base = UnsafeRawPointer(p)
    count = bytes.count
    mapped = false
  }

  deinit {
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }
}

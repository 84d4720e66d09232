import _EmberSystem

/// Owns the bytes of a loaded model: a read-only memory map of the file, or a 64-byte-aligned
/// copy of caller bytes. Every view into the model points here and lives no longer than it.
final class ModelStorage: @unchecked Sendable {
  let base: UnsafeRawPointer
  let count: Int
  private let mapped: Bool

  /// Maps `path` read-only. Throws `.io` naming the path.
  init(path: String) throws(EmberFormatError) {
    // Opened without blocking: a FIFO with no writer must not hang; it is refused below.
    let fd = ember_sys_open_model(path)
    guard fd >= 0 else { throw EmberFormatError(.io, "cannot open: \(String(cString: ember_sys_strerror(-fd)))", at: path) }
    defer { _ = ember_sys_close(fd) }
    let kind = ember_sys_file_kind(fd)
    switch kind {
    case Int32(EMBER_FILE_REGULAR): break
    case Int32(EMBER_FILE_DIRECTORY): throw EmberFormatError(.io, "is a directory, not a model file", at: path)
    case Int32(EMBER_FILE_FIFO):
      throw EmberFormatError(.io, "is a FIFO (named pipe), not a model file: models are memory-mapped", at: path)
    case ..<0: throw EmberFormatError(.io, "cannot stat: \(String(cString: ember_sys_strerror(-kind)))", at: path)
    default: throw EmberFormatError(.io, "is a device or socket, not a regular model file", at: path)
    }
    let size = Int(ember_sys_file_size(fd))
    guard size > 0 else { throw EmberFormatError(.truncated, "the file is empty", at: path) }
    var address: UnsafeRawPointer?
    let status = ember_sys_map_read(fd, size, &address)
    guard status == 0, let address else {
      throw EmberFormatError(.io, "cannot map: \(String(cString: ember_sys_strerror(-status)))", at: path)
    }
    base = address
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

  /// Lets the operating system drop the mapped pages (a no-op for a copy): for after the
  /// bytes have been verified and what is used often has been copied out. Pages touched later
  /// are read again from the file.
  func releaseResidentPages() {
    if mapped { ember_sys_release_pages(base, count) }
  }

  deinit {
    if mapped {
      ember_sys_unmap(base, count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }
}

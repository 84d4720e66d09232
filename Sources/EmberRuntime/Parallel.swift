import Dispatch

/// Splits work across threads. Work items are independent, so results never depend on the
/// thread count.
public enum Parallel {
  /// Logical CPUs available to this process.
  public static var availableCores: Int {
    #if canImport(Glibc) || canImport(Musl)
      let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
      return max(n, 1)
    #else
      return 1
    #endif
  }

  /// Runs `body(i)` for i in 0..<count on up to `threads` threads (inline when 1).
  public static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
      for i in 0..<count { body(i) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let box = UncheckedBox(body)
      let workers = min(threads, count)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        var i = w
        while i < count {
          box.value(i)
          i += workers
        }
      }
    }
  }
}

private final class UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

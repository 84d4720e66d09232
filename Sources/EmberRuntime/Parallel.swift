import _EmberSystem

/// Splits work across threads. Work items are independent, so results never depend on the
/// thread count. Threads come from `_EmberSystem`'s pool (pthreads; no Dispatch, so the same
/// code builds in Embedded Swift).
public enum Parallel {
  /// Logical CPUs available to this process.
  public static var availableCores: Int { Int(ember_sys_cpu_count()) }

  /// Runs `body(i)` for i in 0..<count on up to `threads` threads (inline when 1).
  public static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
      for i in 0..<count { body(i) }
      return
    }
    withoutActuallyEscaping(body) { body in
      var job = body
      withUnsafeMutablePointer(to: &job) { p in
        ember_sys_parallel_for(count, threads, p) { context, i in
          context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
        }
      }
    }
  }
}

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

  /// Runs `body(i, worker)` for i in 0..<count on up to `threads` threads, each taking the
  /// next unclaimed i until none is left (`worker` < `threads`: which thread runs it, 0 for
  /// the calling one, for per-thread scratch). The calling thread first runs `first` (for
  /// serial work that overlaps the others', e.g. reading the next input), then claims items
  /// too. Items must be independent: which thread runs one never changes its result.
  public static func claiming(_ count: Int, threads: Int, first: (() -> Void)? = nil, _ body: (Int, Int) -> Void) {
    withoutActuallyEscaping(body) { body in
      var job = body
      withUnsafeMutablePointer(to: &job) { p in
        let run: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void = { context, i, worker in
          context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(i, worker)
        }
        guard let first else { return ember_sys_parallel_claim(count, threads, p, run, nil, nil) }
        withoutActuallyEscaping(first) { first in
          var side = first
          withUnsafeMutablePointer(to: &side) { q in
            ember_sys_parallel_claim(count, threads, p, run, q) { context in
              context!.assumingMemoryBound(to: (() -> Void).self).pointee()
            }
          }
        }
      }
    }
  }
}

import XCTest

@testable import EmberRuntime

/// The thread pool's claimed jobs: every item runs exactly once, on a thread numbered below
/// the thread count, after the calling thread's `first`, for any thread count; a nested call
/// runs inline.
final class ParallelTests: XCTestCase {
  func testClaimingRunsEveryItemOnceAfterFirst() {
    for threads in [1, 2, 3, 8] {
      for count in [0, 1, 2, 7, 64, 1000] {
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        let workers = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        runs.initialize(repeating: 0, count: max(count, 1))
        defer {
          runs.deallocate()
          workers.deallocate()
        }
        var firstDone = false
        var sawFirstUndone = false
        Parallel.claiming(count, threads: threads, first: { firstDone = true }) { i, w in
          runs[i] += 1
          workers[i] = w
          // The calling thread (worker 0) takes items only after `first`.
          if w == 0 && !firstDone { sawFirstUndone = true }
        }
        XCTAssertTrue(firstDone)
        XCTAssertFalse(sawFirstUndone)
        for i in 0..<count {
          XCTAssertEqual(runs[i], 1, "item \(i), \(count) items, \(threads) threads")
          XCTAssertLessThan(workers[i], threads)
        }
      }
    }
  }

  func testNestedCallsRunInline() {
    let count = 16
    let sums = UnsafeMutablePointer<Int>.allocate(capacity: count)
    sums.initialize(repeating: 0, count: count)
    defer { sums.deallocate() }
    Parallel.claiming(count, threads: 4) { i, _ in
      Parallel.claiming(10, threads: 4) { j, w in
        XCTAssertEqual(w, 0)
        sums[i] += j
      }
    }
    for i in 0..<count { XCTAssertEqual(sums[i], 45) }
  }
}

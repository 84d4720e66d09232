import EmberFormat

/// Evaluates a session's energies for many rows: batches of ``batch`` rows split across up to
/// ``threads`` threads, with the non-finite policy built in — NaN and +∞ energies (overflow far
/// from the data) become the largest finite Float, −∞ the most negative; NaN gradients become
/// 0 and ±∞ the largest finite magnitude. Each row's arithmetic is independent of the rows
/// batched with it, so results never depend on the thread count or batch size.
///
/// An evaluator owns scratch memory (workspaces, grown on first use of each thread) and is
/// used by one caller at a time; make one per thread, or pool them (the C API does).
public final class Evaluator: @unchecked Sendable {
  /// Rows per kernel call.
  public static let batch = 64
  /// The session evaluated.
  public let session: EmberSession
  /// Threads used for large calls (1: the caller's thread only).
  public let threads: Int
  private var workspaces: [EnergyWorkspace]
  private var gradientRows: AlignedBuffer?
  private var chunkEnergies: AlignedBuffer?
  /// C floats of scratch for callers that need one row's probabilities.
  public let probabilities: UnsafeMutablePointer<Float>

  /// An evaluator using up to `threads` threads (clamped to 1…``EmberSession/maximumThreads``).
  public init(_ session: EmberSession, threads: Int = 1) {
    self.session = session
    self.threads = max(1, min(threads, EmberSession.maximumThreads))
    workspaces = [EnergyWorkspace(session.energy, batch: Evaluator.batch)]
    probabilities = .allocate(capacity: max(session.classCount, 1))
  }

  deinit { probabilities.deallocate() }

  /// Energies of `n` encoded rows (row-major n×d at `rows`) for every class into `out`
  /// (row-major n×C), all finite. O(n · parameters).
  public func energies(rows: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
    guard n > 0 else { return }
    let energy = session.energy
    let d = energy.width
    let c = energy.classCount
    let b = Evaluator.batch
    let pieces = (n + b - 1) / b
    let used = min(threads, pieces)
    while workspaces.count < used { workspaces.append(EnergyWorkspace(energy, batch: b)) }
    let ws = workspaces
    Parallel.forEach(pieces, threads: used) { p in
      let start = p * b
      let m = min(b, n - start)
      energy.energies(rows: rows + start * d, count: m, into: out + start * c, workspace: ws[p % used])
      Evaluator.sanitizeEnergies(out + start * c, count: m * c)
    }
  }

  /// Evaluates `n` rows chunk by chunk (``batch`` rows, on the caller's thread) into the
  /// evaluator's own scratch and hands each chunk's energies (m×C, finite) to `body` with the
  /// index of its first row: for callers that need one answer per row, not the energies.
  public func forEachChunk<E: Error>(
    rows: UnsafePointer<Float>, count n: Int, _ body: (_ start: Int, _ count: Int, UnsafePointer<Float>) throws(E) -> Void
  ) throws(E) {
    let d = session.width
    let scratch = chunkEnergies ?? AlignedBuffer(count: Evaluator.batch * max(session.classCount, 1))
    chunkEnergies = scratch
    var start = 0
    while start < n {
      let m = min(Evaluator.batch, n - start)
      session.energy.energies(rows: rows + start * d, count: m, into: scratch.pointer, workspace: workspaces[0])
      Evaluator.sanitizeEnergies(scratch.pointer, count: m * session.classCount)
      try body(start, m, UnsafePointer(scratch.pointer))
      start += m
    }
  }

  /// Energies of class `classIndex` for `n` rows into `energies` (n values) and ∇ₓE into
  /// `gradients` (row-major n×d, unpadded), all finite. Runs on the caller's thread.
  public func energyAndGradient(
    classIndex: Int, rows: UnsafePointer<Float>, count n: Int, energies: UnsafeMutablePointer<Float>,
    gradients: UnsafeMutablePointer<Float>
  ) {
    let energy = session.energy
    let d = energy.width
    let stride = energy.gradientStride
    let b = Evaluator.batch
    let scratch = gradientRows ?? AlignedBuffer(count: b * stride)
    gradientRows = scratch
    var start = 0
    while start < n {
      let m = min(b, n - start)
      energy.energy(
        classIndex: classIndex, rows: rows + start * d, count: m, into: energies + start, gradients: scratch.pointer,
        workspace: workspaces[0])
      Evaluator.sanitizeEnergies(energies + start, count: m)
      for r in 0..<m {
        for i in 0..<d {
          let g = scratch.pointer[r * stride + i]
          gradients[(start + r) * d + i] = g.isNaN ? 0 : min(max(g, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
        }
      }
      start += m
    }
  }

  /// Replaces non-finite energies in place: NaN and +∞ become the largest finite Float, −∞
  /// the most negative.
  @inline(__always)
  static func sanitizeEnergies(_ e: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count where !e[i].isFinite {
      e[i] = e[i] == -.infinity ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude
    }
  }
}

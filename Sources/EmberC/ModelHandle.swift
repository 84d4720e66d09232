import EmberFormat
import EmberRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What an `ember_model *` points to: a loaded model, its packed energies, its readout and the
/// C strings handed out by the accessors. Immutable after construction except for the scratch
/// pool, which is locked; so one handle may be used from many threads at once.
final class ModelHandle: @unchecked Sendable {
  /// Rows evaluated per kernel call (and per scratch buffer).
  static let batch = 64

  let model: EmberModel
  let energy: EnergyModel
  let readout: EnergyReadout
  let decoder: RowDecoder
  /// NUL-terminated copies owned by the handle (freed in deinit).
  let labels: [UnsafeMutablePointer<CChar>]
  let featureNames: [UnsafeMutablePointer<CChar>]
  let target: UnsafeMutablePointer<CChar>
  let pool: ScratchPool

  init(_ model: EmberModel) throws {
    self.model = model
    energy = try EnergyModel(model)
    readout = EnergyReadout(energy)
    decoder = RowDecoder(model: model)
    labels = model.classes.map { strdup($0.label)! }
    featureNames = model.features.map { strdup($0.name)! }
    target = strdup(model.target)!
    pool = ScratchPool(energy, batch: ModelHandle.batch)
  }

  deinit {
    for p in labels { free(p) }
    for p in featureNames { free(p) }
    free(target)
  }

  var classCount: Int { energy.classCount }
  var width: Int { energy.width }

  /// The handle behind an opaque pointer (not retained).
  static func from(_ p: OpaquePointer?) throws -> ModelHandle {
    guard let p else { throw APIError(.invalidArgument, "model is NULL") }
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
  }

  /// Energies of `n` rows into `out` (n×C), batch by batch through pooled scratch.
  /// `body` is called per batch with (first row, rows in batch, their energies).
  func forEachBatch(
    rows: UnsafePointer<Float>, count n: Int,
    _ body: (Int, Int, UnsafePointer<Float>, Scratch) throws -> Void
  ) rethrows {
    try pool.with { s in
      var start = 0
      while start < n {
        let m = min(ModelHandle.batch, n - start)
        energy.energies(rows: rows + start * width, count: m, into: s.energies, workspace: s.workspace)
        try body(start, m, UnsafePointer(s.energies), s)
        start += m
      }
    }
  }
}

/// Scratch memory for one call in flight: an energy workspace and n×C / C buffers.
final class Scratch: @unchecked Sendable {
  let workspace: EnergyWorkspace
  let energies: UnsafeMutablePointer<Float>
  let probabilities: UnsafeMutablePointer<Float>

  init(_ energy: EnergyModel, batch: Int) {
    workspace = EnergyWorkspace(energy, batch: batch)
    energies = .allocate(capacity: max(batch * energy.classCount, 1))
    probabilities = .allocate(capacity: max(energy.classCount, 1))
  }

  deinit {
    energies.deallocate()
    probabilities.deallocate()
  }
}

/// A mutex-protected free list of ``Scratch`` objects. A call takes one (allocating when the
/// list is empty) and returns it, so concurrent callers never share scratch and steady-state
/// calls allocate nothing. The list never holds more entries than calls ever ran at once.
final class ScratchPool: @unchecked Sendable {
  private let energy: EnergyModel
  private let batch: Int
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var free: [Scratch] = []

  init(_ energy: EnergyModel, batch: Int) {
    self.energy = energy
    self.batch = batch
    mutex = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Runs `body` with scratch that no other thread uses meanwhile.
  func with<R>(_ body: (Scratch) throws -> R) rethrows -> R {
    pthread_mutex_lock(mutex)
    let s = free.popLast()
    pthread_mutex_unlock(mutex)
    let scratch = s ?? Scratch(energy, batch: batch)
    defer {
      pthread_mutex_lock(mutex)
      free.append(scratch)
      pthread_mutex_unlock(mutex)
    }
    return try body(scratch)
  }
}

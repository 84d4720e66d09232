import EmberFormat
import EmberRuntime

import _EmberSystem

/// What an `ember_model *` points to: a session over the loaded model, the C strings handed
/// out by the accessors, and a pool of evaluators. Immutable after construction except for the
/// pool, which is locked; so one handle may be used from many threads at once.
final class ModelHandle: @unchecked Sendable {
  let session: EmberSession
  /// NUL-terminated copies owned by the handle (freed in deinit).
  let labels: [UnsafeMutablePointer<CChar>]
  let featureNames: [UnsafeMutablePointer<CChar>]
  let target: UnsafeMutablePointer<CChar>
  let pool: EvaluatorPool

  init(_ model: EmberModel) throws(EmberRuntimeError) {
    session = try EmberSession(model)
    labels = model.classes.map { ember_sys_strdup($0.label)! }
    featureNames = model.features.map { ember_sys_strdup($0.name)! }
    target = ember_sys_strdup(model.target)!
    pool = EvaluatorPool(session)
  }

  deinit {
    for p in labels { ember_sys_free(p) }
    for p in featureNames { ember_sys_free(p) }
    ember_sys_free(target)
  }

  var model: EmberModel { session.model }
  var classCount: Int { session.classCount }
  var width: Int { session.width }

  /// The handle behind an opaque pointer (not retained).
  static func from(_ p: OpaquePointer?) throws(APIError) -> ModelHandle {
    guard let p else { throw APIError(.invalidArgument, "model is NULL") }
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
  }
}

/// A mutex-protected free list of single-threaded ``Evaluator``s. A call takes one (making one
/// when the list is empty) and returns it, so concurrent callers never share scratch memory and
/// steady-state calls allocate nothing. The list never holds more entries than calls ever ran
/// at once.
final class EvaluatorPool: @unchecked Sendable {
  private let session: EmberSession
  private let mutex = ember_sys_mutex_new()!
  private var free: [Evaluator] = []

  init(_ session: EmberSession) {
    self.session = session
  }

  deinit { ember_sys_mutex_free(mutex) }

  /// Runs `body` with an evaluator that no other thread uses meanwhile.
  func with<R, E: Error>(_ body: (Evaluator) throws(E) -> R) throws(E) -> R {
    ember_sys_mutex_lock(mutex)
    let e = free.popLast()
    ember_sys_mutex_unlock(mutex)
    let evaluator = e ?? Evaluator(session)
    defer {
      ember_sys_mutex_lock(mutex)
      free.append(evaluator)
      ember_sys_mutex_unlock(mutex)
    }
    return try body(evaluator)
  }
}

import EmberFormat
import EmberRuntime

// Entry points for other C API modules linked into the same library as this one (the trainer's,
// `Sources/EmberTrainerC`): they report errors exactly as the `ember_*` functions here do, through
// the status codes of `ember.h` and the calling thread's `ember_last_error()` message. Not part
// of the Embedded build (`libember-micro.a`), which has no trainer and no untyped throws.

/// A failure another C API module reports: an `ember_status` code and a one-line message.
public struct CAPIFailure: Error, Sendable {
  /// The `ember_status` code (a value of the enum in `ember.h`).
  public let status: Int32
  /// What went wrong; `ember_last_error()` prefixes it with the function name.
  public let message: String

  /// A failure with `status` (see ``CAPIStatus``) and `message`.
  public init(_ status: Int32, _ message: String) {
    self.status = status
    self.message = message
  }
}

/// Status codes for ``CAPIFailure`` (the `EMBER_E_*` values of `ember.h`).
public enum CAPIStatus {
  public static let invalidArgument = Status.invalidArgument.rawValue
  public static let io = Status.io.rawValue
  public static let badOption = Status.badOption.rawValue
  public static let badData = Status.badData.rawValue
  public static let bufferTooSmall = Status.bufferTooSmall.rawValue
}

/// Runs the body of a C function named `function`: returns `EMBER_OK` and clears this thread's
/// message, or maps the thrown error (``CAPIFailure``, a format or runtime error) to its status
/// and records the message for `ember_last_error()`. Never lets an error cross the C boundary.
public func emberCall(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
  let failure: APIError
  do {
    try body()
    LastError.set(nil)
    return Status.ok.rawValue
  } catch let f as CAPIFailure {
    LastError.set("\(function): \(f.message)")
    return f.status
  } catch let e as APIError {
    failure = e
  } catch let e as EmberFormatError {
    failure = APIError(e)
  } catch let e as EmberRuntimeError {
    failure = APIError(e)
  } catch {
    failure = APIError(.internal, "\(error)")
  }
  LastError.set("\(function): \(failure.message)")
  return failure.status.rawValue
}

/// `ptr` or a ``CAPIFailure`` naming the NULL argument.
public func emberRequired<T>(_ p: T?, _ name: StaticString) throws -> T {
  guard let p else { throw CAPIFailure(Status.invalidArgument.rawValue, "\(name) is NULL") }
  return p
}

/// The loaded model behind an `ember_model *` (not retained; valid while the handle is).
public func emberModel(_ model: OpaquePointer?) throws -> EmberModel {
  try ModelHandle.from(model).model
}

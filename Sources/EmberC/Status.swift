import EmberFormat
import EmberRuntime
import _EmberCAPITypes

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Status codes of the C API. Their numbers are declared once, in `ember.h` (`EMBER_OK`, …),
/// and read from it here.
enum Status: CaseIterable {
  case ok, invalidArgument, io, truncated, notAModel, malformed, unsupportedVersion, checksumMismatch
  case invalidModel, unusableModel, missingColumns, badValue, unknownCategory, unknownClass, badRequest
  case bufferTooSmall, noCalibration, `internal`

  /// The `ember_status` value (ABI, from the header).
  var rawValue: Int32 {
    switch self {
    case .ok: Int32(EMBER_OK)
    case .invalidArgument: Int32(EMBER_E_INVALID_ARGUMENT)
    case .io: Int32(EMBER_E_IO)
    case .truncated: Int32(EMBER_E_TRUNCATED)
    case .notAModel: Int32(EMBER_E_NOT_A_MODEL)
    case .malformed: Int32(EMBER_E_MALFORMED)
    case .unsupportedVersion: Int32(EMBER_E_UNSUPPORTED_VERSION)
    case .checksumMismatch: Int32(EMBER_E_CHECKSUM)
    case .invalidModel: Int32(EMBER_E_INVALID_MODEL)
    case .unusableModel: Int32(EMBER_E_UNUSABLE_MODEL)
    case .missingColumns: Int32(EMBER_E_MISSING_COLUMNS)
    case .badValue: Int32(EMBER_E_BAD_VALUE)
    case .unknownCategory: Int32(EMBER_E_UNKNOWN_CATEGORY)
    case .unknownClass: Int32(EMBER_E_UNKNOWN_CLASS)
    case .badRequest: Int32(EMBER_E_BAD_REQUEST)
    case .bufferTooSmall: Int32(EMBER_E_BUFFER_TOO_SMALL)
    case .noCalibration: Int32(EMBER_E_NO_CALIBRATION)
    case .internal: Int32(EMBER_E_INTERNAL)
    }
  }

  /// The fixed English description returned by `ember_error_message`.
  var text: StaticString {
    switch self {
    case .ok: "success"
    case .invalidArgument: "invalid argument"
    case .io: "the model file could not be opened, read or mapped"
    case .truncated: "the bytes are too short to be an .ember model"
    case .notAModel: "not an .ember model (missing the EMBR identifier)"
    case .malformed: "the FlatBuffers verifier rejected the model"
    case .unsupportedVersion: "the model's format version is not supported by this reader"
    case .checksumMismatch: "the model's checksum does not match: the file was modified or corrupted"
    case .invalidModel: "the model breaks a semantic rule (shape, range or finiteness)"
    case .unusableModel: "the model loads but cannot be prepared for computation"
    case .missingColumns: "columns required by the model are absent"
    case .badValue: "a value could not be read as its feature's kind"
    case .unknownCategory: "a categorical value is not a known category"
    case .unknownClass: "no such class"
    case .badRequest: "the request cannot be met"
    case .bufferTooSmall: "the output buffer is too small"
    case .noCalibration: "the model has no score calibration"
    case .internal: "internal error"
    }
  }

  /// The status for a format error code.
  init(_ code: EmberFormatError.Code) {
    switch code {
    case .io: self = .io
    case .truncated: self = .truncated
    case .notAModel: self = .notAModel
    case .malformed: self = .malformed
    case .unsupportedVersion: self = .unsupportedVersion
    case .checksumMismatch: self = .checksumMismatch
    case .invalid, .invalidDescription: self = .invalidModel
    }
  }

  /// The status for a runtime error code.
  init(_ code: EmberRuntimeError.Code) {
    switch code {
    case .unusableModel: self = .unusableModel
    case .missingColumns: self = .missingColumns
    case .badValue: self = .badValue
    case .unknownCategory: self = .unknownCategory
    case .unknownClass: self = .unknownClass
    case .badRequest: self = .badRequest
    case .badOption: self = .invalidArgument
    }
  }
}

/// The calling thread's last error message (`ember_last_error`), kept in a pthread key so that
/// threads sharing one model never see each other's messages.
enum LastError {
  static let key: pthread_key_t = {
    var k = pthread_key_t()
    pthread_key_create(&k) { free($0) }
    return k
  }()

  /// An empty C string returned when the thread has no error.
  nonisolated(unsafe) static let empty: UnsafeMutablePointer<CChar> = strdup("")!

  /// Replaces this thread's message (nil clears it).
  static func set(_ message: String?) {
    let k = key
    if let old = pthread_getspecific(k) {
      free(old)
      pthread_setspecific(k, nil)
    }
    if let message { pthread_setspecific(k, strdup(message)) }
  }

  /// This thread's message, or "" (pointer owned by the library).
  static var current: UnsafePointer<CChar> {
    if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return UnsafePointer(empty)
  }
}

/// A failure to report through the C API: a status and a message for `ember_last_error`.
struct APIError: Error {
  let status: Status
  let message: String

  init(_ status: Status, _ message: String) {
    self.status = status
    self.message = message
  }
}

/// Runs `body`, converting every thrown error into a status and this thread's message.
/// Never lets an error cross the C boundary.
@inline(__always)
func guarded(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
  do {
    try body()
    LastError.set(nil)
    return Status.ok.rawValue
  } catch let e as APIError {
    LastError.set("\(function): \(e.message)")
    return e.status.rawValue
  } catch let e as EmberFormatError {
    LastError.set("\(function): \(e.description)")
    return Status(e.code).rawValue
  } catch let e as EmberRuntimeError {
    // Option errors name the options struct's field (`opts->steps: must be in 0…1000000`).
    LastError.set("\(function): " + (e.code == .badOption ? "opts->" : "") + e.description)
    return Status(e.code).rawValue
  } catch {
    LastError.set("\(function): \(error)")
    return Status.internal.rawValue
  }
}

/// Throws `.invalidArgument` naming `name` when `p` is NULL; otherwise returns it.
@inline(__always)
func required<T>(_ p: T?, _ name: StaticString) throws -> T {
  guard let p else { throw APIError(.invalidArgument, "\(name) is NULL") }
  return p
}

/// `a · b` or `.invalidArgument` on overflow or a negative count.
func checkedProduct(_ a: Int, _ b: Int, _ what: StaticString) throws -> Int {
  guard a >= 0, b >= 0 else { throw APIError(.invalidArgument, "\(what): negative size") }
  let (p, overflow) = a.multipliedReportingOverflow(by: b)
  guard !overflow else { throw APIError(.invalidArgument, "\(what): size overflows") }
  return p
}

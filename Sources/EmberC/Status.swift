import EmberFormat
import EmberRuntime
import _EmberCAPITypes

import _EmberSystem

/// Status codes of the C API. Their numbers are declared once, in `ember.h` (`EMBER_OK`, …),
/// and read from it here.
enum Status: CaseIterable {
  case ok, invalidArgument, io, truncated, notAModel, malformed, unsupportedVersion, checksumMismatch
  case invalidModel, unusableModel, missingColumns, badValue, unknownCategory, unknownClass, badRequest
  case bufferTooSmall, noCalibration, badOption, badData, `internal`

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
    case .badOption: Int32(EMBER_E_BAD_OPTION)
    case .badData: Int32(EMBER_E_BAD_DATA)
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
    case .badOption: "a training option is unknown or has a bad value"
    case .badData: "the training data cannot be used"
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

/// The calling thread's last error message (`ember_last_error`), kept per thread (a pthread
/// key in `_EmberSystem`) so that threads sharing one model never see each other's messages.
enum LastError {
  /// An empty C string returned when the thread has no error.
  nonisolated(unsafe) static let empty: UnsafeMutablePointer<CChar> = ember_sys_strdup("")!

  /// Replaces this thread's message (nil clears it).
  static func set(_ message: String?) {
    _ = ember_sys_set_thread_message(message)
  }

  /// This thread's message, or "" (pointer owned by the library).
  static var current: UnsafePointer<CChar> { ember_sys_thread_message() ?? UnsafePointer(empty) }
}

/// A failure to report through the C API: a status and a message for `ember_last_error`.
/// Every error of the layers below becomes one (typed throws: the C API compiles in Embedded
/// Swift too).
struct APIError: Error {
  let status: Status
  let message: String

  init(_ status: Status, _ message: String) {
    self.status = status
    self.message = message
  }

  /// A format error: its status and description.
  init(_ e: EmberFormatError) {
    self.init(Status(e.code), e.description)
  }

  /// A runtime error: its status and description (option errors name the options struct's
  /// field: `opts->steps: must be in 0…1000000`).
  init(_ e: EmberRuntimeError) {
    self.init(Status(e.code), (e.code == .badOption ? "opts->" : "") + e.description)
  }
}

/// Runs `body`, converting every thrown error into a status and this thread's message.
/// Never lets an error cross the C boundary.
@inline(__always)
func guarded(_ function: StaticString, _ body: () throws(APIError) -> Void) -> Int32 {
  do {
    try body()
    LastError.set(nil)
    return Status.ok.rawValue
  } catch {
    LastError.set("\(function): \(error.message)")
    return error.status.rawValue
  }
}

/// `body`'s value, its runtime error as an ``APIError``.
@inline(__always)
func runtime<T>(_ body: () throws(EmberRuntimeError) -> T) throws(APIError) -> T {
  do { return try body() } catch { throw APIError(error) }
}

/// `body`'s value, its format error as an ``APIError``.
@inline(__always)
func format<T>(_ body: () throws(EmberFormatError) -> T) throws(APIError) -> T {
  do { return try body() } catch { throw APIError(error) }
}

/// Throws `.invalidArgument` naming `name` when `p` is NULL; otherwise returns it.
@inline(__always)
func required<T>(_ p: T?, _ name: StaticString) throws(APIError) -> T {
  guard let p else { throw APIError(.invalidArgument, "\(name) is NULL") }
  return p
}

/// `a · b` or `.invalidArgument` on overflow or a negative count.
func checkedProduct(_ a: Int, _ b: Int, _ what: StaticString) throws(APIError) -> Int {
  guard a >= 0, b >= 0 else { throw APIError(.invalidArgument, "\(what): negative size") }
  let (p, overflow) = a.multipliedReportingOverflow(by: b)
  guard !overflow else { throw APIError(.invalidArgument, "\(what): size overflows") }
  return p
}

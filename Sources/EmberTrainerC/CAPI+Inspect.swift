import EmberC
import EmberCommands
import EmberFormat

/// `ember_status ember_inspect_json(const ember_model *, const char *path, char *buf, size_t buflen,
/// size_t *needed)`: the report of `ember inspect --json` (with `path` as its "path"), as
/// NUL-terminated UTF-8 in `buf`; *needed receives the bytes required including the NUL, and a
/// short buffer gives EMBER_E_BUFFER_TOO_SMALL.
@_cdecl("ember_inspect_json")
public func ember_inspect_json(
  _ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ buf: UnsafeMutablePointer<CChar>?, _ length: Int,
  _ needed: UnsafeMutablePointer<Int>?
) -> Int32 {
  emberCall("ember_inspect_json") {
    let m = try emberModel(model)
    let text = inspectReportJSON(m, path: path.map { String(cString: $0) } ?? "")
    let utf8 = Array(text.utf8)
    needed?.pointee = utf8.count + 1
    guard let buf, length > utf8.count else {
      throw CAPIFailure(CAPIStatus.bufferTooSmall, "the report needs \(utf8.count + 1) bytes, the buffer has \(max(length, 0))")
    }
    for (i, b) in utf8.enumerated() { buf[i] = CChar(bitPattern: b) }
    buf[utf8.count] = 0
  }
}

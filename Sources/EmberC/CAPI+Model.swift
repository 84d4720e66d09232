import EmberFormat
import EmberRuntime

import _EmberSystem

// Loading, closing and describing models; version and error strings. See include/ember.h.

/// Library version (matches the `ember` CLI).
let emberVersion = "0.1.0"
nonisolated(unsafe) private let versionCString: UnsafeMutablePointer<CChar> = ember_sys_strdup(emberVersion)!
nonisolated(unsafe) private let statusTexts: [Int32: UnsafeMutablePointer<CChar>] = {
  var table: [Int32: UnsafeMutablePointer<CChar>] = [:]
  for s in Status.allCases { table[s.rawValue] = ember_sys_strdup(s.text.description)! }
  return table
}()
nonisolated(unsafe) private let unknownStatusText: UnsafeMutablePointer<CChar> = ember_sys_strdup("unknown status code")!

/// Stores a new handle for `model` in `out`.
private func publish(_ model: EmberModel, _ out: UnsafeMutablePointer<OpaquePointer?>) throws(APIError) {
  let handle = try runtime { () throws(EmberRuntimeError) in try ModelHandle(model) }
  out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
}

/// `const char *ember_version(void)`.
@_cdecl("ember_version")
public func ember_version() -> UnsafePointer<CChar> { UnsafePointer(versionCString) }

/// `const char *ember_error_message(ember_status)`.
@_cdecl("ember_error_message")
public func ember_error_message(_ status: Int32) -> UnsafePointer<CChar> {
  UnsafePointer(statusTexts[status] ?? unknownStatusText)
}

/// `const char *ember_last_error(void)`.
@_cdecl("ember_last_error")
public func ember_last_error() -> UnsafePointer<CChar> { LastError.current }

/// `ember_status ember_open_path(const char *path, ember_model **out_model)`.
@_cdecl("ember_open_path")
public func ember_open_path(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
  out?.pointee = nil
  return guarded("ember_open_path") { () throws(APIError) in
    let path = String(cString: try required(path, "path"))
    let out = try required(out, "out_model")
    try publish(try format { () throws(EmberFormatError) in try EmberModel(path: path) }, out)
  }
}

/// `ember_status ember_open_bytes(const void *bytes, size_t len, ember_model **out_model)`.
@_cdecl("ember_open_bytes")
public func ember_open_bytes(_ bytes: UnsafeRawPointer?, _ length: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
  out?.pointee = nil
  return guarded("ember_open_bytes") { () throws(APIError) in
    let bytes = try required(bytes, "bytes")
    let out = try required(out, "out_model")
    guard length >= 0 else { throw APIError(.invalidArgument, "len is too large") }
    let array = [UInt8](UnsafeRawBufferPointer(start: bytes, count: length))
    try publish(try format { () throws(EmberFormatError) in try EmberModel(bytes: array) }, out)
  }
}

/// `void ember_close(ember_model *)`; NULL is a no-op.
@_cdecl("ember_close")
public func ember_close(_ model: OpaquePointer?) {
  guard let model else { return }
  Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

/// `size_t ember_class_count(const ember_model *)`; 0 for NULL.
@_cdecl("ember_class_count")
public func ember_class_count(_ model: OpaquePointer?) -> Int {
  (try? ModelHandle.from(model))?.classCount ?? 0
}

/// `const char *ember_class_label(const ember_model *, size_t i)`; NULL when out of range.
@_cdecl("ember_class_label")
public func ember_class_label(_ model: OpaquePointer?, _ i: Int) -> UnsafePointer<CChar>? {
  guard let h = try? ModelHandle.from(model), i >= 0, i < h.labels.count else { return nil }
  return UnsafePointer(h.labels[i])
}

/// `double ember_class_prior(const ember_model *, size_t i)`; NaN when out of range.
@_cdecl("ember_class_prior")
public func ember_class_prior(_ model: OpaquePointer?, _ i: Int) -> Double {
  guard let h = try? ModelHandle.from(model), i >= 0, i < h.classCount else { return .nan }
  return h.model.classes[i].prior
}

/// `ember_status ember_class_index(const ember_model *, const char *label, int32_t *out_index)`.
@_cdecl("ember_class_index")
public func ember_class_index(_ model: OpaquePointer?, _ label: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
  guarded("ember_class_index") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let label = String(cString: try required(label, "label"))
    let out = try required(out, "out_index")
    guard let i = h.model.classIndex(of: label) else {
      throw APIError(.unknownClass, "no class \"\(label)\" (classes: \(h.model.classes.map { $0.label }.joined(separator: ", ")))")
    }
    out.pointee = Int32(i)
  }
}

/// `const char *ember_target_name(const ember_model *)`; NULL for NULL.
@_cdecl("ember_target_name")
public func ember_target_name(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
  (try? ModelHandle.from(model)).map { UnsafePointer($0.target) }
}

/// `size_t ember_feature_count(const ember_model *)`; 0 for NULL.
@_cdecl("ember_feature_count")
public func ember_feature_count(_ model: OpaquePointer?) -> Int {
  (try? ModelHandle.from(model))?.featureNames.count ?? 0
}

/// `const char *ember_feature_name(const ember_model *, size_t i)`; NULL when out of range.
@_cdecl("ember_feature_name")
public func ember_feature_name(_ model: OpaquePointer?, _ i: Int) -> UnsafePointer<CChar>? {
  guard let h = try? ModelHandle.from(model), i >= 0, i < h.featureNames.count else { return nil }
  return UnsafePointer(h.featureNames[i])
}

/// `int32_t ember_feature_kind(const ember_model *, size_t i)`; -1 when out of range.
@_cdecl("ember_feature_kind")
public func ember_feature_kind(_ model: OpaquePointer?, _ i: Int) -> Int32 {
  guard let h = try? ModelHandle.from(model), i >= 0, i < h.model.features.count else { return -1 }
  return Int32(h.model.features[i].kind.rawValue)
}

/// `size_t ember_encoded_width(const ember_model *)`; 0 for NULL.
@_cdecl("ember_encoded_width")
public func ember_encoded_width(_ model: OpaquePointer?) -> Int {
  (try? ModelHandle.from(model))?.width ?? 0
}

/// `ember_status ember_score_threshold(const ember_model *, float *out_threshold)`.
@_cdecl("ember_score_threshold")
public func ember_score_threshold(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?) -> Int32 {
  guarded("ember_score_threshold") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let out = try required(out, "out_threshold")
    guard let threshold = h.session.threshold else {
      throw APIError(.noCalibration, "the model has no score calibration (no anomaly threshold)")
    }
    out.pointee = threshold
  }
}

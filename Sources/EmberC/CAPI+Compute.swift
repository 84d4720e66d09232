import EmberFormat
import EmberRuntime
import _EmberCAPITypes

import _EmberSystem

// Encoding raw rows, energies, scores, classification and decoding. See include/ember.h.

/// What an `ember_encoder *` points to: a header matched once by the session's encoder.
final class EncoderHandle: @unchecked Sendable {
  let handle: ModelHandle
  let encoder: RowEncoder
  let columns: Int

  init(_ handle: ModelHandle, names: [String], flags: UInt32) throws(EmberRuntimeError) {
    self.handle = handle
    columns = names.count
    let strict = flags & UInt32(EMBER_ENCODE_STRICT_CATEGORIES) != 0
    encoder = try handle.session.encoder(header: names, unknownCategories: strict ? .error : .missing)
  }

  /// Encodes one row of `columns` C strings (NULL = missing) into `out`; returns its flags.
  func encode(_ values: UnsafePointer<UnsafePointer<CChar>?>, into out: UnsafeMutablePointer<Float>) throws(EmberRuntimeError) -> RowFlags {
    try encoder.encode(CStringFields(values: values, count: columns), into: out)
  }

  /// Encodes a row of `values` (NULL allowed when there are no columns).
  func encode(_ values: UnsafePointer<UnsafePointer<CChar>?>?, into out: UnsafeMutablePointer<Float>) throws(APIError) -> RowFlags {
    if columns == 0 {
      let none: [UnsafePointer<CChar>?] = [nil]
      return try runtime { () throws(EmberRuntimeError) in
        try none.withUnsafeBufferPointer { (p) throws(EmberRuntimeError) in try encode(p.baseAddress!, into: out) }
      }
    }
    let values = try required(values, "values")
    return try runtime { () throws(EmberRuntimeError) in try encode(values, into: out) }
  }

  static func from(_ p: OpaquePointer?) throws(APIError) -> EncoderHandle {
    guard let p else { throw APIError(.invalidArgument, "encoder is NULL") }
    return Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
  }
}

/// A row of C strings read in place as byte fields (NULL is an empty, i.e. missing, field).
struct CStringFields: RowFields {
  let values: UnsafePointer<UnsafePointer<CChar>?>
  let count: Int

  func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
    guard let p = values[i] else { return UnsafeBufferPointer(start: nil, count: 0) }
    let bytes = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
    var n = 0
    while bytes[n] != 0 { n += 1 }
    return UnsafeBufferPointer(start: bytes, count: n)
  }
}

/// Column names from a C array.
private func names(_ p: UnsafePointer<UnsafePointer<CChar>?>?, _ n: Int) throws(APIError) -> [String] {
  guard n >= 0 else { throw APIError(.invalidArgument, "ncols is too large") }
  if n == 0 { return [] }
  let p = try required(p, "names")
  return try (0..<n).map { (i) throws(APIError) -> String in
    guard let s = p[i] else { throw APIError(.invalidArgument, "names[\(i)] is NULL") }
    return String(cString: s)
  }
}

/// `ember_status ember_encoder_new(const ember_model *, const char *const *names, size_t ncols,
/// uint32_t flags, ember_encoder **out_encoder)`.
@_cdecl("ember_encoder_new")
public func ember_encoder_new(
  _ model: OpaquePointer?, _ columnNames: UnsafePointer<UnsafePointer<CChar>?>?, _ ncols: Int, _ flags: UInt32,
  _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  out?.pointee = nil
  return guarded("ember_encoder_new") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let out = try required(out, "out_encoder")
    let header = try names(columnNames, ncols)
    let e = try runtime { () throws(EmberRuntimeError) in try EncoderHandle(h, names: header, flags: flags) }
    out.pointee = OpaquePointer(Unmanaged.passRetained(e).toOpaque())
  }
}

/// `ember_status ember_encoder_encode(const ember_encoder *, const char *const *values, float *out)`.
@_cdecl("ember_encoder_encode")
public func ember_encoder_encode(
  _ encoder: OpaquePointer?, _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_encoder_encode") { () throws(APIError) in
    _ = try EncoderHandle.from(encoder).encode(values, into: try required(out, "out"))
  }
}

/// `ember_status ember_encoder_encode_row(const ember_encoder *, const char *const *values, float *out,
/// uint32_t *out_flags)`.
@_cdecl("ember_encoder_encode_row")
public func ember_encoder_encode_row(
  _ encoder: OpaquePointer?, _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ out: UnsafeMutablePointer<Float>?,
  _ outFlags: UnsafeMutablePointer<UInt32>?
) -> Int32 {
  outFlags?.pointee = 0
  return guarded("ember_encoder_encode_row") { () throws(APIError) in
    let flags = try EncoderHandle.from(encoder).encode(values, into: try required(out, "out"))
    outFlags?.pointee = flags.rawValue
  }
}

/// `void ember_encoder_free(ember_encoder *)`; NULL is a no-op.
@_cdecl("ember_encoder_free")
public func ember_encoder_free(_ encoder: OpaquePointer?) {
  guard let encoder else { return }
  Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer(encoder)).release()
}

/// `ember_status ember_encode(const ember_model *, const char *const *names,
/// const char *const *values, size_t ncols, uint32_t flags, float *out)`.
@_cdecl("ember_encode")
public func ember_encode(
  _ model: OpaquePointer?, _ columnNames: UnsafePointer<UnsafePointer<CChar>?>?,
  _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ ncols: Int, _ flags: UInt32, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_encode") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let out = try required(out, "out")
    let header = try names(columnNames, ncols)
    _ = try runtime { () throws(EmberRuntimeError) in try EncoderHandle(h, names: header, flags: flags) }.encode(values, into: out)
  }
}

/// Validates (rows, n) and returns the row pointer (nil only when n == 0).
private func inputRows(_ h: ModelHandle, _ rows: UnsafePointer<Float>?, _ n: Int) throws(APIError) -> UnsafePointer<Float>? {
  _ = try checkedProduct(n, h.width, "rows")
  _ = try checkedProduct(n, h.classCount, "outputs")
  if n == 0 { return nil }
  return try required(rows, "rows")
}

/// `ember_status ember_energies(const ember_model *, const float *rows, size_t n, float *out)`.
@_cdecl("ember_energies")
public func ember_energies(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ n: Int, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_energies") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    guard let x = try inputRows(h, rows, n) else { return }
    let out = try required(out, "out")
    h.pool.with { $0.energies(rows: x, count: n, into: out) }
  }
}

/// `ember_status ember_score(const ember_model *, const float *rows, size_t n, float *scores,
/// float *percentiles, uint8_t *anomalies)`; the last two may be NULL.
@_cdecl("ember_score")
public func ember_score(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ n: Int, _ scores: UnsafeMutablePointer<Float>?,
  _ percentiles: UnsafeMutablePointer<Float>?, _ anomalies: UnsafeMutablePointer<UInt8>?
) -> Int32 {
  guarded("ember_score") { () throws(APIError) in try score(model, rows, nil, n, scores, percentiles, anomalies) }
}

/// `ember_status ember_score_flagged(const ember_model *, const float *rows, const uint32_t *row_flags,
/// size_t n, float *scores, float *percentiles, uint8_t *anomalies)`.
@_cdecl("ember_score_flagged")
public func ember_score_flagged(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ rowFlags: UnsafePointer<UInt32>?, _ n: Int,
  _ scores: UnsafeMutablePointer<Float>?, _ percentiles: UnsafeMutablePointer<Float>?, _ anomalies: UnsafeMutablePointer<UInt8>?
) -> Int32 {
  guarded("ember_score_flagged") { () throws(APIError) in try score(model, rows, rowFlags, n, scores, percentiles, anomalies) }
}

/// Scores, percentiles (0–100) and anomaly flags through the session.
private func score(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ rowFlags: UnsafePointer<UInt32>?, _ n: Int,
  _ scores: UnsafeMutablePointer<Float>?, _ percentiles: UnsafeMutablePointer<Float>?, _ anomalies: UnsafeMutablePointer<UInt8>?
) throws(APIError) {
  let h = try ModelHandle.from(model)
  let session = h.session
  if session.threshold == nil, percentiles != nil || anomalies != nil {
    throw APIError(.noCalibration, "percentiles and anomaly flags need a score calibration, which this model lacks; pass NULL for them")
  }
  guard let x = try inputRows(h, rows, n) else { return }
  let scores = try required(scores, "scores")
  let c = h.classCount
  h.pool.with { evaluator in
    evaluator.forEachChunk(rows: x, count: n) { start, m, e in
      for i in 0..<m {
        let s = session.score(e + i * c)
        scores[start + i] = s
        percentiles?[start + i] = session.percentile(ofScore: s) ?? 0
        let flags = RowFlags(rawValue: rowFlags?[start + i] ?? 0)
        anomalies?[start + i] = session.isAnomaly(score: s, flags: flags) == true ? 1 : 0
      }
    }
  }
}

/// `ember_status ember_classify(const ember_model *, const float *rows, size_t n,
/// int32_t *labels, float *probs)`; `probs` (n×C) may be NULL.
@_cdecl("ember_classify")
public func ember_classify(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ n: Int, _ labels: UnsafeMutablePointer<Int32>?,
  _ probs: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_classify") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    guard let x = try inputRows(h, rows, n) else { return }
    let labels = try required(labels, "labels")
    let c = h.classCount
    let session = h.session
    h.pool.with { evaluator in
      evaluator.forEachChunk(rows: x, count: n) { start, m, e in
        for i in 0..<m {
          let p = probs.map { $0 + (start + i) * c } ?? evaluator.probabilities
          labels[start + i] = Int32(session.classify(e + i * c, row: x + (start + i) * h.width, probabilities: p))
        }
      }
    }
  }
}

/// `ember_status ember_decode_field(const ember_model *, const float *row, size_t feature,
/// char *buf, size_t buflen, size_t *needed)`.
@_cdecl("ember_decode_field")
public func ember_decode_field(
  _ model: OpaquePointer?, _ row: UnsafePointer<Float>?, _ feature: Int, _ buf: UnsafeMutablePointer<CChar>?,
  _ length: Int, _ needed: UnsafeMutablePointer<Int>?
) -> Int32 {
  guarded("ember_decode_field") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let row = try required(row, "row")
    guard feature >= 0, feature < h.model.features.count else {
      throw APIError(.invalidArgument, "feature \(feature) is out of range (the model has \(h.model.features.count))")
    }
    let text = h.session.decoder.field(feature, of: row)
    let utf8 = Array(text.utf8)
    needed?.pointee = utf8.count + 1
    guard let buf, length > utf8.count else {
      throw APIError(.bufferTooSmall, "feature \"\(h.model.features[feature].name)\" needs \(utf8.count + 1) bytes, the buffer has \(max(length, 0))")
    }
    for (i, b) in utf8.enumerated() { buf[i] = CChar(bitPattern: b) }
    buf[utf8.count] = 0
  }
}

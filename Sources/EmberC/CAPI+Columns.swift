import EmberFormat
import EmberRuntime
import _EmberCAPITypes

// Columnar input and output for data-frame hosts (Python): raw columns → answers through the
// session's column encoder and an evaluator of the handle's pool, decoded samples column by
// column, and sampling by chain range. See the "COLUMNS" section of include/ember.h.

/// What an `ember_columns *` points to: a column layout matched once against a model.
final class ColumnsHandle: @unchecked Sendable {
  let handle: ModelHandle
  let encoder: ColumnEncoder
  let strides: [Int]

  init(_ handle: ModelHandle, encoder: ColumnEncoder, strides: [Int]) {
    self.handle = handle
    self.encoder = encoder
    self.strides = strides
  }

  static func from(_ p: OpaquePointer?) throws(APIError) -> ColumnsHandle {
    guard let p else { throw APIError(.invalidArgument, "columns is NULL") }
    return Unmanaged<ColumnsHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
  }

  /// Encodes the rows chunk by chunk (``Evaluator/batch`` rows) and hands each chunk to `body`:
  /// its first row, row count, encoded rows (m×d), row flags (m) and finite energies (m×C), with
  /// the pooled evaluator that computed them (its `probabilities` scratch is free to use).
  func forEachChunk(
    _ data: UnsafePointer<UnsafeRawPointer?>, count n: Int,
    _ body: (Int, Int, UnsafePointer<Float>, UnsafePointer<UInt32>, UnsafePointer<Float>, Evaluator) throws(APIError) -> Void
  ) throws(APIError) {
    let batch = Evaluator.batch
    try withUnsafeTemporaryAllocation(of: Float.self, capacity: max(batch * handle.width, 1)) { (rows) throws(APIError) in
      try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: batch) { (flags) throws(APIError) in
        try strides.withUnsafeBufferPointer { (strides) throws(APIError) in
          try handle.pool.with { (evaluator) throws(APIError) in
            var start = 0
            while start < n {
              let m = min(batch, n - start)
              try runtime { () throws(EmberRuntimeError) in
                try encoder.encode(
                  data, strides: strides.baseAddress!, rows: start..<(start + m), into: rows.baseAddress!,
                  flags: flags.baseAddress!)
              }
              try evaluator.forEachChunk(rows: rows.baseAddress!, count: m) { (_, _, energies) throws(APIError) in
                try body(start, m, rows.baseAddress!, flags.baseAddress!, energies, evaluator)
              }
              start += m
            }
          }
        }
      }
    }
  }
}

/// Validates (data, n) for a call on `c`; nil when there is nothing to do (n == 0).
private func checkData(_ c: ColumnsHandle, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int) throws(APIError) -> UnsafePointer<UnsafeRawPointer?>? {
  _ = try checkedProduct(n, max(c.handle.width, c.handle.classCount), "n")
  if n == 0 { return nil }
  let data = try required(data, "data")
  for j in c.strides.indices where data[j] == nil {
    throw APIError(.invalidArgument, "data[\(j)] is NULL")
  }
  return data
}

/// `ember_status ember_columns_new(const ember_model *, size_t ncols, const char *const *names,
/// const int32_t *kinds, const int64_t *strides, const char *const *const *levels,
/// const size_t *nlevels, uint32_t flags, ember_columns **out)`.
@_cdecl("ember_columns_new")
public func ember_columns_new(
  _ model: OpaquePointer?, _ ncols: Int, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
  _ kinds: UnsafePointer<Int32>?, _ strides: UnsafePointer<Int64>?,
  _ levels: UnsafePointer<UnsafePointer<UnsafePointer<CChar>?>?>?, _ nlevels: UnsafePointer<Int>?,
  _ flags: UInt32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
  out?.pointee = nil
  return guarded("ember_columns_new") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let out = try required(out, "out_columns")
    guard ncols >= 0, ncols < 1 << 24 else { throw APIError(.invalidArgument, "ncols is too large") }
    var columnNames: [String] = []
    var columnKinds: [RawColumn] = []
    var columnLevels: [[String]] = []
    var columnStrides: [Int] = []
    if ncols > 0 {
      let names = try required(names, "names")
      let kinds = try required(kinds, "kinds")
      let strides = try required(strides, "strides")
      for j in 0..<ncols {
        guard let name = names[j] else { throw APIError(.invalidArgument, "names[\(j)] is NULL") }
        columnNames.append(String(cString: name))
        let stride = Int(strides[j])
        columnStrides.append(stride)
        switch kinds[j] {
        case Int32(EMBER_COLUMN_NUMBERS):
          columnKinds.append(.numbers(stride: stride))
          columnLevels.append([])
        case Int32(EMBER_COLUMN_CODES):
          columnKinds.append(.codes(stride: stride))
          let count = nlevels?[j] ?? 0
          guard count >= 0, count < Int(Int32.max) else { throw APIError(.invalidArgument, "nlevels[\(j)] is too large") }
          var texts: [String] = []
          if count > 0 {
            guard let list = levels?[j] else { throw APIError(.invalidArgument, "levels[\(j)] is NULL") }
            texts.reserveCapacity(count)
            for k in 0..<count { texts.append(list[k].map { String(cString: $0) } ?? "") }
          }
          columnLevels.append(texts)
        default:
          throw APIError(.invalidArgument, "kinds[\(j)] is \(kinds[j]): use EMBER_COLUMN_NUMBERS (0) or EMBER_COLUMN_CODES (1)")
        }
      }
    }
    let strict = flags & UInt32(EMBER_ENCODE_STRICT_CATEGORIES) != 0
    let encoder = try runtime { () throws(EmberRuntimeError) in
      try h.session.columnEncoder(
        names: columnNames, kinds: columnKinds, levels: columnLevels, unknownCategories: strict ? .error : .missing)
    }
    let c = ColumnsHandle(h, encoder: encoder, strides: columnStrides)
    out.pointee = OpaquePointer(Unmanaged.passRetained(c).toOpaque())
  }
}

/// `void ember_columns_free(ember_columns *)`; NULL is a no-op.
@_cdecl("ember_columns_free")
public func ember_columns_free(_ columns: OpaquePointer?) {
  guard let columns else { return }
  Unmanaged<ColumnsHandle>.fromOpaque(UnsafeRawPointer(columns)).release()
}

/// `ember_status ember_columns_encode(const ember_columns *, const void *const *data, size_t n, float *out,
/// uint32_t *row_flags)`.
@_cdecl("ember_columns_encode")
public func ember_columns_encode(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ out: UnsafeMutablePointer<Float>?,
  _ rowFlags: UnsafeMutablePointer<UInt32>?
) -> Int32 {
  guarded("ember_columns_encode") { () throws(APIError) in
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let out = try required(out, "out")
    try runtime { () throws(EmberRuntimeError) in
      try c.strides.withUnsafeBufferPointer { (strides) throws(EmberRuntimeError) in
        try c.encoder.encode(data, strides: strides.baseAddress!, rows: 0..<n, into: out, flags: rowFlags)
      }
    }
  }
}

/// `ember_status ember_columns_energies(const ember_columns *, const void *const *data, size_t n, float *out)`.
@_cdecl("ember_columns_energies")
public func ember_columns_energies(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_columns_energies") { () throws(APIError) in
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let out = try required(out, "out")
    let k = c.handle.classCount
    try c.forEachChunk(data, count: n) { start, m, _, _, e, _ in
      (out + start * k).update(from: e, count: m * k)
    }
  }
}

/// `ember_status ember_columns_score(const ember_columns *, const void *const *data, size_t n,
/// float *scores, float *percentiles, uint8_t *anomalies)`; the last two may be NULL.
@_cdecl("ember_columns_score")
public func ember_columns_score(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ scores: UnsafeMutablePointer<Float>?,
  _ percentiles: UnsafeMutablePointer<Float>?, _ anomalies: UnsafeMutablePointer<UInt8>?
) -> Int32 {
  guarded("ember_columns_score") { () throws(APIError) in
    let c = try ColumnsHandle.from(columns)
    let session = c.handle.session
    if session.threshold == nil, percentiles != nil || anomalies != nil {
      throw APIError(.noCalibration, "percentiles and anomaly flags need a score calibration, which this model lacks; pass NULL for them")
    }
    guard let data = try checkData(c, data, n) else { return }
    let scores = try required(scores, "scores")
    let k = c.handle.classCount
    try c.forEachChunk(data, count: n) { start, m, _, flags, e, _ in
      for i in 0..<m {
        let s = session.score(e + i * k)
        scores[start + i] = s
        percentiles?[start + i] = session.percentile(ofScore: s) ?? 0
        anomalies?[start + i] = session.isAnomaly(score: s, flags: RowFlags(rawValue: flags[i])) == true ? 1 : 0
      }
    }
  }
}

/// `ember_status ember_columns_classify(const ember_columns *, const void *const *data, size_t n,
/// int32_t *labels, float *probs)`; `probs` (n×C) may be NULL.
@_cdecl("ember_columns_classify")
public func ember_columns_classify(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ labels: UnsafeMutablePointer<Int32>?,
  _ probs: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_columns_classify") { () throws(APIError) in
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let labels = try required(labels, "labels")
    let k = c.handle.classCount
    let d = c.handle.width
    let session = c.handle.session
    try c.forEachChunk(data, count: n) { start, m, rows, _, e, evaluator in
      for i in 0..<m {
        let p = probs.map { $0 + (start + i) * k } ?? evaluator.probabilities
        labels[start + i] = Int32(session.classify(e + i * k, row: rows + i * d, probabilities: p))
      }
    }
  }
}

/// `ember_status ember_decode_column(const ember_model *, const float *rows, size_t n,
/// size_t feature, double *out_numbers, int32_t *out_categories)`.
@_cdecl("ember_decode_column")
public func ember_decode_column(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ n: Int, _ feature: Int,
  _ numbers: UnsafeMutablePointer<Double>?, _ categories: UnsafeMutablePointer<Int32>?
) -> Int32 {
  guarded("ember_decode_column") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    guard feature >= 0, feature < h.model.features.count else {
      throw APIError(.invalidArgument, "feature \(feature) is out of range (the model has \(h.model.features.count))")
    }
    _ = try checkedProduct(n, h.width, "n")
    if n == 0 { return }
    let rows = try required(rows, "rows")
    let d = h.width
    let decoder = h.session.decoder
    if h.model.features[feature].kind == .categorical {
      let out = try required(categories, "out_categories (the feature is categorical)")
      for i in 0..<n { out[i] = Int32(decoder.category(feature, of: rows + i * d)) }
    } else {
      let out = try required(numbers, "out_numbers (the feature is numeric)")
      for i in 0..<n { out[i] = decoder.number(feature, of: rows + i * d) }
    }
  }
}

/// `ember_status ember_sample_counts(const ember_model *, size_t count, size_t *out_counts)`:
/// rows per class (C values) when `count` rows are drawn in proportion to the priors.
@_cdecl("ember_sample_counts")
public func ember_sample_counts(_ model: OpaquePointer?, _ count: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
  guarded("ember_sample_counts") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    guard count >= 0 else { throw APIError(.invalidArgument, "count is too large") }
    let out = try required(out, "out_counts")
    for (c, k) in EmberSession.allocate(count, weights: h.model.classes.map { $0.prior }).enumerated() { out[c] = k }
  }
}

/// `ember_status ember_sample_chains(const ember_model *, int32_t class_index, uint64_t first_chain,
/// size_t count, uint64_t seed, const ember_sampler_options *opts, float *out_encoded,
/// ember_sample_stats *stats)`: chains first_chain ..< first_chain + count of one class.
@_cdecl("ember_sample_chains")
public func ember_sample_chains(
  _ model: OpaquePointer?, _ classIndex: Int32, _ firstChain: UInt64, _ count: Int, _ seed: UInt64,
  _ opts: UnsafePointer<ember_sampler_options>?, _ out: UnsafeMutablePointer<Float>?,
  _ stats: UnsafeMutablePointer<ember_sample_stats>?
) -> Int32 {
  guarded("ember_sample_chains") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let d = h.width
    _ = try checkedProduct(count, d, "count")
    guard classIndex >= 0, Int(classIndex) < h.classCount else {
      throw APIError(.unknownClass, "class_index \(classIndex) is out of range (the model has \(h.classCount) classes)")
    }
    guard firstChain <= UInt64(Int.max) - UInt64(count) else {
      throw APIError(.invalidArgument, "first_chain + count overflows")
    }
    let (overrides, threads) = try samplerRequest(opts)
    var total = ember_sample_stats(chains: 0, restarts: 0, proposals: 0, accepted: 0)
    if count > 0 {
      let out = try required(out, "out_encoded")
      var written = 0
      let run = try runtime { () throws(EmberRuntimeError) in
        try h.session.sample(
          classIndex: Int(classIndex), count: count, seed: seed, overrides: overrides, threads: threads,
          firstChain: Int(firstChain)
        ) { block, m in
          (out + written * d).update(from: block.baseAddress!, count: m * d)
          written += m
          return true
        }
      }
      total = ember_sample_stats(
        chains: UInt64(run.chains), restarts: UInt64(run.restarts), proposals: UInt64(run.proposals),
        accepted: UInt64(run.accepted))
    }
    stats?.pointee = total
  }
}

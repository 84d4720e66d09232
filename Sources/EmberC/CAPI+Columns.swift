import EmberFormat
import EmberRuntime

// Columnar input and output for data-frame hosts (Python): raw columns → answers through the
// runtime's encoder in one call, decoded samples column by column, and sampling by chain range.
// See the "COLUMNS" section of include/ember.h.

/// `EMBER_COLUMN_NUMBERS` / `EMBER_COLUMN_CODES`: how a column's data is laid out.
let columnNumbers: Int32 = 0
let columnCodes: Int32 = 1

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

  static func from(_ p: OpaquePointer?) throws -> ColumnsHandle {
    guard let p else { throw APIError(.invalidArgument, "columns is NULL") }
    return Unmanaged<ColumnsHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
  }

  /// Encodes the rows in batches and hands each batch's energies to `body` (first row, rows,
  /// energies m×C, scratch). One pooled scratch for the whole call.
  func forEachBatch(
    _ data: UnsafePointer<UnsafeRawPointer?>, count n: Int,
    _ body: (Int, Int, UnsafePointer<Float>, Scratch) throws -> Void
  ) throws {
    let h = handle
    let batch = ModelHandle.batch
    try withUnsafeTemporaryAllocation(of: Float.self, capacity: max(batch * h.width, 1)) { rows in
      try strides.withUnsafeBufferPointer { strides in
        try h.pool.with { s in
          var start = 0
          while start < n {
            let m = min(batch, n - start)
            try encoder.encode(data, strides: strides.baseAddress!, rows: start..<(start + m), into: rows.baseAddress!)
            h.energy.energies(rows: rows.baseAddress!, count: m, into: s.energies, workspace: s.workspace)
            try body(start, m, UnsafePointer(s.energies), s)
            start += m
          }
        }
      }
    }
  }
}

/// Validates (data, n) for a call on `c`; false when there is nothing to do (n == 0).
private func checkData(_ c: ColumnsHandle, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int) throws -> UnsafePointer<UnsafeRawPointer?>? {
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
  return guarded("ember_columns_new") {
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
        case columnNumbers:
          columnKinds.append(.numbers(stride: stride))
          columnLevels.append([])
        case columnCodes:
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
    let encoder = try ColumnEncoder(
      model: h.model, names: columnNames, kinds: columnKinds, levels: columnLevels,
      unknownCategories: flags & encodeUnknownAsMissing != 0 ? .missing : .error,
      nanIsMissing: true)
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

/// `ember_status ember_columns_encode(const ember_columns *, const void *const *data, size_t n, float *out)`.
@_cdecl("ember_columns_encode")
public func ember_columns_encode(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_columns_encode") {
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let out = try required(out, "out")
    try c.strides.withUnsafeBufferPointer { strides in
      try c.encoder.encode(data, strides: strides.baseAddress!, rows: 0..<n, into: out)
    }
  }
}

/// `ember_status ember_columns_energies(const ember_columns *, const void *const *data, size_t n, float *out)`.
@_cdecl("ember_columns_energies")
public func ember_columns_energies(
  _ columns: OpaquePointer?, _ data: UnsafePointer<UnsafeRawPointer?>?, _ n: Int, _ out: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_columns_energies") {
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let out = try required(out, "out")
    let k = c.handle.classCount
    try c.forEachBatch(data, count: n) { start, m, e, _ in
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
  guarded("ember_columns_score") {
    let c = try ColumnsHandle.from(columns)
    let readout = c.handle.readout
    let calibration = readout.scoreCalibration
    if calibration == nil, percentiles != nil || anomalies != nil {
      throw APIError(.noCalibration, "percentiles and anomaly flags need a score calibration, which this model lacks; pass NULL for them")
    }
    guard let data = try checkData(c, data, n) else { return }
    let scores = try required(scores, "scores")
    let k = c.handle.classCount
    try c.forEachBatch(data, count: n) { start, m, e, _ in
      for i in 0..<m {
        let s = readout.score(e + i * k)
        scores[start + i] = s
        if let cal = calibration {
          percentiles?[start + i] = cal.percentile(of: s)
          anomalies?[start + i] = s > cal.threshold ? 1 : 0
        }
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
  guarded("ember_columns_classify") {
    let c = try ColumnsHandle.from(columns)
    guard let data = try checkData(c, data, n) else { return }
    let labels = try required(labels, "labels")
    let k = c.handle.classCount
    let readout = c.handle.readout
    try c.forEachBatch(data, count: n) { start, m, e, s in
      for i in 0..<m {
        let p = probs.map { $0 + (start + i) * k } ?? s.probabilities
        labels[start + i] = Int32(readout.posteriors(e + i * k, into: p))
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
  guarded("ember_decode_column") {
    let h = try ModelHandle.from(model)
    guard feature >= 0, feature < h.model.features.count else {
      throw APIError(.invalidArgument, "feature \(feature) is out of range (the model has \(h.model.features.count))")
    }
    _ = try checkedProduct(n, h.width, "n")
    if n == 0 { return }
    let rows = try required(rows, "rows")
    let d = h.width
    if h.model.features[feature].kind == .categorical {
      let out = try required(categories, "out_categories (the feature is categorical)")
      for i in 0..<n { out[i] = Int32(h.decoder.category(feature, of: rows + i * d)) }
    } else {
      let out = try required(numbers, "out_numbers (the feature is numeric)")
      for i in 0..<n { out[i] = h.decoder.number(feature, of: rows + i * d) }
    }
  }
}

/// `ember_status ember_sample_counts(const ember_model *, size_t count, size_t *out_counts)`:
/// rows per class (C values) when `count` rows are drawn in proportion to the priors.
@_cdecl("ember_sample_counts")
public func ember_sample_counts(_ model: OpaquePointer?, _ count: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
  guarded("ember_sample_counts") {
    let h = try ModelHandle.from(model)
    guard count >= 0 else { throw APIError(.invalidArgument, "count is too large") }
    let out = try required(out, "out_counts")
    for (c, k) in proportionalCounts(h.model.classes.map(\.prior), count: count).enumerated() { out[c] = k }
  }
}

/// `ember_status ember_sample_chains(const ember_model *, int32_t class_index, uint64_t first_chain,
/// size_t count, uint64_t seed, const ember_sampler_options *opts, float *out_encoded,
/// ember_sample_stats *stats)`: chains first_chain ..< first_chain + count of one class.
@_cdecl("ember_sample_chains")
public func ember_sample_chains(
  _ model: OpaquePointer?, _ classIndex: Int32, _ firstChain: UInt64, _ count: Int, _ seed: UInt64,
  _ opts: UnsafeRawPointer?, _ out: UnsafeMutablePointer<Float>?, _ stats: UnsafeMutableRawPointer?
) -> Int32 {
  guarded("ember_sample_chains") {
    let h = try ModelHandle.from(model)
    let d = h.width
    _ = try checkedProduct(count, d, "count")
    guard classIndex >= 0, Int(classIndex) < h.classCount else {
      throw APIError(.unknownClass, "class_index \(classIndex) is out of range (the model has \(h.classCount) classes)")
    }
    guard firstChain <= UInt64(Int.max) - UInt64(count) else {
      throw APIError(.invalidArgument, "first_chain + count overflows")
    }
    var run: (chains: Int, restarts: Int, proposals: Int, accepted: Int) = (0, 0, 0, 0)
    if count > 0 {
      let out = try required(out, "out_encoded")
      let (settings, threads, limit) = try samplerSettings(h, classIndex: Int(classIndex), opts)
      var written = 0
      let stats = try Sampler(h.energy).run(
        classIndex: Int(classIndex), count: count, seed: seed, settings: settings, threads: threads,
        divergenceLimit: limit, firstChain: Int(firstChain)
      ) { block, m in
        (out + written * d).update(from: block.baseAddress!, count: m * d)
        written += m
      }
      run = (stats.chains, stats.restarts, stats.proposals, stats.accepted)
    }
    if let stats {
      stats.storeBytes(of: UInt64(run.chains), toByteOffset: 0, as: UInt64.self)
      stats.storeBytes(of: UInt64(run.restarts), toByteOffset: 8, as: UInt64.self)
      stats.storeBytes(of: UInt64(run.proposals), toByteOffset: 16, as: UInt64.self)
      stats.storeBytes(of: UInt64(run.accepted), toByteOffset: 24, as: UInt64.self)
    }
  }
}

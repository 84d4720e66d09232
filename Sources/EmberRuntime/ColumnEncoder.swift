import EmberFormat

extension FeatureSpec {
  /// The encoded (z-scored) value of raw number `v` of a numeric or integer feature.
  @inlinable
  public func standardized(_ v: Double) -> Float { Float((v - mean) / std) }
}

/// One input column of ``ColumnEncoder``: a strided view of `n` rows held by the caller.
public enum RawColumn: Sendable {
  /// Float64 numbers, `stride` bytes apart; NaN is missing.
  case numbers(stride: Int)
  /// Int32 codes, `stride` bytes apart; −1 is missing, otherwise an index into the column's
  /// levels (its distinct raw values as text, given to ``ColumnEncoder/init``).
  case codes(stride: Int)
}

/// Encodes columnar raw data (e.g. a data frame) into the model's encoded space, with the same
/// per-cell rules as ``RowEncoder``: every distinct text value (a level) is read once, by a
/// ``RowEncoder``, so missing tokens, number parsing, unknown categories and their errors are
/// exactly those of the CSV path; numbers skip the text round trip (NaN is missing, like an
/// empty cell). O(levels · features) to prepare, O(rows · features) to encode.
public struct ColumnEncoder: Sendable {
  /// How feature `f` is read.
  enum Source: Sendable {
    /// From number column `column`.
    case number(column: Int)
    /// From code column `column`: encoded value per level (numeric and integer features).
    case levelValues(column: Int, values: [Float], errors: [Int: EmberRuntimeError])
    /// From code column `column`: slot per level (categorical features).
    case levelSlots(column: Int, slots: [Int32], errors: [Int: EmberRuntimeError])
  }

  /// Feature specs in slot order.
  public let features: [FeatureSpec]
  /// Encoded width d.
  public let width: Int
  /// The encoded row of an all-missing input (every feature imputed).
  let missing: [Float]
  let sources: [Source]

  /// Matches columns `names` (with their kinds; `levels[j]` the levels of a code column, ignored
  /// for number columns) against `model`'s features. Extra columns are ignored. Throws
  /// `.missingColumns` naming every absent feature, `.badValue` when a categorical feature is
  /// given a number column.
  public init(
    model: EmberModel, names: [String], kinds: [RawColumn], levels: [[String]],
    unknownCategories: UnknownCategoryPolicy = .error, nanIsMissing: Bool = true
  ) throws {
    features = model.features
    width = model.encodedWidth
    let header = model.features.map(\.name)
    let rowEncoder = try RowEncoder(
      model: model, header: header, unknownCategories: unknownCategories, nanIsMissing: nanIsMissing)
    var scratch = [Float](repeating: 0, count: max(width, 1))
    let blank = [String](repeating: "", count: header.count)
    try scratch.withUnsafeMutableBufferPointer { try rowEncoder.encode(blank, into: $0.baseAddress!) }
    missing = scratch

    var position: [String: Int] = [:]
    for (i, name) in names.enumerated() where position[name] == nil { position[name] = i }
    let absent = header.filter { position[$0] == nil }
    guard absent.isEmpty else {
      throw EmberRuntimeError(
        .missingColumns,
        "missing column\(absent.count > 1 ? "s" : "") \(absent.map { "\"\($0)\"" }.joined(separator: ", ")) (the data has: \(names.joined(separator: ", ")))",
        at: "columns")
    }
    var sources: [Source] = []
    for (f, spec) in model.features.enumerated() {
      let j = position[spec.name]!
      switch kinds[j] {
      case .numbers:
        guard spec.kind != .categorical else {
          throw EmberRuntimeError(
            .badValue, "the feature is categorical: pass its values as text (levels), not as numbers", at: spec.name)
        }
        sources.append(.number(column: j))
      case .codes:
        var values: [Float] = []
        var slots: [Int32] = []
        var errors: [Int: EmberRuntimeError] = [:]
        for (k, level) in levels[j].enumerated() {
          var fields = blank
          fields[f] = level
          do {
            try scratch.withUnsafeMutableBufferPointer { try rowEncoder.encode(fields, into: $0.baseAddress!) }
          } catch let e as EmberRuntimeError {
            errors[k] = e
          }
          if spec.kind == .categorical {
            var best = 0
            for s in 0..<spec.slotCount where scratch[spec.slotOffset + s] == 1 { best = s }
            slots.append(Int32(best))
          } else {
            values.append(scratch[spec.slotOffset])
          }
        }
        sources.append(
          spec.kind == .categorical
            ? .levelSlots(column: j, slots: slots, errors: errors)
            : .levelValues(column: j, values: values, errors: errors))
      }
    }
    self.sources = sources
  }

  /// Encodes rows `rows` of the columns at `data` (one base pointer per column given to `init`,
  /// in that order; strides as declared) into `out` (rows.count × d). Throws with the row
  /// index (0-based, as in the caller's data) and the feature.
  public func encode(
    _ data: UnsafePointer<UnsafeRawPointer?>, strides: UnsafePointer<Int>, rows: Range<Int>,
    into out: UnsafeMutablePointer<Float>
  ) throws {
    for (f, spec) in features.enumerated() {
      let o = spec.slotOffset
      switch sources[f] {
      case .number(let j):
        let base = data[j]!
        let stride = strides[j]
        for (i, r) in rows.enumerated() {
          let v = base.loadUnaligned(fromByteOffset: r * stride, as: Double.self)
          let row = out + i * width
          if v.isNaN {
            row[o] = missing[o]
          } else {
            let e = spec.standardized(v)
            guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude), e.isFinite else {
              throw EmberRuntimeError(.badValue, "row \(r): \(v) is not a finite number in the 32-bit float range", at: spec.name)
            }
            row[o] = e
          }
        }
      case .levelValues(let j, let values, let errors):
        let base = data[j]!
        let stride = strides[j]
        for (i, r) in rows.enumerated() {
          let k = Int(base.loadUnaligned(fromByteOffset: r * stride, as: Int32.self))
          try check(k, count: values.count, errors, row: r, spec)
          (out + i * width)[o] = k < 0 ? missing[o] : values[k]
        }
      case .levelSlots(let j, let slots, let errors):
        let base = data[j]!
        let stride = strides[j]
        for (i, r) in rows.enumerated() {
          let k = Int(base.loadUnaligned(fromByteOffset: r * stride, as: Int32.self))
          try check(k, count: slots.count, errors, row: r, spec)
          let row = out + i * width + o
          if k < 0 {
            for s in 0..<spec.slotCount { row[s] = missing[o + s] }
          } else {
            for s in 0..<spec.slotCount { row[s] = 0 }
            row[Int(slots[k])] = 1
          }
        }
      }
    }
  }

  @inline(__always)
  private func check(_ k: Int, count: Int, _ errors: [Int: EmberRuntimeError], row r: Int, _ spec: FeatureSpec) throws {
    guard k >= -1, k < count else {
      throw EmberRuntimeError(.badValue, "row \(r): code \(k) is not −1 or a level index below \(count)", at: spec.name)
    }
    if !errors.isEmpty, let e = errors[k] {
      throw EmberRuntimeError(e.code, "row \(r): \(e.message)", at: spec.name)
    }
  }
}

import EmberFormat

/// One input column of ``ColumnEncoder``: a strided view of `n` rows held by the caller.
public enum RawColumn: Sendable {
  /// Float64 numbers, `stride` bytes apart; NaN is missing.
  case numbers(stride: Int)
  /// Int32 codes, `stride` bytes apart; −1 is missing, otherwise an index into the column's
  /// levels (its distinct raw values as text, given to ``ColumnEncoder``).
  case codes(stride: Int)
}

/// Encodes columnar raw data (e.g. a data frame) into the model's encoded space through the
/// session's ``RowEncoder``: every distinct text value of a column (a level) is read once by the
/// row encoder, so missing tokens, number parsing, unknown categories (read as missing and
/// flagged, or refused) and their errors are exactly those of a CSV cell; numbers skip the text
/// round trip but take the row encoder's own checks and z-score (NaN is missing, like an empty
/// cell). Made by ``EmberSession/columnEncoder(names:kinds:levels:unknownCategories:)``.
/// O(levels · features) to prepare, O(rows · features) to encode.
public struct ColumnEncoder: Sendable {
  /// How feature `f` is read.
  enum Source: Sendable {
    /// From number column `column`.
    case number(column: Int)
    /// From code column `column`: encoded value per level (numeric and integer features).
    case levelValues(column: Int, values: [Float], errors: [Int: EmberRuntimeError])
    /// From code column `column`: slot per level and whether it is an unknown category
    /// (categorical features).
    case levelSlots(column: Int, slots: [Int32], unknown: [Bool], errors: [Int: EmberRuntimeError])
  }

  /// Feature specs in slot order.
  public let features: [FeatureSpec]
  /// Encoded width d.
  public let width: Int
  /// The encoded row of an all-missing input (every feature imputed).
  let missing: [Float]
  let sources: [Source]

  /// Matches columns `names` (with their kinds; `levels[j]` the levels of a code column, ignored
  /// for number columns) against the model's features through `encoder`, a row encoder for a
  /// header of the features in model order. Extra columns are ignored. Throws
  /// `.missingColumns` naming every absent feature, `.badValue` when a categorical feature is
  /// given a number column.
  init(encoder: RowEncoder, names: [String], kinds: [RawColumn], levels: [[String]]) throws(EmberRuntimeError) {
    features = encoder.features
    width = encoder.width
    let header = features.map { $0.name }
    var scratch = [Float](repeating: 0, count: max(width, 1))
    let blank = [String](repeating: "", count: header.count)
    _ = try scratch.withUnsafeMutableBufferPointer { (p) throws(EmberRuntimeError) in try encoder.encode(blank, into: p.baseAddress!) }
    missing = scratch

    var position: [String: Int] = [:]
    for (i, name) in names.enumerated() {
      if let first = position[name] {
        if header.contains(name) {
          throw EmberRuntimeError(
            .missingColumns, "column \"\(name)\" appears twice (columns \(first) and \(i), 0-based)", at: "columns")
        }
        continue
      }
      position[name] = i
    }
    let absent = header.filter { position[$0] == nil }
    guard absent.isEmpty else {
      throw EmberRuntimeError(
        .missingColumns,
        "missing column\(absent.count > 1 ? "s" : "") \(absent.map { "\"\($0)\"" }.joined(separator: ", ")) (the data has: \(RowEncoder.listing(names)))",
        at: "columns")
    }
    var sources: [Source] = []
    for (f, spec) in features.enumerated() {
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
        var unknown: [Bool] = []
        var errors: [Int: EmberRuntimeError] = [:]
        for (k, level) in levels[j].enumerated() {
          var fields = blank
          fields[f] = level
          var flags: RowFlags = []
          do {
            flags = try scratch.withUnsafeMutableBufferPointer { (p) throws(EmberRuntimeError) in
              try encoder.encode(fields, into: p.baseAddress!)
            }
          } catch {
            errors[k] = error
          }
          if spec.kind == .categorical {
            var best = 0
            for s in 0..<spec.slotCount where scratch[spec.slotOffset + s] == 1 { best = s }
            slots.append(Int32(best))
            unknown.append(flags.contains(.unknownCategory))
          } else {
            values.append(scratch[spec.slotOffset])
          }
        }
        sources.append(
          spec.kind == .categorical
            ? .levelSlots(column: j, slots: slots, unknown: unknown, errors: errors)
            : .levelValues(column: j, values: values, errors: errors))
      }
    }
    self.sources = sources
  }

  /// Encodes rows `rows` of the columns at `data` (one base pointer per column given to the
  /// session, in that order; strides as declared) into `out` (rows.count × d) and, when `flags`
  /// is given, each row's ``RowFlags`` into it (rows.count values). Throws with the row index
  /// (0-based, as in the caller's data) and the feature.
  public func encode(
    _ data: UnsafePointer<UnsafeRawPointer?>, strides: UnsafePointer<Int>, rows: Range<Int>,
    into out: UnsafeMutablePointer<Float>, flags: UnsafeMutablePointer<UInt32>? = nil
  ) throws(EmberRuntimeError) {
    if let flags { flags.update(repeating: 0, count: rows.count) }
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
            let parsed = RawNumber.check(v)
            guard case .value = parsed else {
              let e = RowEncoder.numberError(parsed, quoted: "\(v)", spec: spec, column: j)
              throw EmberRuntimeError(e.code, "row \(r): \(e.message)", at: spec.name, column: j)
            }
            row[o] = RowEncoder.encoded(v, spec)
          }
        }
      case .levelValues(let j, let values, let errors):
        let base = data[j]!
        let stride = strides[j]
        for (i, r) in rows.enumerated() {
          let k = Int(base.loadUnaligned(fromByteOffset: r * stride, as: Int32.self))
          try check(k, count: values.count, errors, row: r, spec, column: j)
          (out + i * width)[o] = k < 0 ? missing[o] : values[k]
        }
      case .levelSlots(let j, let slots, let unknown, let errors):
        let base = data[j]!
        let stride = strides[j]
        for (i, r) in rows.enumerated() {
          let k = Int(base.loadUnaligned(fromByteOffset: r * stride, as: Int32.self))
          try check(k, count: slots.count, errors, row: r, spec, column: j)
          let row = out + i * width + o
          if k < 0 {
            for s in 0..<spec.slotCount { row[s] = missing[o + s] }
          } else {
            for s in 0..<spec.slotCount { row[s] = 0 }
            row[Int(slots[k])] = 1
            if unknown[k], let flags { flags[i] |= RowFlags.unknownCategory.rawValue }
          }
        }
      }
    }
  }

  @inline(__always)
  private func check(
    _ k: Int, count: Int, _ errors: [Int: EmberRuntimeError], row r: Int, _ spec: FeatureSpec, column j: Int
  ) throws(EmberRuntimeError) {
    guard k >= -1, k < count else {
      throw EmberRuntimeError(.badValue, "row \(r): code \(k) is not −1 or a level index below \(count)", at: spec.name, column: j)
    }
    if !errors.isEmpty, let e = errors[k] {
      throw EmberRuntimeError(e.code, "row \(r): \(e.message)", at: spec.name, column: j)
    }
  }
}

extension EmberSession {
  /// An encoder for columnar input (see ``ColumnEncoder``): columns `names` with their `kinds`
  /// and, for code columns, `levels` (their distinct values as text), matched once against the
  /// model's features and read by this session's row encoder with `unknownCategories`.
  public func columnEncoder(
    names: [String], kinds: [RawColumn], levels: [[String]], unknownCategories: UnknownCategoryPolicy = .missing
  ) throws(EmberRuntimeError) -> ColumnEncoder {
    let rowEncoder = try encoder(header: model.features.map { $0.name }, unknownCategories: unknownCategories)
    return try ColumnEncoder(encoder: rowEncoder, names: names, kinds: kinds, levels: levels)
  }
}

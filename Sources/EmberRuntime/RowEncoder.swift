import EmberFormat
import EmberText
import _EmberSystem

/// What to do with a categorical cell whose category the model does not know.
public enum UnknownCategoryPolicy: String, Sendable, CaseIterable {
  /// Treat the cell as missing (imputed with the training mode) and flag the row
  /// (``RowFlags/unknownCategory``): the default, as in training.
  case missing
  /// Reject the row with ``EmberRuntimeError/Code/unknownCategory``.
  case error
}

/// Facts about one encoded row that its answer depends on.
public struct RowFlags: OptionSet, Sendable, Hashable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  /// A categorical cell held a category never seen in training (encoded as missing). Such a
  /// row is out of distribution by definition: ``EmberSession/isAnomaly(score:threshold:flags:)``
  /// flags it.
  public static let unknownCategory = RowFlags(rawValue: 1)
}

/// The cells every part of Ember reads as missing: the trainer imputes them, the runtime
/// imputes them, the C API and Python bindings impute them. One list, used everywhere.
public enum MissingValue {
  /// Missing-cell tokens (after trimming spaces and tabs): empty, `NA`, `N/A`, `na`, `?`,
  /// `NaN`, `nan`.
  public static let tokens: [String] = ["", "NA", "N/A", "na", "?", "NaN", "nan"]
  /// The tokens as a byte set, for fields that are byte slices.
  public static let set = ByteTokenSet(tokens)

  /// Whether `bytes` (untrimmed) are a missing-value token.
  @inline(__always)
  public static func isMissing(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { set.contains(ByteText.trimmed(bytes)) }

  /// Whether `text` (untrimmed) is a missing-value token.
  public static func isMissing<S: StringProtocol>(_ text: S) -> Bool {
    var s = String(text)
    return s.withUTF8 { isMissing($0) }
  }
}

/// Reading a raw cell as a number, with EmberText's decimal parser (correctly rounded; spaces
/// and tabs around the number ignored): decimal only — hex (`0x10`), embedded NUL bytes and
/// any other character are refused; words such as `inf` are not values; magnitudes beyond the
/// 32-bit float range are refused rather than rounded to infinity.
public enum RawNumber {
  /// Outcome of ``parse(_:)``.
  public enum Parsed: Equatable, Sendable {
    case value(Double)
    case notANumber
    case nonFinite
    case outOfRange
  }

  /// Classifies `bytes`. O(length).
  @inline(__always)
  public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Parsed {
    switch DecimalParser.parseDouble(bytes) {
    case .number(let v): .value(v)
    case .nan, .infinity: .nonFinite
    case .outOfRange: .outOfRange
    case .empty, .text: .notANumber
    }
  }

  /// Classifies text (e.g. an option value).
  public static func parse<S: StringProtocol>(_ text: S) -> Parsed {
    var s = String(text)
    return s.withUTF8 { parse($0) }
  }

  /// Checks a binary number (e.g. a float64 column of a data frame; NaN is handled by the
  /// caller as missing): ±∞ is `.nonFinite`, a magnitude beyond the 32-bit float range
  /// `.outOfRange`, as for text.
  @inline(__always)
  public static func check(_ v: Double) -> Parsed {
    guard v.isFinite else { return .nonFinite }
    return Float(v).isFinite ? .value(v) : .outOfRange
  }
}

/// The fields of one raw row as byte slices (a CSV record, C strings, Swift strings).
public protocol RowFields {
  /// Number of fields.
  var count: Int { get }
  /// The bytes of field `i`, valid during the encoding call.
  func field(_ i: Int) -> UnsafeBufferPointer<UInt8>
}

extension CSVRecord: RowFields {
  /// The bytes of field `i`.
  @inline(__always)
  public func field(_ i: Int) -> UnsafeBufferPointer<UInt8> { self[i] }
}

/// Encodes raw rows into the model's encoded space: missing cells imputed, numeric and
/// integer columns z-scored, categoricals one-hot over the model's categories, every encoded
/// value clamped to ±``ModelLimits/encodedMagnitude`` (the box a valid model is certified on).
///
/// Columns are matched by name once, from the header; extra columns are ignored; a feature
/// column named twice is refused. The same encoder serves the CLI verbs, the C API and the
/// trainer, so a row means the same thing everywhere. Fields are read as bytes (no strings
/// are made for numbers).
public struct RowEncoder: Sendable {
  /// Feature specs in slot order.
  public let features: [FeatureSpec]
  /// Encoded width d.
  public let width: Int
  /// For each feature, the index of its column in the header.
  public let columns: [Int]
  /// Policy for unknown categories.
  public let unknownCategories: UnknownCategoryPolicy
  private let categoryIndex: [[String: Int]]
  /// The features flattened for the per-cell loop (no strings or arrays to retain).
  private let steps: [EncodingStep]
  /// The numeric and integer features, in order, for the one-pass loop over a CSV record's
  /// plain decimals (``encode(_:into:)-(CSVRecord,_)``).
  private let numeric: [ember_text_numeric]
  /// The indices in `steps` of the categorical features (what that loop leaves).
  private let categorical: [Int]

  /// Matches `header` against the model's features. Throws `.missingColumns` naming every
  /// absent feature, or a feature column that appears twice.
  public init(
    model: EmberModel, header: [String], unknownCategories: UnknownCategoryPolicy = .missing
  ) throws(EmberRuntimeError) {
    try self.init(features: model.features, header: header, unknownCategories: unknownCategories)
  }

  /// An encoder for feature specs not yet in a file (the trainer encodes its rows with the
  /// features it has just fitted, through the same code as every later answer).
  public init(
    features: [FeatureSpec], header: [String], unknownCategories: UnknownCategoryPolicy = .missing
  ) throws(EmberRuntimeError) {
    self.features = features
    width = features.reduce(0) { $0 + $1.slotCount }
    self.unknownCategories = unknownCategories
    var position: [String: Int] = [:]
    for (i, name) in header.enumerated() {
      if let first = position[name] {
        if features.contains(where: { $0.name == name }) {
          throw EmberRuntimeError(
            .missingColumns, "column \"\(name)\" appears twice in the header (fields \(first + 1) and \(i + 1))",
            at: "header", column: i)
        }
        continue
      }
      position[name] = i
    }
    let missing = features.filter { position[$0.name] == nil }.map { $0.name }
    guard missing.isEmpty else {
      throw EmberRuntimeError(
        .missingColumns,
        "missing column\(missing.count > 1 ? "s" : "") \(RowEncoder.listing(missing.map { "\"\($0)\"" })) (the header has: \(RowEncoder.listing(header)))",
        at: "header")
    }
    columns = features.map { position[$0.name]! }
    let steps = zip(features, columns).map { EncodingStep($0, column: $1) }
    self.steps = steps
    numeric = steps.filter { !$0.categorical }.map {
      ember_text_numeric(mean: $0.mean, std: $0.std, field: Int32($0.column), slot: Int32($0.slotOffset))
    }
    categorical = steps.indices.filter { steps[$0].categorical }
    categoryIndex = features.map { f in
      var index: [String: Int] = [:]
      for (i, category) in f.categories.enumerated() where index[category] == nil { index[category] = i }
      return index
    }
  }

  /// At most 20 names and 400 characters of a list, for messages.
  static func listing(_ names: [String]) -> String {
    var out = ""
    for (i, name) in names.enumerated() {
      if i == 20 || out.utf8.count + name.utf8.count > 400 { return out + ", … (\(names.count) in all)" }
      out += (i > 0 ? ", " : "") + name
    }
    return out
  }

  /// Encodes one row's fields into `out` (width d) and returns its flags. On failure throws an
  /// error whose location is the column name and whose `column` is the field index; the caller
  /// adds file and line. O(fields used).
  @_specialize(where R == ByteFields)
  public func encode<R: RowFields>(_ row: R, into out: UnsafeMutablePointer<Float>) throws(EmberRuntimeError) -> RowFlags {
    try encode(row, steps: steps.indices, into: out)
  }

  /// ``encode(_:into:)`` of a CSV record, in one pass over its numeric fields when they are
  /// all plain decimals (the common row: one C loop, `ember_text_encode_plain`, then the
  /// categorical features); any other row takes the per-cell steps from the start, so the
  /// values, flags and errors are the same either way.
  public func encode(_ record: CSVRecord, into out: UnsafeMutablePointer<Float>) throws(EmberRuntimeError) -> RowFlags {
    let done = numeric.withUnsafeBufferPointer {
      ember_text_encode_plain(
        record.base, record.bounds, record.count, $0.baseAddress, $0.count, Double(ModelLimits.encodedMagnitude), out)
    }
    guard done == numeric.count else { return try encode(record, steps: steps.indices, into: out) }
    if categorical.isEmpty { return [] }
    return try encode(record, steps: categorical, into: out)
  }

  /// The per-cell loop over `indices` of `steps`.
  @_specialize(where R == CSVRecord, S == Range<Int>)
  @_specialize(where R == CSVRecord, S == [Int])
  @_specialize(where R == ByteFields, S == Range<Int>)
  private func encode<R: RowFields, S: Sequence<Int>>(
    _ row: R, steps indices: S, into out: UnsafeMutablePointer<Float>
  ) throws(EmberRuntimeError) -> RowFlags {
    var flags: RowFlags = []
    let missingTokens = MissingValue.set
    for f in indices {
      let step = steps[f]
      let column = step.column
      guard column < row.count else {
        throw EmberRuntimeError(
          .badValue, "the row has \(row.count) fields; column \(column + 1) is absent", at: features[f].name, column: column)
      }
      let field = row.field(column)
      // The common cell, a plain decimal (no spaces, no exponent; never a missing token), read
      // at once; every other cell takes the steps below (same value for a plain decimal).
      if !step.categorical, let v = DecimalParser.plainDouble(field) {
        out[step.slotOffset] = Self.clamp((v - step.mean) / step.std)
        continue
      }
      let cell = ByteText.trimmed(field)
      let missing = missingTokens.contains(cell)
      if !step.categorical {
        var value = step.impute
        if !missing {
          let parsed = RawNumber.parse(cell)
          guard case .value(let v) = parsed else {
            throw Self.numberError(parsed, quoted: TextSnippet.quoted(cell), spec: features[f], column: column)
          }
          value = v
        }
        out[step.slotOffset] = Self.clamp((value - step.mean) / step.std)
      } else {
        for s in 0..<step.slotCount { out[step.slotOffset + s] = 0 }
        var index = Int(step.impute)
        if !missing {
          if let i = categoryIndex[f][String(decoding: cell, as: UTF8.self)] {
            index = i
          } else if unknownCategories == .missing {
            flags.insert(.unknownCategory)
          } else {
            let spec = features[f]
            throw EmberRuntimeError(
              .unknownCategory,
              "unknown category \(TextSnippet.quoted(cell)) (known: \(RowEncoder.listing(spec.categories)); without --unknown-category error it is read as missing)",
              at: spec.name, column: column)
          }
        }
        out[step.slotOffset + index] = 1
      }
    }
    return flags
  }

  /// The encoded value of raw number `value` (finite, in the 32-bit float range) of numeric or
  /// integer feature `spec`: its z-score, clamped to the certified box. Every raw number takes
  /// this step, from a CSV cell or a column of numbers (``ColumnEncoder``).
  @inline(__always)
  static func encoded(_ value: Double, _ spec: FeatureSpec) -> Float { clamp((value - spec.mean) / spec.std) }

  /// The error for a raw number `RawNumber` refused (`quoted`: the value as the message shows
  /// it, quoted when it was text).
  static func numberError(_ parsed: RawNumber.Parsed, quoted: String, spec: FeatureSpec, column: Int) -> EmberRuntimeError {
    switch parsed {
    case .nonFinite: EmberRuntimeError(.badValue, "\(quoted) is not a finite number", at: spec.name, column: column)
    case .outOfRange:
      EmberRuntimeError(.badValue, "\(quoted) is outside the 32-bit float range (±3.4e38)", at: spec.name, column: column)
    case .notANumber, .value: EmberRuntimeError(.badValue, "expected a number, found \(quoted)", at: spec.name, column: column)
    }
  }

  /// Encodes a row given as strings (tests, the trainer, callers holding text).
  public func encode<S: StringProtocol>(_ fields: [S], into out: UnsafeMutablePointer<Float>) throws(EmberRuntimeError) -> RowFlags {
    var bytes: [UInt8] = []
    var bounds: [Int] = [0]
    for f in fields {
      bytes += f.utf8
      bounds.append(bytes.count)
    }
    return try bytes.withUnsafeBufferPointer { (p) throws(EmberRuntimeError) in
      try encode(ByteFields(base: p, bounds: bounds), into: out)
    }
  }

  /// (v − mean)/std as Float, clamped to the certified box (an overflow to ±∞ clamps too).
  @inline(__always)
  static func clamp(_ z: Double) -> Float {
    let limit = Double(ModelLimits.encodedMagnitude)
    return Float(min(max(z, -limit), limit))
  }
}

/// What ``RowEncoder/encode(_:into:)`` needs of one feature, as plain values.
struct EncodingStep {
  let column: Int
  let slotOffset: Int
  let slotCount: Int
  let categorical: Bool
  let impute: Double
  let mean: Double
  let std: Double

  init(_ spec: FeatureSpec, column: Int) {
    self.column = column
    slotOffset = spec.slotOffset
    slotCount = spec.slotCount
    categorical = spec.kind == .categorical
    impute = spec.imputeValue
    mean = spec.mean
    std = spec.std
  }
}

/// Fields laid out back to back in one buffer: field i is `base[bounds[i]..<bounds[i + 1]]`.
public struct ByteFields: RowFields {
  let base: UnsafeBufferPointer<UInt8>
  let bounds: [Int]

  /// Fields of `base` split at `bounds` (count + 1 offsets).
  public init(base: UnsafeBufferPointer<UInt8>, bounds: [Int]) {
    self.base = base
    self.bounds = bounds
  }

  public var count: Int { bounds.count - 1 }

  @inline(__always)
  public func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: base[bounds[i]..<bounds[i + 1]])
  }
}

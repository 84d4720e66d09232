import EmberFormat

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
/// imputes them, the C API and Python bindings imputes them. One list, used everywhere.
public enum MissingValue {
  /// Missing-cell tokens (after trimming spaces): empty, `NA`, `N/A`, `na`, `?`, `NaN`, `nan`.
  public static let tokens: [String] = ["", "NA", "N/A", "na", "?", "NaN", "nan"]

  /// Whether `text` (already trimmed) is a missing-value token.
  @inline(__always)
  public static func isMissing<S: StringProtocol>(_ text: S) -> Bool {
    let u = text.utf8
    switch u.count {
    case 0: return true
    case 1: return u.first == UInt8(ascii: "?")
    case 2: return text == "NA" || text == "na"
    case 3: return text == "N/A" || text == "NaN" || text == "nan"
    default: return false
    }
  }
}

/// Reading a raw cell as a number: the grammar is decimal only (optional sign, digits, optional
/// fraction, optional exponent). Hex (`0x10`), embedded NUL bytes and any other character are
/// refused; words such as `inf` are not values; magnitudes beyond the 32-bit float range are
/// refused rather than rounded to infinity.
public enum RawNumber {
  /// Outcome of ``parse(_:)``.
  public enum Parsed: Equatable, Sendable {
    case value(Double)
    case notANumber
    case nonFinite
    case outOfRange
  }

  /// Parses trimmed text. O(length).
  public static func parse<S: StringProtocol>(_ text: S) -> Parsed {
    var s = Substring(text)
    switch s.withUTF8(grammar) {
    case .number:
      guard let v = Double(s) else { return .notANumber }
      guard v.isFinite, Float(v).isFinite else { return .outOfRange }
      return .value(v)
    case .word: return word(s)
    case .invalid: return .notANumber
    }
  }

  /// Checks a binary number (e.g. a float64 column of a data frame; NaN is handled by the
  /// caller as missing): ±∞ is `.nonFinite`, a magnitude beyond the 32-bit float range
  /// `.outOfRange`, as for text.
  @inline(__always)
  public static func check(_ v: Double) -> Parsed {
    guard v.isFinite else { return .nonFinite }
    return Float(v).isFinite ? .value(v) : .outOfRange
  }

  private enum Shape { case number, word, invalid }

  /// Whether the bytes follow the decimal grammar (`word`: something else, maybe `inf`).
  private static func grammar(_ bytes: UnsafeBufferPointer<UInt8>) -> Shape {
    var digits = 0
    var state = 0  // 0 sign, 1 integer part, 2 fraction, 3 exponent sign, 4 exponent digits
    var exponentDigits = 0
    for b in bytes {
      switch b {
      case UInt8(ascii: "+"), UInt8(ascii: "-"):
        if state == 0 { state = 1 } else if state == 3 { state = 4 } else { return .word }
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        if state == 0 { state = 1 }
        if state == 3 { state = 4 }
        if state == 4 { exponentDigits += 1 } else { digits += 1 }
      case UInt8(ascii: "."):
        guard state <= 1 else { return .invalid }
        state = 2
      case UInt8(ascii: "e"), UInt8(ascii: "E"):
        guard state >= 1, state <= 2, digits > 0 else { return .word }
        state = 3
      default:
        return .word
      }
    }
    guard digits > 0, state != 3, !(state == 4 && exponentDigits == 0) else { return .invalid }
    return .number
  }

  private static func word<S: StringProtocol>(_ text: S) -> Parsed {
    var s = Substring(text)
    if s.first == "+" || s.first == "-" { s = s.dropFirst() }
    switch s.lowercased() {
    case "inf", "infinity", "nan": return .nonFinite
    default: return .notANumber
    }
  }
}

/// Encodes raw CSV rows into the model's encoded space: missing cells imputed, numeric and
/// integer columns z-scored, categoricals one-hot over the model's categories, every encoded
/// value clamped to ±``ModelLimits/encodedMagnitude`` (the box a valid model is certified on).
///
/// Columns are matched by name once, from the header; extra columns are ignored; a feature
/// column named twice is refused. The same encoder serves the CLI verbs, the C API and the
/// trainer's calibration, so a row means the same thing everywhere.
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
    let missing = features.filter { position[$0.name] == nil }.map(\.name)
    guard missing.isEmpty else {
      throw EmberRuntimeError(
        .missingColumns,
        "missing column\(missing.count > 1 ? "s" : "") \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) (the header has: \(RowEncoder.listing(header)))",
        at: "header")
    }
    columns = features.map { position[$0.name]! }
    categoryIndex = features.map { f in
      Dictionary(f.categories.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }
  }

  /// At most 20 names and 400 characters of a header, for messages.
  static func listing(_ header: [String]) -> String {
    var out = ""
    for (i, name) in header.enumerated() {
      if i == 20 || out.utf8.count + name.utf8.count > 400 { return out + ", … (\(header.count) columns)" }
      out += (i > 0 ? ", " : "") + name
    }
    return out
  }

  /// Encodes one row's fields into `out` (width d) and returns its flags. On failure throws an
  /// error whose location is the column name and whose `column` is the field index; the caller
  /// adds file and line.
  @_specialize(where S == String)
  @_specialize(where S == Substring)
  public func encode<S: StringProtocol>(_ fields: [S], into out: UnsafeMutablePointer<Float>) throws(EmberRuntimeError) -> RowFlags {
    var flags: RowFlags = []
    for (f, spec) in features.enumerated() {
      let column = columns[f]
      guard column < fields.count else {
        throw EmberRuntimeError(.badValue, "the row has \(fields.count) fields; column \(column + 1) is absent", at: spec.name, column: column)
      }
      let text = Substring(fields[column]).trimmingSpaces()
      switch spec.kind {
      case .numeric, .integer:
        var value = spec.imputeValue
        if !MissingValue.isMissing(text) {
          let parsed = RawNumber.parse(text)
          guard case .value(let v) = parsed else {
            throw Self.numberError(parsed, shown: Self.excerpt(text), spec: spec, column: column)
          }
          value = v
        }
        out[spec.slotOffset] = Self.encoded(value, spec)
      case .categorical:
        for s in 0..<spec.slotCount { out[spec.slotOffset + s] = 0 }
        var index = Int(spec.imputeValue)
        if !MissingValue.isMissing(text) {
          if let i = categoryIndex[f][String(text)] {
            index = i
          } else if unknownCategories == .missing {
            flags.insert(.unknownCategory)
          } else {
            throw EmberRuntimeError(
              .unknownCategory,
              "unknown category \"\(Self.excerpt(text))\" (known: \(RowEncoder.listing(spec.categories)); without --unknown-category error it is read as missing)",
              at: spec.name, column: column)
          }
        }
        out[spec.slotOffset + index] = 1
      }
    }
    return flags
  }

  /// The encoded value of raw number `value` (finite, in the 32-bit float range) of numeric or
  /// integer feature `spec`: its z-score, clamped to the certified box. Every raw number takes
  /// this step, from a CSV cell or a column of numbers (``ColumnEncoder``).
  @inline(__always)
  static func encoded(_ value: Double, _ spec: FeatureSpec) -> Float { clamp((value - spec.mean) / spec.std) }

  /// The error for a raw number `RawNumber` refused (`shown`: the value as the message shows it).
  static func numberError(_ parsed: RawNumber.Parsed, shown: String, spec: FeatureSpec, column: Int) -> EmberRuntimeError {
    switch parsed {
    case .nonFinite: EmberRuntimeError(.badValue, "\"\(shown)\" is not a finite number", at: spec.name, column: column)
    case .outOfRange:
      EmberRuntimeError(.badValue, "\(shown) is outside the 32-bit float range (±3.4e38)", at: spec.name, column: column)
    case .notANumber, .value: EmberRuntimeError(.badValue, "expected a number, found \"\(shown)\"", at: spec.name, column: column)
    }
  }

  /// (v − mean)/std as Float, clamped to the certified box (±∞ and NaN cannot occur: inputs
  /// are finite and std ≥ 1e-12, but an overflow to ±∞ clamps too).
  @inline(__always)
  static func clamp(_ z: Double) -> Float {
    let limit = Double(ModelLimits.encodedMagnitude)
    return Float(min(max(z, -limit), limit))
  }

  /// At most 40 characters of a cell, for messages (control characters are escaped where the
  /// message is printed).
  static func excerpt(_ text: Substring) -> String {
    text.count <= 40 ? String(text) : String(text.prefix(40)) + "…"
  }
}

extension Substring {
  /// Without leading and trailing spaces.
  func trimmingSpaces() -> Substring {
    var s = self
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return s
  }
}

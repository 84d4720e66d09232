import EmberFormat

/// What to do with a categorical cell whose category the model does not know.
public enum UnknownCategoryPolicy: Sendable {
  /// Reject the row with ``EmberRuntimeError/Code/unknownCategory``.
  case error
  /// Treat the cell as missing (imputed with the training mode).
  case missing
}

/// Encodes raw CSV rows into the model's encoded space: missing cells imputed, numeric and
/// integer columns z-scored, categoricals one-hot over the model's categories.
///
/// Columns are matched by name once, from the header; extra columns are ignored. Missing-cell
/// tokens: empty, `NA`, `N/A`, `?` (the trainer's set minus `NaN`, which is rejected as a
/// non-finite number unless `nanIsMissing`).
public struct RowEncoder: Sendable {
  /// Feature specs in slot order.
  public let features: [FeatureSpec]
  /// Encoded width d.
  public let width: Int
  /// For each feature, the index of its column in the header.
  public let columns: [Int]
  /// Policy for unknown categories.
  public let unknownCategories: UnknownCategoryPolicy
  /// Whether `NaN` cells count as missing (otherwise they are an error).
  public let nanIsMissing: Bool
  private let categoryIndex: [[String: Int]]

  /// Matches `header` against the model's features. Throws `.missingColumns` naming every
  /// absent feature.
  public init(
    model: EmberModel, header: [String], unknownCategories: UnknownCategoryPolicy = .error,
    nanIsMissing: Bool = false
  ) throws {
    features = model.features
    width = model.encodedWidth
    self.unknownCategories = unknownCategories
    self.nanIsMissing = nanIsMissing
    var position: [String: Int] = [:]
    for (i, name) in header.enumerated() where position[name] == nil { position[name] = i }
    let missing = model.features.filter { position[$0.name] == nil }.map(\.name)
    guard missing.isEmpty else {
      throw EmberRuntimeError(
        .missingColumns,
        "missing column\(missing.count > 1 ? "s" : "") \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) (the header has: \(header.joined(separator: ", ")))",
        at: "header")
    }
    columns = model.features.map { position[$0.name]! }
    categoryIndex = model.features.map { f in
      Dictionary(f.categories.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }
  }

  /// Whether `text` is a missing-value token.
  @inline(__always)
  public static func isMissing<S: StringProtocol>(_ text: S) -> Bool {
    let u = text.utf8
    switch u.count {
    case 0: return true
    case 1: return u.first == UInt8(ascii: "?")
    case 2: return text == "NA" || text == "na"
    case 3: return text == "N/A"
    default: return false
    }
  }

  /// Encodes one row's fields into `out` (width d). On failure throws an error whose location
  /// is the column name; the caller adds file and line.
  @_specialize(where S == String)
  @_specialize(where S == Substring)
  public func encode<S: StringProtocol>(_ fields: [S], into out: UnsafeMutablePointer<Float>) throws {
    for (f, spec) in features.enumerated() {
      let column = columns[f]
      guard column < fields.count else {
        throw EmberRuntimeError(.badValue, "the row has \(fields.count) fields; column \(column + 1) is absent", at: spec.name)
      }
      let text = Substring(fields[column]).trimmingSpaces()
      switch spec.kind {
      case .numeric, .integer:
        var value: Double
        if RowEncoder.isMissing(text) {
          value = spec.imputeValue
        } else if let v = Double(text) {
          if v.isNaN && nanIsMissing {
            value = spec.imputeValue
          } else {
            guard v.isFinite else {
              throw EmberRuntimeError(.badValue, "\"\(text)\" is not a finite number", at: spec.name)
            }
            value = v
          }
        } else {
          throw EmberRuntimeError(.badValue, "expected a number, found \"\(text)\"", at: spec.name)
        }
        out[spec.slotOffset] = spec.standardized(value)
      case .categorical:
        for s in 0..<spec.slotCount { out[spec.slotOffset + s] = 0 }
        var index: Int
        if RowEncoder.isMissing(text) {
          index = Int(spec.imputeValue)
        } else if let i = categoryIndex[f][String(text)] {
          index = i
        } else if unknownCategories == .missing {
          index = Int(spec.imputeValue)
        } else {
          throw EmberRuntimeError(
            .unknownCategory,
            "unknown category \"\(text)\" (known: \(spec.categories.joined(separator: ", ")); use --unknown-as-missing to impute it)",
            at: spec.name)
        }
        out[spec.slotOffset + index] = 1
      }
    }
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

import EmberFormat

/// Decodes encoded rows back to raw CSV fields: un-standardise, clip to the observed training
/// range, round integer features, categorical slots → the category with the largest value.
public struct RowDecoder: Sendable {
  /// Feature specs in slot order.
  public let features: [FeatureSpec]

  /// A decoder for `model`'s features.
  public init(model: EmberModel) { features = model.features }

  /// Raw value of feature `f` from an encoded row, as text.
  public func field(_ f: Int, of row: UnsafePointer<Float>) -> String {
    let spec = features[f]
    switch spec.kind {
    case .categorical: return spec.categories[category(f, of: row)]
    case .integer: return String(Int64(number(f, of: row)))
    case .numeric: return RowDecoder.format(number(f, of: row))
    }
  }

  /// Raw value of feature `f` from an encoded row holding a point estimate, as text: as
  /// ``field(_:of:)`` except that an integer feature keeps its fraction (a conditional mean of
  /// counts or 0/1 flags is not an integer; rounding it would add up to ½ unit of error).
  public func estimateField(_ f: Int, of row: UnsafePointer<Float>) -> String {
    let spec = features[f]
    guard spec.kind == .integer else { return field(f, of: row) }
    let x = row[spec.slotOffset]
    return RowDecoder.format(x.isNaN ? spec.imputeValue : min(max(Double(x) * spec.std + spec.mean, spec.min), spec.max))
  }

  /// Raw number of numeric or integer feature `f` from an encoded row: un-standardised, clipped
  /// to the observed training range, rounded to an integer for integer features and to Float
  /// precision for numeric ones (the values come from Float arithmetic). A NaN (which no sampler
  /// produces, but a C caller may pass) decodes to the impute value.
  @inline(__always)
  public func number(_ f: Int, of row: UnsafePointer<Float>) -> Double {
    let spec = features[f]
    let x = row[spec.slotOffset]
    let v = x.isNaN ? spec.imputeValue : min(max(Double(x) * spec.std + spec.mean, spec.min), spec.max)
    return spec.kind == .integer ? v.rounded() : Double(Float(v))
  }

  /// Category index (into `categories`) of categorical feature `f`: the slot with the largest
  /// value (the first on ties).
  @inline(__always)
  public func category(_ f: Int, of row: UnsafePointer<Float>) -> Int {
    RowDecoder.largestSlot(row + features[f].slotOffset, count: features[f].slotCount)
  }

  /// Index of the largest of `count` slots (the first on ties; 0 when `count` ≤ 1): how a
  /// categorical feature's slots decode, wherever a category is read from encoded values.
  @inline(__always)
  static func largestSlot(_ slots: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for s in 1..<Swift.max(1, count) where slots[s] > slots[best] { best = s }
    return best
  }

  /// All features of an encoded row, in feature order.
  public func fields(of row: UnsafePointer<Float>) -> [String] {
    features.indices.map { field($0, of: row) }
  }

  /// Shortest text that reads back as the same Float-precision value (values come from Float
  /// arithmetic; printing Double noise digits would be misleading).
  public static func format(_ v: Double) -> String {
    let f = Float(v)
    if f == f.rounded(), abs(f) < 1e15 { return String(Int64(f)) }
    return f.description
  }
}

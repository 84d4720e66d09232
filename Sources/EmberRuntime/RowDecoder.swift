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
    case .categorical:
      var best = 0
      for s in 1..<spec.slotCount where row[spec.slotOffset + s] > row[spec.slotOffset + best] { best = s }
      return spec.categories[best]
    case .integer:
      let v = raw(spec, row[spec.slotOffset])
      let r = v.rounded()
      return String(Int64(r))
    case .numeric:
      let v = raw(spec, row[spec.slotOffset])
      return RowDecoder.format(v)
    }
  }

  /// The raw value of an encoded numeric value, clipped to the training range (NaN, which no
  /// session produces but a C caller may pass, decodes to the impute value).
  private func raw(_ spec: FeatureSpec, _ x: Float) -> Double {
    guard !x.isNaN else { return spec.imputeValue }
    return min(max(Double(x) * spec.std + spec.mean, spec.min), spec.max)
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

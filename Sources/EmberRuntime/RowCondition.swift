import EmberFormat

/// One condition on the rows to generate, in raw units: `COLUMN=VALUE` (a fixed value, numeric
/// or a category), `COLUMN>=X`, `COLUMN<=X`, `COLUMN>X`, `COLUMN<X` (numeric and integer
/// columns) or `COLUMN!=CATEGORY` (categorical columns and the target). The same grammar serves
/// `ember sample --given/--where`, the C API and Python.
public struct RowCondition: Sendable, Equatable, CustomStringConvertible {
  /// How the column relates to the value.
  public enum Relation: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case greaterOrEqual = ">="
    case lessOrEqual = "<="
    case greater = ">"
    case less = "<"
  }

  /// The column name (a feature or the target).
  public let column: String
  public let relation: Relation
  /// The value as written (a number or a category).
  public let value: String
  /// Where the condition came from, for messages: an option name (`given`, `where`) or a C
  /// argument (`conditions[2]`).
  public let source: String

  public init(column: String, relation: Relation, value: String, source: String) {
    self.column = column
    self.relation = relation
    self.value = value
    self.source = source
  }

  /// `column`, operator, `value`, as written.
  public var description: String { column + relation.rawValue + value }

  /// Parses `COLUMN OP VALUE` (spaces around the parts are ignored; `==` reads as `=`). The
  /// column name is everything before the first `!`, `<`, `>` or `=`. Throws `.badOption`
  /// located at `source`.
  public static func parse(_ text: String, source: String) throws(EmberRuntimeError) -> RowCondition {
    let chars = Array(text.unicodeScalars)
    guard let at = chars.firstIndex(where: { "!<>=".unicodeScalars.contains($0) }) else {
      throw EmberRuntimeError(
        .badOption, "\"\(text)\" is not a condition: expected COLUMN=VALUE, COLUMN>=X, COLUMN<=X, COLUMN>X, COLUMN<X or COLUMN!=CATEGORY",
        at: source)
    }
    let next = at + 1 < chars.count ? chars[at + 1] : nil
    let relation: Relation
    var width = 1
    switch chars[at] {
    case "!":
      guard next == "=" else { throw EmberRuntimeError(.badOption, "\"\(text)\": '!' must be followed by '=' (COLUMN!=CATEGORY)", at: source) }
      relation = .notEqual
      width = 2
    case "<":
      relation = next == "=" ? .lessOrEqual : .less
      width = next == "=" ? 2 : 1
    case ">":
      relation = next == "=" ? .greaterOrEqual : .greater
      width = next == "=" ? 2 : 1
    default:
      relation = .equal
      width = next == "=" ? 2 : 1
    }
    var column = String(String.UnicodeScalarView(chars[..<at]))
    var value = String(String.UnicodeScalarView(chars[(at + width)...]))
    column = String(Substring(column).trimmingSpaces())
    value = String(Substring(value).trimmingSpaces())
    guard !column.isEmpty else { throw EmberRuntimeError(.badOption, "\"\(text)\" names no column before '\(relation.rawValue)'", at: source) }
    guard !value.isEmpty else { throw EmberRuntimeError(.badOption, "\"\(text)\" has no value after '\(relation.rawValue)'", at: source) }
    return RowCondition(column: column, relation: relation, value: value, source: source)
  }
}

/// Conditions resolved against a model: for every feature, whether it is fixed (and to what),
/// bounded (encoded bounds on the values the decoder will print) or free; and the classes the
/// target conditions allow. Every contradiction, unknown column or category, and value the
/// model cannot produce (outside the observed training range, where the decoder clips) is
/// refused here with `.badOption`, before any sampling.
public struct ConditionSet: Sendable {
  /// What the conditions say about one feature.
  enum Constraint: Sendable {
    case free
    /// A numeric or integer value: its encoded value and the text written for it.
    case number(encoded: Float, text: String)
    /// Encoded bounds (inclusive) of a numeric or integer feature.
    case range(lower: Float, upper: Float)
    case category(Int)
    /// Categories allowed (a proper, non-empty subset).
    case categories([Int])
  }

  /// The conditions, as given.
  public let conditions: [RowCondition]
  let constraints: [Constraint]
  /// Classes the target conditions allow (model order), or nil when there are none.
  public let classes: [Int]?
  let features: [FeatureSpec]
  let labels: [String]
  let target: String

  /// Whether there is no condition at all.
  public var isEmpty: Bool { conditions.isEmpty }

  /// Resolves `conditions` against `model`. O(conditions · (categories + 64)).
  public init(model: EmberModel, conditions: [RowCondition]) throws(EmberRuntimeError) {
    self.conditions = conditions
    features = model.features
    labels = model.classes.map { $0.label }
    target = model.target
    var byFeature = [[RowCondition]](repeating: [], count: model.features.count)
    var allowedClasses: Set<Int>? = nil
    for c in conditions {
      if let f = model.features.firstIndex(where: { $0.name == c.column }) {
        byFeature[f].append(c)
      } else if c.column == model.target || (model.target.isEmpty && c.column == "label") {
        guard c.relation == .equal || c.relation == .notEqual else {
          throw EmberRuntimeError(.badOption, "\(c): the target \"\(c.column)\" takes = or != a class label", at: c.source)
        }
        guard let k = model.classIndex(of: c.value) else {
          throw EmberRuntimeError(
            .badOption, "\(c): \"\(c.value)\" is not a class of the model (classes: \(RowEncoder.listing(labels)))", at: c.source)
        }
        var allowed = allowedClasses ?? Set(labels.indices)
        if c.relation == .equal { allowed = allowed.intersection([k]) } else { allowed.remove(k) }
        guard !allowed.isEmpty else {
          throw EmberRuntimeError(.badOption, "\(c) contradicts the other conditions on \"\(c.column)\": no class is left", at: c.source)
        }
        allowedClasses = allowed
      } else {
        let names = model.features.map { $0.name } + [model.target.isEmpty ? "label" : model.target]
        throw EmberRuntimeError(
          .badOption, "\(c): \"\(c.column)\" is not a column of the model (columns: \(RowEncoder.listing(names)))", at: c.source)
      }
    }
    classes = allowedClasses.map { $0.sorted() }
    var out: [Constraint] = []
    for (f, spec) in model.features.enumerated() {
      out.append(try ConditionSet.resolve(spec, byFeature[f]))
    }
    constraints = out
  }

  // MARK: Resolution of one feature

  private static func resolve(_ spec: FeatureSpec, _ cs: [RowCondition]) throws(EmberRuntimeError) -> Constraint {
    guard !cs.isEmpty else { return .free }
    if spec.kind == .categorical {
      var allowed = Set(spec.categories.indices)
      for c in cs {
        guard c.relation == .equal || c.relation == .notEqual else {
          throw EmberRuntimeError(
            .badOption, "\(c): \"\(c.column)\" is categorical; use = or != with a category", at: c.source)
        }
        guard let k = spec.categories.firstIndex(of: c.value) else {
          throw EmberRuntimeError(
            .badOption, "\(c): \"\(c.value)\" is not a category of \"\(c.column)\" (categories: \(RowEncoder.listing(spec.categories)))",
            at: c.source)
        }
        if c.relation == .equal { allowed = allowed.intersection([k]) } else { allowed.remove(k) }
        guard !allowed.isEmpty else {
          throw EmberRuntimeError(
            .badOption, "\(c) contradicts the other conditions on \"\(c.column)\": no category is left", at: c.source)
        }
      }
      if allowed.count == 1 { return .category(allowed.first!) }
      if allowed.count == spec.categories.count { return .free }
      return .categories(allowed.sorted())
    }
    // Numeric or integer: values as the decoder prints them (clipped to the observed range,
    // integers rounded).
    var fixed: (Double, RowCondition)? = nil
    for c in cs {
      guard c.relation != .notEqual else {
        throw EmberRuntimeError(.badOption, "\(c): != applies to categorical columns; \"\(c.column)\" is numeric", at: c.source)
      }
      guard case .value(let v) = RawNumber.parse(Substring(c.value)) else {
        throw EmberRuntimeError(.badOption, "\(c): expected a decimal number for \"\(c.column)\", found \"\(c.value)\"", at: c.source)
      }
      guard c.relation == .equal else { continue }
      if spec.kind == .integer, v != v.rounded() {
        throw EmberRuntimeError(.badOption, "\(c): \"\(c.column)\" holds integers", at: c.source)
      }
      guard v >= spec.min, v <= spec.max else {
        throw EmberRuntimeError(
          .badOption,
          "\(c): \(c.value) is outside the values the model produces for \"\(c.column)\" (its training range \(RowDecoder.format(spec.min))…\(RowDecoder.format(spec.max)))",
          at: c.source)
      }
      if let (w, other) = fixed, w != v {
        throw EmberRuntimeError(.badOption, "\(c) contradicts \(other)", at: c.source)
      }
      fixed = (v, c)
    }
    if let (v, given) = fixed {
      let text = spec.kind == .integer ? String(Int64(v)) : RowDecoder.format(v)
      for c in cs where c.relation != .equal {
        guard ConditionSet.holds(ConditionSet.number(text), c.relation, ConditionSet.number(c.value)) else {
          throw EmberRuntimeError(.badOption, "\(c) contradicts \(given)", at: c.source)
        }
      }
      return .number(encoded: RowEncoder.clamp((v - spec.mean) / spec.std), text: text)
    }
    // Ranges: the encoded interval whose decoded values meet every condition.
    let box = ModelLimits.encodedMagnitude
    var lower = -box
    var upper = box
    var lowerBy: RowCondition? = nil
    var upperBy: RowCondition? = nil
    for c in cs {
      let bound = ConditionSet.number(c.value)
      let pred = { (e: Float) in ConditionSet.holds(ConditionSet.decoded(spec, e), c.relation, bound) }
      let rising = c.relation == .greater || c.relation == .greaterOrEqual
      guard pred(rising ? box : -box) else {
        throw EmberRuntimeError(
          .badOption,
          "\(c): the model's \"\(c.column)\" stays within its training range \(RowDecoder.format(spec.min))…\(RowDecoder.format(spec.max)), so no row can meet it",
          at: c.source)
      }
      if rising {
        let e = ConditionSet.firstTrue(from: -box, to: box, pred)
        if e > lower {
          lower = e
          lowerBy = c
        }
      } else {
        let e = ConditionSet.lastTrue(from: -box, to: box, pred)
        if e < upper {
          upper = e
          upperBy = c
        }
      }
      guard lower <= upper else {
        let other = (rising ? upperBy : lowerBy).map { " and \($0)" } ?? ""
        throw EmberRuntimeError(
          .badOption, "\(c)\(other) leave no value of \"\(c.column)\" (the conditions contradict each other)", at: c.source)
      }
    }
    if lower == upper {
      let text = ConditionSet.text(spec, lower)
      return .number(encoded: lower, text: text)
    }
    return .range(lower: lower, upper: upper)
  }

  static func number(_ text: String) -> Double {
    if case .value(let v) = RawNumber.parse(Substring(text)) { return v }
    return .nan
  }

  static func holds(_ v: Double, _ r: RowCondition.Relation, _ bound: Double) -> Bool {
    switch r {
    case .equal: v == bound
    case .notEqual: v != bound
    case .greaterOrEqual: v >= bound
    case .lessOrEqual: v <= bound
    case .greater: v > bound
    case .less: v < bound
    }
  }

  /// The value of the text the decoder prints for encoded value `e` of a numeric or integer
  /// feature (conditions hold on what is written, as a reader of the CSV parses it).
  static func decoded(_ spec: FeatureSpec, _ e: Float) -> Double { number(text(spec, e)) }

  /// The text the decoder prints for encoded value `e` (``RowDecoder/field(_:of:)``).
  static func text(_ spec: FeatureSpec, _ e: Float) -> String {
    let v = Swift.min(Swift.max(Double(e) * spec.std + spec.mean, spec.min), spec.max)
    return spec.kind == .integer ? String(Int64(v.rounded())) : RowDecoder.format(v)
  }

  /// Floats in total order as integers (−0 and +0 adjacent).
  private static func key(_ f: Float) -> Int64 {
    let b = Int64(f.bitPattern)
    return f.sign == .minus ? -(b & 0x7FFF_FFFF) - 1 : b
  }

  private static func float(_ k: Int64) -> Float {
    k < 0 ? Float(bitPattern: UInt32(truncatingIfNeeded: (-(k + 1)) | 0x8000_0000)) : Float(bitPattern: UInt32(truncatingIfNeeded: k))
  }

  /// The smallest Float in [a, b] where a rising predicate holds (it holds at b).
  static func firstTrue(from a: Float, to b: Float, _ pred: (Float) -> Bool) -> Float {
    if pred(a) { return a }
    var lo = key(a)  // false
    var hi = key(b)  // true
    while hi - lo > 1 {
      let mid = lo + (hi - lo) / 2
      if pred(float(mid)) { hi = mid } else { lo = mid }
    }
    return float(hi)
  }

  /// The largest Float in [a, b] where a falling predicate holds (it holds at a).
  static func lastTrue(from a: Float, to b: Float, _ pred: (Float) -> Bool) -> Float {
    if pred(b) { return b }
    var lo = key(a)  // true
    var hi = key(b)  // false
    while hi - lo > 1 {
      let mid = lo + (hi - lo) / 2
      if pred(float(mid)) { lo = mid } else { hi = mid }
    }
    return float(lo)
  }

  // MARK: Use

  /// The encoded row of the fixed values (free slots 0), the free numeric slots with their
  /// encoded bounds (±∞ when unconditioned), and the free categorical groups, for `proposal`.
  func pattern(proposal: MixtureProposal) -> (row: [Float], pattern: ConditionalPattern) {
    pattern(proposal: proposal, categoriesAsRegions: false)
  }

  /// The pattern that weighs classes by the conditions (``EmberSession/conditionalCounts``):
  /// as ``pattern(proposal:)`` for numeric features, but every categorical slot is a free,
  /// unbounded numeric slot, and a categorical condition becomes a region (the decoded category
  /// must be allowed). So a category's weight is the mass of the class's density over the rows
  /// that decode to it — a probability — rather than the density at its one-hot corner, which
  /// grows without bound as a class's spread along that corner shrinks (a class seen with one
  /// category only would outweigh every other).
  func marginalPattern(proposal: MixtureProposal) -> (row: [Float], pattern: ConditionalPattern) {
    pattern(proposal: proposal, categoriesAsRegions: true)
  }

  private func pattern(proposal: MixtureProposal, categoriesAsRegions: Bool) -> (row: [Float], pattern: ConditionalPattern) {
    var row = [Float](repeating: 0, count: proposal.d)
    var free: [Int] = []
    var lower: [Double] = []
    var upper: [Double] = []
    var groups: [ConditionalPattern.FreeGroup] = []
    var regions: [ConditionalPattern.FreeGroup] = []
    func open(_ slot: Int) {
      free.append(slot)
      lower.append(-.infinity)
      upper.append(.infinity)
    }
    for (f, spec) in features.enumerated() {
      let everyCategory = Array(0..<spec.slotCount)
      if spec.kind == .categorical && categoriesAsRegions {
        for s in everyCategory { open(spec.slotOffset + s) }
      }
      switch constraints[f] {
      case .free where spec.kind == .categorical:
        if !categoriesAsRegions { groups.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: everyCategory)) }
      case .free:
        open(spec.slotOffset)
      case .number(let e, _):
        row[spec.slotOffset] = e
      case .range(let lo, let hi):
        free.append(spec.slotOffset)
        lower.append(Double(lo))
        upper.append(Double(hi))
      case .category(let k) where categoriesAsRegions:
        regions.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: [k]))
      case .category(let k):
        row[spec.slotOffset + k] = 1
      case .categories(let allowed) where categoriesAsRegions:
        regions.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: allowed))
      case .categories(let allowed):
        groups.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: allowed))
      }
    }
    return (
      row, ConditionalPattern(proposal: proposal, free: free, lower: lower, upper: upper, groups: groups, regions: regions)
    )
  }

  /// Raw fields of an encoded row, in feature order: the decoder's, except fixed numeric values,
  /// which are written as given (the decoder could print them an ulp away).
  public func fields(of row: UnsafePointer<Float>, decoder: RowDecoder) -> [String] {
    features.indices.map { f in
      if case .number(_, let text) = constraints[f] { return text }
      return decoder.field(f, of: row)
    }
  }

  /// The first condition a raw row breaks (`fields` in feature order, `label` its class), or
  /// nil when it meets them all.
  public func violated(fields: [String], label: String) -> RowCondition? {
    for c in conditions {
      let text: String
      if let f = features.firstIndex(where: { $0.name == c.column }) {
        text = fields[f]
        if features[f].kind != .categorical {
          let v = ConditionSet.number(text)
          var bound = ConditionSet.number(c.value)
          // A fixed value is written as the decoder prints it: at 32-bit float precision
          // (0.202999992370605 is the float 0.203).
          if c.relation == .equal { bound = ConditionSet.number(RowDecoder.format(bound)) }
          if !ConditionSet.holds(v, c.relation, bound) { return c }
          continue
        }
      } else {
        text = label
      }
      if (c.relation == .equal) != (text == c.value) { return c }
    }
    return nil
  }
}

extension Substring {
  /// Without leading and trailing spaces and tabs (the rule of `ByteText.trimmed`, which the
  /// row encoder applies to every cell).
  func trimmingSpaces() -> Substring {
    var s = self
    while s.first == " " || s.first == "\t" { s = s.dropFirst() }
    while s.last == " " || s.last == "\t" { s = s.dropLast() }
    return s
  }
}

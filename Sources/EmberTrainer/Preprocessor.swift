import EmberFormat
import EmberRuntime
import EmberText

/// Per-column overrides of the type inference.
public struct ColumnOverrides: Sendable, Equatable {
  /// Columns read as categories even when their values look numeric.
  public var categorical: Set<String>
  /// Columns read as real numbers (a value that does not parse is an error).
  public var numeric: Set<String>
  /// Columns left out of the model.
  public var ignore: Set<String>
  /// Columns read as whole numbers (a value that is not a whole number is an error); samples
  /// of them come out whole.
  public var integer: Set<String>

  /// Creates overrides.
  public init(
    categorical: Set<String> = [], numeric: Set<String> = [], ignore: Set<String> = [], integer: Set<String> = []
  ) {
    self.categorical = categorical
    self.numeric = numeric
    self.ignore = ignore
    self.integer = integer
  }
}

/// Rows of a table encoded for training: z-scored numbers, one-hot categories, one float32
/// buffer per class.
public struct EncodedData: Sendable {
  /// Feature specs in slot order.
  public var features: [FeatureSpec]
  /// Encoded width d.
  public var width: Int
  /// Class labels in model order.
  public var classLabels: [String]
  /// Rows of every class in the data (what the priors count).
  public var classCounts: [Int]
  /// Encoded rows of every class (row-major, width d) in file order: all of them, or for a class
  /// beyond the row cap the seeded subsample of ``Trainer/subsample(_:limit:seed:classIndex:)``.
  public var classRows: [[Float]]
  /// Human-readable notes (dropped classes, imputed cells, dropped columns).
  public var warnings: [String]
  /// Data rows in the source (with or without a label).
  public var sourceRows: Int = 0

  /// Number of rows n over the kept classes.
  public var count: Int { classCounts.reduce(0, +) }
  /// Rows of class `c` held in ``classRows``.
  public func heldRows(_ c: Int) -> Int { classRows[c].count / max(width, 1) }
}

/// Which rows of each class are encoded: all of them, or for a class of more than `limit` rows
/// (not named in `uncapped`) a seeded subsample of `limit` (``Trainer/subsamplePositions``).
struct RowCap {
  var limit: Int
  var seed: UInt64
  /// Labels of classes whose every row is needed (classes of an `--add-to` model).
  var uncapped: Set<String> = []
}

/// Progress of the reading passes: (pass, rows read so far in it, whether the pass is done).
typealias ReadingReport = (Int, Int, Bool) -> Void

/// Fits feature encodings on a table (type inference, imputation, z-scoring) and encodes rows,
/// in streaming passes over the rows (``TableSource``): labels and column statistics, then the
/// squared deviations (and categories of a column that turned categorical late), then encoding
/// straight into per-class float32 buffers. No pass holds the table's text. Memory: 4 bytes a
/// row (its label), the per-column statistics and category counts, and the encoded rows kept.
public enum Preprocessor {
  /// Cell texts read as missing values: the runtime's list (``MissingValue``), so that training
  /// and every later answer read the same cells as missing.
  public static let missingTokens: Set<String> = Set(MissingValue.tokens)

  /// Whether `s` is a missing cell.
  public static func isMissing(_ s: String) -> Bool { MissingValue.isMissing(s) }

  /// Fits features on `table` and encodes it.
  ///
  /// Rows with a missing target are dropped; classes with fewer than `minClassRows` rows are
  /// dropped with a warning; statistics (mean, std, min, max, mode, missing counts) are taken
  /// over the remaining rows. Numeric/integer columns are z-scored (std 1 when constant);
  /// categoricals are one-hot over their categories in sorted order; missing cells take the
  /// mean (numbers) or the mode (categories).
  public static func fit(
    _ table: CSVTable, target: String, overrides: ColumnOverrides = ColumnOverrides(), minClassRows: Int = 10
  ) throws -> EncodedData {
    try fit(table, target: target, overrides: overrides, minClassRows: minClassRows, cap: nil, reading: nil)
  }

  /// Encodes `table` with existing `features` (e.g. those of a model being extended). Columns
  /// are matched by name; unknown categories are imputed with the mode and counted in warnings.
  public static func encode(
    _ table: CSVTable, target: String, features: [FeatureSpec], minClassRows: Int
  ) throws -> EncodedData {
    try encode(table, target: target, features: features, minClassRows: minClassRows, cap: nil, reading: nil)
  }

  /// ``fit(_:target:overrides:minClassRows:)`` over any source, keeping at most `cap` rows of
  /// a class.
  static func fit<S: TableSource>(
    _ source: S, target: String, overrides: ColumnOverrides, minClassRows: Int, cap: RowCap?,
    reading: ReadingReport?
  ) throws -> EncodedData {
    let t = source.header.firstIndex(of: target)
    let file = source.file
    // The columns that become features, in header order.
    let columns = source.header.indices.filter { $0 != t && !overrides.ignore.contains(source.header[$0]) }
    func freshScans() -> [ColumnScan] {
      columns.map { ColumnScan(categoricalOnly: overrides.categorical.contains(source.header[$0])) }
    }
    // Pass 1: structure, labels, and the statistics of every labelled row (redone over the
    // kept rows when a class is dropped).
    var scans = freshScans()
    let labels = try scanLabels(source, target: t, pass: 1, reading: reading) { row, line in
      for (k, j) in columns.enumerated() { scans[k].add(ByteText.trimmed(row.field(j)), line: line) }
    }
    let selection = try selectClasses(
      labels, source: source, target: target, overrides: overrides, minClassRows: minClassRows)
    var warnings = selection.warnings
    for name in overrides.categorical.intersection(overrides.numeric).sorted() {
      throw TrainerError(.badOption, "column is listed as both --categorical and --numeric", file: file, column: name)
    }
    for (other, option) in [(overrides.categorical, "--categorical"), (overrides.numeric, "--numeric")] {
      for name in overrides.integer.intersection(other).sorted() {
        throw TrainerError(.badOption, "column is listed as both --integer and \(option)", file: file, column: name)
      }
    }
    var pass = 1
    if selection.dropsRows {
      pass += 1
      scans = freshScans()
      try forEachKeptRow(source, labels, selection.classOf, pass: pass, reading: reading) { row, line, _ in
        for (k, j) in columns.enumerated() { scans[k].add(ByteText.trimmed(row.field(j)), line: line) }
      }
    }
    // Kinds, in column order (the first column's error is the one reported).
    var plans: [ColumnPlan] = []
    for (k, j) in columns.enumerated() {
      let name = source.header[j]
      plans.append(try scans[k].plan(name: name, overrides: overrides, file: file))
    }
    // Pass 2 when needed: squared deviations about the means, and categories of columns whose
    // first cells were numbers.
    let needed = plans.indices.filter { plans[$0] == .numeric || (plans[$0] == .categorical && scans[$0].categories == nil) }
    if !needed.isEmpty {
      pass += 1
      let means = scans.map { $0.sum / Double(max($0.count, 1)) }
      for k in needed where plans[k] == .categorical { scans[k].categories = [:] }
      try forEachKeptRow(source, labels, selection.classOf, pass: pass, reading: reading) { row, _, _ in
        for k in needed {
          let cell = ByteText.trimmed(row.field(columns[k]))
          if MissingValue.set.contains(cell) { continue }
          if plans[k] == .numeric {
            if case .value(let x) = RawNumber.parse(cell) { scans[k].squares += (x - means[k]) * (x - means[k]) }
          } else {
            scans[k].categories![String(decoding: cell, as: UTF8.self), default: 0] += 1
          }
        }
      }
    }
    var features: [FeatureSpec] = []
    var slot = 0
    for (k, j) in columns.enumerated() {
      let name = source.header[j]
      let scan = scans[k]
      var f: FeatureSpec
      switch plans[k] {
      case .absent:
        warnings.append("column \"\(name)\" has no values: left out")
        continue
      case .numeric:
        f = scan.numericFeature(name, integer: scan.allInteger && !overrides.numeric.contains(name))
      case .categorical:
        f = categoricalFeature(name, scan.categories ?? [:])
        if !scan.categoricalOnly, let bad = scan.firstBad, scan.bad <= max(1, scan.count / 100) {
          // Almost all numbers: most likely a typo or an `inf`, not a category column.
          warnings.append(
            "column \"\(name)\": read as categorical (\(f.categories.count) categories) because \(scan.bad) of its \(scan.count) cells are not numbers, the first \"\(bad.text)\" on line \(bad.line); fix or blank them to read it as numbers, or pass --categorical \(name) to keep it so")
        }
      }
      f.missingCount = scan.missing
      f.slotOffset = slot
      slot += f.slotCount
      if scan.missing > 0 { warnings.append("column \"\(name)\": \(scan.missing) missing value(s) imputed") }
      features.append(f)
    }
    guard !features.isEmpty else {
      throw TrainerError(.notEnoughData, "no feature columns left (besides the target)", file: file)
    }
    var data = try encodeRows(
      source, labels: labels, selection: selection, features: features, targetIndex: t!, cap: cap, encodeAll: false,
      pass: pass + 1, reading: reading)
    data.warnings = warnings + data.warnings
    return data
  }

  /// ``encode(_:target:features:minClassRows:)`` over any source.
  static func encode<S: TableSource>(
    _ source: S, target: String, features: [FeatureSpec], minClassRows: Int, cap: RowCap?, reading: ReadingReport?
  ) throws -> EncodedData {
    let t = source.header.firstIndex(of: target)
    let labels = try scanLabels(source, target: t, pass: 1, reading: reading) { _, _ in }
    let selection = try selectClasses(
      labels, source: source, target: target, overrides: ColumnOverrides(), minClassRows: minClassRows)
    var data = try encodeRows(
      source, labels: labels, selection: selection, features: features, targetIndex: t!, cap: cap, encodeAll: true,
      pass: 2, reading: reading)
    data.warnings = selection.warnings + data.warnings
    return data
  }

  /// The label of every row (an id per distinct label, in order of first appearance; −1 when
  /// missing) and the rows in all; `body` sees every row with a label. An unknown target column
  /// is reported after the pass, so that the file's own errors come first.
  static func scanLabels<S: TableSource>(
    _ source: S, target t: Int?, pass: Int, reading: ReadingReport?, _ body: (S.Row, Int) throws -> Void
  ) throws -> LabelScan {
    var scan = LabelScan()
    var index: [String: Int32] = [:]
    try source.forEachRow(validate: true) { row, line in
      scan.rows += 1
      if scan.rows & 0xFFFF == 0 { reading?(pass, scan.rows, false) }
      guard let t else { return }
      let cell = ByteText.trimmed(row.field(t))
      if MissingValue.set.contains(cell) {
        scan.ids.append(-1)
        scan.noTarget += 1
        return
      }
      let label = String(decoding: cell, as: UTF8.self)
      let id: Int32
      if let known = index[label] {
        id = known
      } else {
        id = Int32(scan.labels.count)
        index[label] = id
        scan.labels.append(label)
        scan.counts.append(0)
      }
      scan.ids.append(id)
      scan.counts[Int(id)] += 1
      try body(row, line)
    }
    reading?(pass, scan.rows, true)
    guard scan.rows > 0 else { throw TrainerError(.noRows, "the file has a header but no data rows", file: source.file) }
    return scan
  }

  /// The classes kept (at least `minClassRows` rows; order: numeric when every label is an
  /// integer, else lexicographic), the class of every label id (−1: left out), warnings.
  static func selectClasses<S: TableSource>(
    _ scan: LabelScan, source: S, target: String, overrides: ColumnOverrides, minClassRows: Int
  ) throws -> ClassSelection {
    let file = source.file
    guard source.header.contains(target) else {
      throw TrainerError(
        .missingColumn, "no such column (columns: \(source.header.joined(separator: ", ")))", file: file, column: target)
    }
    for name in overrides.categorical.union(overrides.numeric).union(overrides.ignore).union(overrides.integer).sorted() {
      guard source.header.contains(name) else {
        throw TrainerError(
          .missingColumn, "no such column (columns: \(source.header.joined(separator: ", ")))", file: file, column: name)
      }
      if name == target {
        throw TrainerError(.badOption, "the target column cannot be overridden or ignored", file: file, column: name)
      }
    }
    var warnings: [String] = []
    if scan.noTarget > 0 { warnings.append("\(scan.noTarget) row(s) without a \"\(target)\" value: left out") }
    var counts: [String: Int] = [:]
    for (i, l) in scan.labels.enumerated() { counts[l] = scan.counts[i] }
    let kept = counts.filter { $0.value >= minClassRows }
    for (label, n) in counts.sorted(by: { $0.key < $1.key }) where n < minClassRows {
      warnings.append("class \"\(label)\" has \(n) row(s), fewer than --min-class-rows \(minClassRows): left out")
    }
    if kept.isEmpty {
      throw TrainerError(
        .notEnoughData, counts.isEmpty ? "no rows have a target value" : "no class has at least \(minClassRows) rows",
        file: file, column: target)
    }
    let allInts = kept.keys.allSatisfy { Int($0) != nil }
    let ordered = allInts ? kept.keys.sorted { Int($0)! < Int($1)! } : kept.keys.sorted()
    var index: [String: Int] = [:]
    for (i, l) in ordered.enumerated() { index[l] = i }
    let classOf = scan.labels.map { index[$0] ?? -1 }
    return ClassSelection(
      labels: ordered, counts: ordered.map { counts[$0]! }, classOf: classOf, warnings: warnings,
      dropsRows: classOf.contains(-1))
  }

  /// One pass over the rows of kept classes: `body(row, line, class)`.
  static func forEachKeptRow<S: TableSource>(
    _ source: S, _ labels: LabelScan, _ classOf: [Int], pass: Int, reading: ReadingReport?,
    _ body: (S.Row, Int, Int) throws -> Void
  ) throws {
    var r = 0
    try source.forEachRow(validate: false) { row, line in
      guard r < labels.ids.count else {
        throw TrainerError(.io, "the file changed while it was being read (more rows than before)", file: source.file, line: line)
      }
      let id = Int(labels.ids[r])
      r += 1
      if r & 0xFFFF == 0 { reading?(pass, r, false) }
      if id >= 0, classOf[id] >= 0 { try body(row, line, classOf[id]) }
    }
    reading?(pass, r, true)
    guard r == labels.ids.count else {
      throw TrainerError(.io, "the file changed while it was being read (fewer rows than before)", file: source.file)
    }
  }

  static func categoricalFeature(_ name: String, _ counts: [String: Int]) -> FeatureSpec {
    let cats = counts.keys.sorted()
    var mode = 0
    for (i, c) in cats.enumerated() where counts[c]! > counts[cats[mode]]! { mode = i }
    return FeatureSpec(
      name: name, kind: .categorical, imputeValue: Double(mode), mean: 0, std: 1, min: 0, max: 0,
      categories: cats, slotCount: cats.count)
  }

  /// The encoding pass: rows of kept classes through the runtime's ``RowEncoder`` — the very
  /// encoder that later answers `score`, `classify` and the C API — with unknown categories
  /// read as missing (counted in warnings), straight into one buffer per class (only the rows
  /// `cap` keeps; `encodeAll`: the others are encoded too, into scratch, so that their errors
  /// and unknown categories are reported).
  static func encodeRows<S: TableSource>(
    _ source: S, labels: LabelScan, selection: ClassSelection, features: [FeatureSpec], targetIndex: Int, cap: RowCap?,
    encodeAll: Bool, pass: Int, reading: ReadingReport?
  ) throws -> EncodedData {
    let file = source.file
    for f in features where source.header.firstIndex(of: f.name) == targetIndex {
      throw TrainerError(.badOption, "the target column is also a feature of the model", file: file, column: f.name)
    }
    let encoder: RowEncoder
    do {
      encoder = try RowEncoder(features: features, header: source.header, unknownCategories: .missing)
    } catch {
      throw TrainerError(.badValue, error.message, file: file, line: 1)
    }
    let d = encoder.width
    let classes = selection.labels.count
    // The within-class positions each class keeps (nil: all).
    let kept: [[Int]?] = (0..<classes).map { c in
      guard let cap, !cap.uncapped.contains(selection.labels[c]) else { return nil }
      return Trainer.subsamplePositions(count: selection.counts[c], limit: cap.limit, seed: cap.seed, classIndex: c)
    }
    var buffers = (0..<classes).map { c in [Float](repeating: 0, count: (kept[c]?.count ?? selection.counts[c]) * d) }
    var seen = [Int](repeating: 0, count: classes)
    var stored = [Int](repeating: 0, count: classes)
    var scratch = [Float](repeating: 0, count: max(d, 1))
    var unknown = 0
    try forEachKeptRow(source, labels, selection.classOf, pass: pass, reading: reading) { row, line, c in
      let position = seen[c]
      seen[c] += 1
      let keep = kept[c].map { stored[c] < $0.count && $0[stored[c]] == position } ?? true
      guard keep || encodeAll else { return }
      func encode(into b: inout [Float], at slot: Int) throws -> RowFlags {
        try b.withUnsafeMutableBufferPointer { bp in
          do throws(EmberRuntimeError) {
            return try encoder.encode(row, into: bp.baseAddress! + slot * d)
          } catch {
            throw TrainerError(.badValue, error.message, file: file, line: line, column: error.location)
          }
        }
      }
      let flags = keep ? try encode(into: &buffers[c], at: stored[c]) : try encode(into: &scratch, at: 0)
      if keep { stored[c] += 1 }
      if flags.contains(.unknownCategory) { unknown += 1 }
    }
    var warnings: [String] = []
    if unknown > 0 {
      warnings.append("\(unknown) row(s) with categories not among the model's: read as missing (imputed with the mode)")
    }
    return EncodedData(
      features: features, width: d, classLabels: selection.labels, classCounts: selection.counts, classRows: buffers,
      warnings: warnings, sourceRows: labels.rows)
  }
}

/// Labels read in the first pass.
struct LabelScan {
  /// Label id of every data row (−1: no label).
  var ids: [Int32] = []
  /// Distinct labels by id, in order of first appearance, and their row counts.
  var labels: [String] = []
  var counts: [Int] = []
  /// Rows without a label, and data rows in all.
  var noTarget = 0
  var rows = 0
}

/// The classes kept and the class of every label id.
struct ClassSelection {
  var labels: [String]
  var counts: [Int]
  var classOf: [Int]
  var warnings: [String]
  /// Whether some labelled rows belong to no kept class.
  var dropsRows: Bool
}

/// What a column becomes.
enum ColumnPlan: Equatable {
  case absent, numeric, categorical
}

/// Streaming statistics of one column over the rows of kept classes: what type inference,
/// z-scoring and imputation need, in one pass (the squared deviations in a second one).
struct ColumnScan {
  /// A cell of the column, for messages.
  struct Cell {
    var text: String
    var line: Int
  }

  /// Forced categorical (`--categorical`): cells are not parsed as numbers.
  let categoricalOnly: Bool
  var missing = 0
  /// Non-missing cells.
  var count = 0
  /// Over the cells that are numbers, in row order.
  var sum = 0.0
  var squares = 0.0
  var low = Double.infinity
  var high = -Double.infinity
  var allInteger = true
  var firstFraction: Cell?
  var firstBad: Cell?
  var bad = 0
  var firstOutOfRange: Cell?
  /// Category counts: collected from the first cell when the column is forced categorical or
  /// its first cell is not a number (up to ``categoryLimit`` distinct values unless forced);
  /// nil otherwise (a second pass collects them if the column ends categorical).
  var categories: [String: Int]?
  private var decided = false

  /// Most distinct values counted in the first pass for a column not forced categorical.
  static let categoryLimit = 4_096

  init(categoricalOnly: Bool) {
    self.categoricalOnly = categoricalOnly
    if categoricalOnly { categories = [:] }
  }

  /// Adds one (trimmed) cell.
  mutating func add(_ cell: UnsafeBufferPointer<UInt8>, line: Int) {
    if MissingValue.set.contains(cell) {
      missing += 1
      return
    }
    count += 1
    if categoricalOnly {
      categories![String(decoding: cell, as: UTF8.self), default: 0] += 1
      return
    }
    let parsed = RawNumber.parse(cell)
    if !decided {
      decided = true
      if case .value = parsed {} else { categories = [:] }
    }
    if categories != nil {
      categories![String(decoding: cell, as: UTF8.self), default: 0] += 1
      if categories!.count > Self.categoryLimit { categories = nil }
    }
    switch parsed {
    case .value(let x):
      sum += x
      if x < low { low = x }
      if high < x { high = x }
      if allInteger && x.rounded() != x {
        allInteger = false
        firstFraction = Cell(text: String(decoding: cell, as: UTF8.self), line: line)
      }
    case .outOfRange:
      if firstOutOfRange == nil { firstOutOfRange = Cell(text: String(decoding: cell, as: UTF8.self), line: line) }
    case .notANumber, .nonFinite:
      if firstBad == nil { firstBad = Cell(text: String(decoding: cell, as: UTF8.self), line: line) }
      bad += 1
    }
  }

  /// The column's kind, or the error of a forced kind its cells break.
  func plan(name: String, overrides: ColumnOverrides, file: String) throws -> ColumnPlan {
    guard count > 0 else { return .absent }
    if categoricalOnly { return .categorical }
    if overrides.integer.contains(name), let cell = firstFraction {
      throw TrainerError(
        .badValue, "\(cell.text) is not a whole number (column forced integer)", file: file, line: cell.line, column: name)
    }
    if firstBad == nil, let cell = firstOutOfRange {
      // A number column with a value no float holds (a category column may have anything).
      throw TrainerError(
        .badValue, "\(cell.text) is outside the 32-bit float range (±3.4e38)", file: file, line: cell.line, column: name)
    }
    if let cell = firstBad {
      if overrides.numeric.contains(name) || overrides.integer.contains(name) {
        throw TrainerError(
          .badValue,
          "\"\(cell.text)\" is not a number (column forced \(overrides.numeric.contains(name) ? "numeric" : "integer"))",
          file: file, line: cell.line, column: name)
      }
      return .categorical
    }
    return .numeric
  }

  /// The numeric feature (population std; 1 for a constant column).
  func numericFeature(_ name: String, integer: Bool) -> FeatureSpec {
    let mean = sum / Double(count)
    var std = (squares / Double(count)).squareRoot()
    if !(std > 1e-12) || !std.isFinite { std = 1 }
    return FeatureSpec(
      name: name, kind: integer ? .integer : .numeric, imputeValue: mean, mean: mean, std: std, min: low, max: high,
      categories: [], slotCount: 1)
  }
}

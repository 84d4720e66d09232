import EmberFormat
import EmberRuntime

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

/// Rows of a table encoded for training: z-scored numbers, one-hot categories, class indices.
public struct EncodedData: Sendable {
  /// Feature specs in slot order.
  public var features: [FeatureSpec]
  /// Encoded width d.
  public var width: Int
  /// n×d encoded rows, row-major.
  public var x: [Float]
  /// Class index of every row (into `classLabels`).
  public var labels: [Int]
  /// Class labels in model order.
  public var classLabels: [String]
  /// Source line of every row.
  public var lines: [Int]
  /// Human-readable notes (dropped classes, imputed cells, dropped columns).
  public var warnings: [String]

  /// Number of rows n.
  public var count: Int { labels.count }
  /// Rows per class.
  public var classCounts: [Int] {
    var c = [Int](repeating: 0, count: classLabels.count)
    for l in labels { c[l] += 1 }
    return c
  }
}

/// Fits feature encodings on a table (type inference, imputation, z-scoring) and encodes rows.
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
    let (targetIndex, rowIndices, classLabels, labels, warnings0) = try selectRows(
      table, target: target, overrides: overrides, minClassRows: minClassRows)
    var warnings = warnings0
    for name in overrides.categorical.intersection(overrides.numeric).sorted() {
      throw TrainerError(.badOption, "column is listed as both --categorical and --numeric", file: table.file, column: name)
    }
    for (other, option) in [(overrides.categorical, "--categorical"), (overrides.numeric, "--numeric")] {
      for name in overrides.integer.intersection(other).sorted() {
        throw TrainerError(.badOption, "column is listed as both --integer and \(option)", file: table.file, column: name)
      }
    }
    var features: [FeatureSpec] = []
    var slot = 0
    for (j, name) in table.header.enumerated() where j != targetIndex && !overrides.ignore.contains(name) {
      var values: [String] = []
      values.reserveCapacity(rowIndices.count)
      var missing = 0
      for r in rowIndices {
        let v = table.rows[r][j]
        if isMissing(v) { missing += 1 } else { values.append(v) }
      }
      if values.isEmpty {
        warnings.append("column \"\(name)\" has no values: left out")
        continue
      }
      var f: FeatureSpec
      if overrides.categorical.contains(name) {
        f = categoricalFeature(name, values)
      } else {
        var numbers: [Double] = []
        numbers.reserveCapacity(values.count)
        // Whole numbers in any spelling (`166`, `166.0`, `1.66e2`) make an integer column.
        var allInteger = true
        var firstBad: Int? = nil
        var bad = 0
        var outOfRange: Int? = nil
        for (k, v) in values.enumerated() {
          // The runtime's number grammar: what trains as a number is read as one by `score`.
          switch RawNumber.parse(v) {
          case .value(let x):
            numbers.append(x)
            if allInteger && x.rounded() != x {
              allInteger = false
              if overrides.integer.contains(name) {
                throw TrainerError(
                  .badValue, "\(v) is not a whole number (column forced integer)", file: table.file,
                  line: lineOfValue(k, column: j, rows: rowIndices, table), column: name)
              }
            }
          case .outOfRange:
            if outOfRange == nil { outOfRange = k }
          case .notANumber, .nonFinite:
            if firstBad == nil { firstBad = k }
            bad += 1
          }
        }
        if firstBad == nil, let k = outOfRange {
          // A number column with a value no float holds (a category column may have anything).
          throw TrainerError(
            .badValue, "\(values[k]) is outside the 32-bit float range (±3.4e38)", file: table.file,
            line: lineOfValue(k, column: j, rows: rowIndices, table), column: name)
        }
        if let k = firstBad {
          if overrides.numeric.contains(name) || overrides.integer.contains(name) {
            throw TrainerError(
              .badValue,
              "\"\(values[k])\" is not a number (column forced \(overrides.numeric.contains(name) ? "numeric" : "integer"))",
              file: table.file, line: lineOfValue(k, column: j, rows: rowIndices, table), column: name)
          }
          f = categoricalFeature(name, values)
          if bad <= max(1, values.count / 100) {
            // Almost all numbers: most likely a typo or an `inf`, not a category column.
            warnings.append(
              "column \"\(name)\": read as categorical (\(f.categories.count) categories) because \(bad) of its \(values.count) cells are not numbers, the first \"\(values[k])\" on line \(lineOfValue(k, column: j, rows: rowIndices, table)); fix or blank them to read it as numbers, or pass --categorical \(name) to keep it so")
          }
        } else {
          f = numericFeature(name, numbers, integer: allInteger && !overrides.numeric.contains(name))
        }
      }
      f.missingCount = missing
      f.slotOffset = slot
      slot += f.slotCount
      if missing > 0 { warnings.append("column \"\(name)\": \(missing) missing value(s) imputed") }
      features.append(f)
    }
    guard !features.isEmpty else {
      throw TrainerError(.notEnoughData, "no feature columns left (besides the target)", file: table.file)
    }
    var data = try encode(table, rows: rowIndices, features: features, targetIndex: targetIndex)
    data.labels = labels
    data.classLabels = classLabels
    data.warnings = warnings + data.warnings
    return data
  }

  /// Encodes `table` with existing `features` (e.g. those of a model being extended). Columns
  /// are matched by name; unknown categories are imputed with the mode and counted in warnings.
  public static func encode(
    _ table: CSVTable, target: String, features: [FeatureSpec], minClassRows: Int
  ) throws -> EncodedData {
    let (targetIndex, rowIndices, classLabels, labels, warnings) = try selectRows(
      table, target: target, overrides: ColumnOverrides(), minClassRows: minClassRows)
    var data = try encode(table, rows: rowIndices, features: features, targetIndex: targetIndex)
    data.labels = labels
    data.classLabels = classLabels
    data.warnings = warnings + data.warnings
    return data
  }

  /// Rows with a target value whose class is large enough; class order: numeric when every
  /// label is an integer, else lexicographic.
  static func selectRows(
    _ table: CSVTable, target: String, overrides: ColumnOverrides, minClassRows: Int
  ) throws -> (Int, [Int], [String], [Int], [String]) {
    let t = try table.column(target)
    for name in overrides.categorical.union(overrides.numeric).union(overrides.ignore).union(overrides.integer).sorted() {
      _ = try table.column(name)
      if name == target {
        throw TrainerError(.badOption, "the target column cannot be overridden or ignored", file: table.file, column: name)
      }
    }
    var warnings: [String] = []
    var counts: [String: Int] = [:]
    var noTarget = 0
    for row in table.rows {
      if isMissing(row[t]) { noTarget += 1 } else { counts[row[t], default: 0] += 1 }
    }
    if noTarget > 0 { warnings.append("\(noTarget) row(s) without a \"\(target)\" value: left out") }
    let kept = counts.filter { $0.value >= minClassRows }
    for (label, n) in counts.sorted(by: { $0.key < $1.key }) where n < minClassRows {
      warnings.append("class \"\(label)\" has \(n) row(s), fewer than --min-class-rows \(minClassRows): left out")
    }
    if kept.isEmpty {
      throw TrainerError(
        .notEnoughData, counts.isEmpty ? "no rows have a target value" : "no class has at least \(minClassRows) rows",
        file: table.file, column: target)
    }
    let allInts = kept.keys.allSatisfy { Int($0) != nil }
    let ordered = allInts ? kept.keys.sorted { Int($0)! < Int($1)! } : kept.keys.sorted()
    var index: [String: Int] = [:]
    for (i, l) in ordered.enumerated() { index[l] = i }
    var rows: [Int] = []
    var y: [Int] = []
    for (r, row) in table.rows.enumerated() {
      if let c = index[row[t]] {
        rows.append(r)
        y.append(c)
      }
    }
    return (t, rows, ordered, y, warnings)
  }

  static func numericFeature(_ name: String, _ v: [Double], integer: Bool) -> FeatureSpec {
    var mean = 0.0
    for x in v { mean += x }
    mean /= Double(v.count)
    var ss = 0.0
    for x in v { ss += (x - mean) * (x - mean) }
    var std = (ss / Double(v.count)).squareRoot()
    if !(std > 1e-12) || !std.isFinite { std = 1 }
    return FeatureSpec(
      name: name, kind: integer ? .integer : .numeric, imputeValue: mean, mean: mean, std: std,
      min: v.min()!, max: v.max()!, categories: [], slotCount: 1)
  }

  static func categoricalFeature(_ name: String, _ v: [String]) -> FeatureSpec {
    var counts: [String: Int] = [:]
    for s in v { counts[s, default: 0] += 1 }
    let cats = counts.keys.sorted()
    var mode = 0
    for (i, c) in cats.enumerated() where counts[c]! > counts[cats[mode]]! { mode = i }
    return FeatureSpec(
      name: name, kind: .categorical, imputeValue: Double(mode), mean: 0, std: 1, min: 0, max: 0,
      categories: cats, slotCount: cats.count)
  }

  /// The line of the k-th non-missing value of column `j` among `rows` (for messages).
  static func lineOfValue(_ k: Int, column j: Int, rows: [Int], _ table: CSVTable) -> Int {
    var seen = -1
    for r in rows where !isMissing(table.rows[r][j]) {
      seen += 1
      if seen == k { return table.lines[r] }
    }
    return 0
  }

  /// Encodes the given rows of `table` with `features` (labels are filled in by the caller),
  /// through the runtime's ``RowEncoder`` — the very encoder that later answers `score`,
  /// `classify` and the C API — with unknown categories read as missing (counted in warnings).
  static func encode(_ table: CSVTable, rows: [Int], features: [FeatureSpec], targetIndex: Int) throws -> EncodedData {
    for f in features where try table.column(f.name) == targetIndex {
      throw TrainerError(.badOption, "the target column is also a feature of the model", file: table.file, column: f.name)
    }
    let encoder: RowEncoder
    do {
      encoder = try RowEncoder(features: features, header: table.header, unknownCategories: .missing)
    } catch {
      throw TrainerError(.badValue, error.message, file: table.file, line: 1)
    }
    let d = encoder.width
    var x = [Float](repeating: 0, count: rows.count * d)
    var unknown = 0
    try x.withUnsafeMutableBufferPointer { (xp) throws in
      for (i, r) in rows.enumerated() {
        do throws(EmberRuntimeError) {
          if try encoder.encode(table.rows[r], into: xp.baseAddress! + i * d).contains(.unknownCategory) { unknown += 1 }
        } catch {
          throw TrainerError(.badValue, error.message, file: table.file, line: table.lines[r], column: error.location)
        }
      }
    }
    var warnings: [String] = []
    if unknown > 0 {
      warnings.append("\(unknown) row(s) with categories not among the model's: read as missing (imputed with the mode)")
    }
    return EncodedData(
      features: features, width: d, x: x, labels: [], classLabels: [], lines: rows.map { table.lines[$0] },
      warnings: warnings)
  }
}

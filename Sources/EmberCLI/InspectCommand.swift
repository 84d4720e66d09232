import ArgumentParser
import EmberFormat
import Foundation

/// `ember inspect MODEL [--json]`: what a model file holds, for people or for scripts.
///
/// The model is fully verified first (as by `ember verify`); a bad file gives one
/// `ember: error: …` line on stderr and exit status 3. `--json` prints a single JSON object
/// (snake_case keys; non-finite numbers as `null`).
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Summarise a model: version, provenance, features, classes, networks, calibration.")

  @Argument(help: "The .ember model file.") var model: String
  @Flag(help: "Print one JSON object instead of text.") var json = false

  func run() throws {
    try reportingFailures {
      let m: EmberModel
      do {
        m = try EmberModel(path: model)
      } catch let e as EmberFormatError {
        throw CLIFailure.model(e.description)
      }
      if json {
        print(InspectJSON.render(InspectReport.json(m, path: model)))
      } else {
        print(InspectReport.text(m, path: model), terminator: "")
      }
    }
  }
}

/// Builds the text and JSON views of a loaded model.
enum InspectReport {
  // MARK: shared facts

  /// `30→128→128→1 silu, logOdds`.
  static func networkSummary(_ c: ClassInfo, width: Int) -> String? {
    guard let output = c.output, !c.layers.isEmpty else { return nil }
    let shape = ([width] + c.layers.map(\.outputs)).map(String.init).joined(separator: "→")
    return "\(shape) \(activationSummary(c.layers)), \(output)"
  }

  /// One activation name when the hidden layers share it and the last is identity; else all.
  static func activationSummary(_ layers: [LayerInfo]) -> String {
    let hidden = Set(layers.dropLast().map(\.activation))
    if layers.last?.activation == .identity, hidden.count == 1 { return hidden.first!.description }
    if layers.count == 1, layers[0].activation == .identity { return "linear" }
    return layers.map(\.activation.description).joined(separator: "/")
  }

  static func weightTypeSummary(_ layers: [LayerInfo]) -> String {
    let types = layers.map(\.weightType.description)
    return Set(types).count == 1 ? types[0] : types.joined(separator: "/")
  }

  /// Up to five (level, value) pairs: the usual tail levels when the table has them, else
  /// the ends and the middle.
  static func highlights(_ c: Calibration) -> [(Float, Float)] {
    let wanted: [Float] = [0.05, 0.5, 0.95, 0.99]
    var picked: [(Float, Float)] = []
    for w in wanted {
      if let i = c.levels.firstIndex(where: { abs($0 - w) < 1e-6 }) { picked.append((c.levels[i], c.quantiles[i])) }
    }
    if picked.count >= 2 || c.levels.isEmpty { return picked }
    let idx = Array(Set([0, c.levels.count / 2, c.levels.count - 1])).sorted()
    return idx.map { (c.levels[$0], c.quantiles[$0]) }
  }

  static func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
  }

  static func iso8601(_ seconds: Int64) -> String {
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }

  static func g(_ v: Double, _ digits: Int = 6) -> String {
    v.isFinite ? String(format: "%.\(digits)g", v) : (v.isNaN ? "n/a" : (v > 0 ? "inf" : "-inf"))
  }
  static func g(_ v: Float, _ digits: Int = 6) -> String { g(Double(v), digits) }

  static func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
      if i > 0, i % 3 == 0, ch != "-" { out.append(",") }
      out.append(ch)
    }
    return String(out.reversed())
  }

  static func imputeText(_ f: FeatureSpec) -> String {
    if f.kind == .categorical {
      let i = Int(f.imputeValue)
      return f.categories.indices.contains(i) ? f.categories[i] : g(f.imputeValue)
    }
    return g(f.imputeValue)
  }

  // MARK: text

  static func text(_ m: EmberModel, path: String) -> String {
    var out = ""
    func line(_ s: String = "") { out += s + "\n" }
    func field(_ name: String, _ value: String, indent: Int = 2) {
      let pad = String(repeating: " ", count: max(1, 15 - name.count))
      line(String(repeating: " ", count: indent) + name + pad + value)
    }
    let p = m.provenance
    line(path)
    field("format", "\(m.formatVersion) (readable by \(m.minimumReaderVersion) and later \(m.formatVersion.major).x readers)")
    field("file size", "\(grouped(m.byteCount)) bytes")
    field("checksum", "crc32 \(hex(m.checksum)) (verified)")
    let producer = [p.producer, p.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
    field("producer", producer.isEmpty ? "unknown" : producer)
    field("source", p.source.isEmpty ? "unknown" : "\(p.source) (\(grouped(p.sourceRows)) rows)")
    field("seed", "\(p.seed)")
    field("objective", p.objective.isEmpty ? "unknown" : p.objective)
    field("created", p.created == 0 ? "not recorded (reproducible build)" : "\(iso8601(p.created))")
    field("train time", p.trainSeconds == 0 ? "not recorded" : "\(g(p.trainSeconds, 4)) s")
    field("held-out", "balanced accuracy \(g(p.heldoutBalancedAccuracy, 4)), OOD AUROC \(g(p.heldoutOODAUROC, 4))")
    if !p.command.isEmpty { field("command", p.command) }
    field("target", m.target)
    field("temperature", g(m.temperature))
    let params = m.classes.reduce(0) { $0 + $1.parameterCount }
    field("parameters", "\(grouped(params)) network parameters in \(m.classes.count) class\(m.classes.count == 1 ? "" : "es")")

    line()
    line("features (\(m.features.count), encoded width \(m.encodedWidth))")
    for f in m.features {
      var s = "  [\(f.slotOffset)\(f.slotCount > 1 ? "…\(f.slotOffset + f.slotCount - 1)" : "")] \(f.name): \(f.kind)"
      if f.kind == .categorical {
        s += " {\(f.categories.joined(separator: ", "))}"
      } else {
        s += ", mean \(g(f.mean)), std \(g(f.std)), range \(g(f.min))…\(g(f.max))"
      }
      s += ", impute \(imputeText(f)), missing \(f.missingCount)"
      line(s)
    }

    line()
    line("classes (\(m.classes.count))")
    for c in m.classes {
      line("  \(c.label): prior \(g(c.prior, 4)), train rows \(c.trainRows)")
      if let net = networkSummary(c, width: m.encodedWidth) {
        field("network", "\(net), weights \(weightTypeSummary(c.layers)), \(grouped(c.parameterCount)) parameters, scale \(g(c.networkScale))", indent: 4)
      } else {
        field("network", "none", indent: 4)
      }
      if let b = c.base {
        let kind = b.components == 1 ? "gaussian" : "mixture of \(b.components) gaussians (shared covariance)"
        field("base", "\(kind), log det Σ \(g(b.logDetCovariance))", indent: 4)
      } else {
        field("base", "none", indent: 4)
      }
      field("calibration", calibrationText(c.calibration), indent: 4)
      if let s = c.sampler {
        let noise = s.noiseScale < 0 ? "√(2εT)" : g(s.noiseScale)
        let clip = s.gradClip > 0 ? ", clip \(g(s.gradClip))" : ""
        field("sampler", "\(s.kind), \(s.steps) steps, ε \(g(s.stepSize)), noise \(noise), T \(g(s.temperature)), init noise \(g(s.initNoise))\(clip), start at \(s.initialization)", indent: 4)
      } else {
        field("sampler", "runtime defaults", indent: 4)
      }
      field("start rows", "\(c.startingRowCount(width: m.encodedWidth)) stored", indent: 4)
      if c.offset != 0 { field("offset", g(c.offset), indent: 4) }
    }
    line()
    line("score calibration: \(calibrationText(m.scoreCalibration))")
    if !m.metadata.isEmpty {
      line()
      line("metadata (\(m.metadata.count))")
      for (k, v) in m.metadata.sorted(by: { $0.key < $1.key }) { line("  \(k) = \(v)") }
    }
    return out
  }

  static func calibrationText(_ c: Calibration?) -> String {
    guard let c else { return "none" }
    let qs = highlights(c).map { "q\(g($0.0, 3)) \(g($0.1, 4))" }.joined(separator: ", ")
    return "threshold \(g(c.threshold)) (\(c.rows) held-out rows, \(c.levels.count) levels)\(qs.isEmpty ? "" : "; \(qs)")"
  }

  // MARK: JSON

  static func json(_ m: EmberModel, path: String) -> InspectJSON {
    let p = m.provenance
    let provenance: InspectJSON = .object([
      ("producer", .string(p.producer)), ("producer_version", .string(p.producerVersion)),
      ("source", .string(p.source)), ("source_rows", .int(Int64(p.sourceRows))), ("seed", .uint(p.seed)),
      ("objective", .string(p.objective)), ("command", .string(p.command)),
      ("created", .int(p.created)), ("created_iso8601", p.created == 0 ? .null : .string(iso8601(p.created))),
      ("train_seconds", .double(p.trainSeconds)),
      ("heldout_balanced_accuracy", .double(p.heldoutBalancedAccuracy)),
      ("heldout_ood_auroc", .double(p.heldoutOODAUROC)),
    ])
    let features: [InspectJSON] = m.features.map { f in
      .object([
        ("name", .string(f.name)), ("kind", .string(f.kind.description)),
        ("slot_offset", .int(Int64(f.slotOffset))), ("slot_count", .int(Int64(f.slotCount))),
        ("impute_value", .double(f.imputeValue)),
        ("impute_category", f.kind == .categorical ? .string(imputeText(f)) : .null),
        ("mean", .double(f.mean)), ("std", .double(f.std)), ("min", .double(f.min)), ("max", .double(f.max)),
        ("missing_count", .int(Int64(f.missingCount))),
        ("categories", .array(f.categories.map(InspectJSON.string))),
      ])
    }
    let classes: [InspectJSON] = m.classes.map { c in
      var network: InspectJSON = .null
      if let output = c.output, let summary = networkSummary(c, width: m.encodedWidth) {
        network = .object([
          ("summary", .string(summary)),
          ("shape", .array(([m.encodedWidth] + c.layers.map(\.outputs)).map { .int(Int64($0)) })),
          ("activations", .array(c.layers.map { .string($0.activation.description) })),
          ("weight_types", .array(c.layers.map { .string($0.weightType.description) })),
          ("output", .string(output.description)),
          ("parameter_count", .int(Int64(c.parameterCount))),
          ("scale", .float(c.networkScale)),
        ])
      }
      var base: InspectJSON = .null
      if let b = c.base {
        base = .object([("components", .int(Int64(b.components))), ("log_det_covariance", .double(b.logDetCovariance))])
      }
      var sampler: InspectJSON = .null
      if let s = c.sampler {
        sampler = .object([
          ("kind", .string(s.kind.description)), ("steps", .int(Int64(s.steps))), ("step_size", .float(s.stepSize)),
          ("noise_scale", .float(s.noiseScale)), ("temperature", .float(s.temperature)),
          ("init_noise", .float(s.initNoise)), ("grad_clip", .float(s.gradClip)),
          ("init", .string(s.initialization.description)),
        ])
      }
      return .object([
        ("label", .string(c.label)), ("prior", .double(c.prior)), ("train_rows", .int(Int64(c.trainRows))),
        ("network", network), ("base", base), ("calibration", calibrationJSON(c.calibration)),
        ("sampler", sampler), ("starting_rows", .int(Int64(c.startingRowCount(width: m.encodedWidth)))),
        ("offset", .float(c.offset)),
      ])
    }
    return .object([
      ("path", .string(path)), ("format_version", .string(m.formatVersion.description)),
      ("min_reader_version", .string(m.minimumReaderVersion.description)),
      ("file_size", .int(Int64(m.byteCount))), ("checksum", .string(hex(m.checksum))),
      ("provenance", provenance), ("target", .string(m.target)), ("temperature", .float(m.temperature)),
      ("encoded_width", .int(Int64(m.encodedWidth))),
      ("parameter_count", .int(Int64(m.classes.reduce(0) { $0 + $1.parameterCount }))),
      ("features", .array(features)), ("classes", .array(classes)),
      ("score_calibration", calibrationJSON(m.scoreCalibration)),
      ("metadata", .object(m.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
    ])
  }

  static func calibrationJSON(_ c: Calibration?) -> InspectJSON {
    guard let c else { return .null }
    return .object([
      ("threshold", .float(c.threshold)), ("rows", .int(Int64(c.rows))),
      ("levels", .array(c.levels.map(InspectJSON.float))), ("quantiles", .array(c.quantiles.map(InspectJSON.float))),
    ])
  }
}

/// A JSON value with ordered object keys, rendered by hand (non-finite numbers become null).
indirect enum InspectJSON {
  case null
  case int(Int64)
  case uint(UInt64)
  case double(Double)
  case float(Float)
  case string(String)
  case array([InspectJSON])
  case object([(String, InspectJSON)])

  /// Pretty-printed with two-space indentation.
  static func render(_ v: InspectJSON) -> String {
    var out = ""
    v.write(into: &out, indent: 0)
    return out
  }

  func write(into out: inout String, indent: Int) {
    let pad = String(repeating: "  ", count: indent + 1)
    let close = String(repeating: "  ", count: indent)
    switch self {
    case .null: out += "null"
    case .int(let v): out += String(v)
    case .uint(let v): out += String(v)
    // Swift's shortest round-trip descriptions ("0.1", "1e-05", "5.0") are valid JSON numbers.
    case .double(let v): out += v.isFinite ? v.description : "null"
    case .float(let v): out += v.isFinite ? v.description : "null"
    case .string(let s): InspectJSON.quote(s, into: &out)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      let scalar = items.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
      if scalar {
        out += "["
        for (i, item) in items.enumerated() {
          if i > 0 { out += ", " }
          item.write(into: &out, indent: indent)
        }
        out += "]"
        return
      }
      out += "[\n"
      for (i, item) in items.enumerated() {
        out += pad
        item.write(into: &out, indent: indent + 1)
        out += i + 1 < items.count ? ",\n" : "\n"
      }
      out += close + "]"
    case .object(let fields):
      if fields.isEmpty { out += "{}"; return }
      out += "{\n"
      for (i, (k, v)) in fields.enumerated() {
        out += pad
        InspectJSON.quote(k, into: &out)
        out += ": "
        v.write(into: &out, indent: indent + 1)
        out += i + 1 < fields.count ? ",\n" : "\n"
      }
      out += close + "}"
    }
  }

  static func quote(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where u.value < 0x20 || u.value == 0x7F || (0x2028...0x2029).contains(u.value):
        let h = String(u.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
      default: out.unicodeScalars.append(u)
      }
    }
    out += "\""
  }
}

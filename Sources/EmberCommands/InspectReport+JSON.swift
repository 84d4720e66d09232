import EmberFormat
import EmberText

extension InspectReport {
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
          ("shape", .array(([m.encodedWidth] + c.layers.map { $0.outputs }).map { .int(Int64($0)) })),
          ("activations", .array(c.layers.map { .string($0.activation.description) })),
          ("weight_types", .array(c.layers.map { .string($0.weightType.description) })),
          ("output", .string(output.description)),
          ("parameter_count", .int(Int64(c.parameterCount))),
          ("scale", .float(c.networkScale)),
        ])
      }
      var base: InspectJSON = .null
      if let b = c.base {
        base = .object([
          ("components", .int(Int64(b.components))), ("log_det_covariance", .double(b.logDetCovariance)),
          ("lattice_slots", .int(Int64(b.latticeSlots))),
        ])
      }
      var sampler: InspectJSON = .null
      if let s = c.sampler {
        sampler = .object([
          ("kind", .string(s.kind.description)), ("steps", .int(Int64(s.steps))), ("step_size", .float(s.stepSize)),
          ("noise_scale", .float(s.noiseScale)), ("temperature", .float(s.temperature)),
          ("init_noise", .float(s.initNoise)), ("grad_clip", .float(s.gradClip)),
          ("init", .string(s.initialization.description)), ("proposals", .int(Int64(s.proposals))),
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
      ("readout", m.readout.map { r in
        .object([
          ("weights", .array(r.weights.map { .float($0) })), ("bias", .array(r.bias.map { .float($0) })),
          ("input_weights", r.inputWeights.map { .array($0.map { .float($0) }) } ?? .null),
        ])
      } ?? .null),
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
    case .string(let s): JSONText.quote(s, into: &out)
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
        JSONText.quote(k, into: &out)
        out += ": "
        v.write(into: &out, indent: indent + 1)
        out += i + 1 < fields.count ? ",\n" : "\n"
      }
      out += close + "}"
    }
  }
}

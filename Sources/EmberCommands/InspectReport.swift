import EmberFormat

/// Builds the text and JSON views of a loaded model.
enum InspectReport {
  // MARK: shared facts

  /// `30→128→128→1 silu, logOdds`.
  static func networkSummary(_ c: ClassInfo, width: Int) -> String? {
    guard let output = c.output, !c.layers.isEmpty else { return nil }
    let shape = ([width] + c.layers.map { $0.outputs }).map(String.init).joined(separator: "→")
    return "\(shape) \(activationSummary(c.layers)), \(output)"
  }

  /// One activation name when the hidden layers share it and the last is identity; else all.
  static func activationSummary(_ layers: [LayerInfo]) -> String {
    let hidden = Set(layers.dropLast().map { $0.activation })
    if layers.last?.activation == .identity, hidden.count == 1 { return hidden.first!.description }
    if layers.count == 1, layers[0].activation == .identity { return "linear" }
    return layers.map { $0.activation.description }.joined(separator: "/")
  }

  static func weightTypeSummary(_ layers: [LayerInfo]) -> String {
    let types = layers.map { $0.weightType.description }
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

  static func iso8601(_ seconds: Int64) -> String { TextFormat.iso8601(seconds) }

  static func g(_ v: Double, _ digits: Int = 6) -> String {
    v.isFinite ? TextFormat.g(v, digits: digits) : (v.isNaN ? "n/a" : (v > 0 ? "inf" : "-inf"))
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
    func line(_ s: String = "") { out += visible(s) + "\n" }  // names and labels may hold control characters
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
    let stored = m.classes.reduce(0) { $0 + $1.startingRowCount(width: m.encodedWidth) }
    field(
      "training rows",
      stored == 0
        ? "none stored (chains start from the base; the file holds no training data)"
        : "\(grouped(stored)) stored as chain starting points — the file holds training data")

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
        let lattice = b.latticeSlots > 0 ? ", lattice variance on \(b.latticeSlots) slots" : ""
        field("base", "\(kind), log det Σ \(g(b.logDetCovariance))\(lattice)", indent: 4)
      } else {
        field("base", "none", indent: 4)
      }
      field("calibration", calibrationText(c.calibration), indent: 4)
      if let s = c.sampler {
        let noise = s.noiseScale < 0 ? "√(2εT)" : g(s.noiseScale)
        let clip = s.gradClip > 0 ? ", clip \(g(s.gradClip))" : ""
        field("sampler", "\(s.kind), \(s.steps) steps, ε \(g(s.stepSize)), noise \(noise), T \(g(s.temperature)), init noise \(g(s.initNoise))\(clip), start at \(s.initialization)\(s.proposals > 0 ? ", \(s.proposals) independence proposals from the base" : "")", indent: 4)
      } else {
        field("sampler", "runtime defaults", indent: 4)
      }
      field("start rows", "\(c.startingRowCount(width: m.encodedWidth)) stored", indent: 4)
      if c.offset != 0 { field("offset", g(c.offset), indent: 4) }
    }
    line()
    line("score calibration: \(calibrationText(m.scoreCalibration))")
    if let r = m.readout {
      let inputs = r.inputWeights.map { " + \(m.classes.count)×\($0.count / max(m.classes.count, 1)) weights on the encoded row" } ?? ""
      line("classification: stacked read-out, \(m.classes.count)×\(m.classes.count) weights on the energies\(inputs) + \(r.bias.count) biases")
    } else {
      line("classification: temperature \(g(m.temperature)), log priors and per-class offsets")
    }
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
}

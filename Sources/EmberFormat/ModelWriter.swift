import _EmberFlatBuffers

/// Serialises a ``ModelSpec`` into `.ember` bytes: a `Model` payload inside a versioned,
/// checksummed envelope. Weight vectors are 64-byte aligned. The same spec always gives the
/// same bytes.
public enum ModelWriter {
  /// The complete file bytes for `spec`, after checking it with the same semantic rules a
  /// reader applies. Throws ``EmberFormatError`` (`.invalidDescription`).
  public static func serialize(_ spec: ModelSpec) throws(EmberFormatError) -> [UInt8] {
    do {
      try ModelValidator.validate(spec)
    } catch {
      throw EmberFormatError(.invalidDescription, error.message, at: error.location)
    }
    return try envelope(payload: payloadBytes(spec), version: .current, minReader: FormatVersion(major: FormatVersion.current.major, minor: 0))
  }

  /// Test and tooling hook: serialises `spec` with an arbitrary envelope version and minimum
  /// reader version, optionally skipping the semantic checks (to craft files a reader must
  /// refuse). Not for producing real models.
  package static func serialize(
    _ spec: ModelSpec, version: FormatVersion, minReader: FormatVersion, validating: Bool
  ) throws(EmberFormatError) -> [UInt8] {
    if validating {
      do {
        try ModelValidator.validate(spec)
      } catch {
        throw EmberFormatError(.invalidDescription, error.message, at: error.location)
      }
    }
    return try envelope(payload: payloadBytes(spec), version: version, minReader: minReader)
  }

  /// Test and tooling hook: wraps raw `Model` payload bytes (possibly patched) in an envelope
  /// with a correct CRC-32, so the payload reaches the verifier and the semantic checks.
  package static func envelope(payload: [UInt8], version: FormatVersion, minReader: FormatVersion) throws(EmberFormatError) -> [UInt8] {
    let crc = payload.withUnsafeBufferPointer { embr_crc32(0, $0.baseAddress, $0.count) }
    guard let b = embr_builder_new(payload.count + 256) else {
      throw EmberFormatError(.io, "out of memory while building the file")
    }
    defer { embr_builder_free(b) }
    payload.withUnsafeBufferPointer {
      embr_b_finish_envelope(b, $0.baseAddress, $0.count, version.major, version.minor, minReader.major, minReader.minor, crc)
    }
    return finishedBytes(b)
  }

  /// Writes `spec` to `path` atomically (temporary file, fsync, rename).
  public static func write(_ spec: ModelSpec, to path: String) throws(EmberFormatError) {
    let bytes = try serialize(spec)
    try AtomicFile.write(bytes, to: path)
  }

  static func finishedBytes(_ b: OpaquePointer) -> [UInt8] {
    var size = 0
    let data = embr_b_bytes(b, &size)!
    return Array(UnsafeBufferPointer(start: data, count: size))
  }

  /// The `Model` payload bytes of `spec` (no envelope, no checks).
  package static func payloadBytes(_ spec: ModelSpec) -> [UInt8] {
    let b = embr_builder_new(1 << 16)!
    defer { embr_builder_free(b) }
    var w = RefWriter(b: b)
    let root = w.model(spec)
    embr_b_finish_model(b, root)
    return finishedBytes(b)
  }
}

/// Builds the tables bottom-up through the C builder API.
private struct RefWriter {
  let b: OpaquePointer

  func string(_ s: String) -> embr_ref {
    var s = s
    return s.withUTF8 { u in
      u.withMemoryRebound(to: CChar.self) { embr_b_string(b, $0.baseAddress, $0.count) }
    }
  }

  func optionalString(_ s: String) -> embr_ref { s.isEmpty ? 0 : string(s) }

  func floats(_ v: [Float]) -> embr_ref {
    v.withUnsafeBufferPointer { embr_b_floats(b, $0.baseAddress, $0.count) }
  }

  func halves(_ v: [Float]) -> embr_ref {
    let bits = v.map { Half.bits(of: $0) }
    return bits.withUnsafeBufferPointer { embr_b_u16s(b, $0.baseAddress, $0.count) }
  }

  func refs(_ v: [embr_ref]) -> embr_ref {
    v.withUnsafeBufferPointer { embr_b_refs(b, $0.baseAddress, $0.count) }
  }

  func calibration(_ c: Calibration?) -> embr_ref {
    guard let c else { return 0 }
    let levels = floats(c.levels)
    let quantiles = floats(c.quantiles)
    var a = embr_calibration_args(
      levels: levels, quantiles: quantiles, threshold: c.threshold, rows: UInt32(c.rows))
    return embr_b_calibration(b, &a)
  }

  func feature(_ f: FeatureSpec) -> embr_ref {
    let name = string(f.name)
    let cats = f.categories.isEmpty ? 0 : refs(f.categories.map(string))
    var a = embr_feature_args(
      name: name, kind: f.kind.rawValue, impute_value: f.imputeValue, mean: f.mean, std: f.std,
      min: f.min, max: f.max, categories: cats, slot_offset: UInt32(f.slotOffset),
      slot_count: UInt32(f.slotCount), missing_count: UInt32(f.missingCount))
    return embr_b_feature(b, &a)
  }

  func layer(_ l: DenseLayerSpec) -> embr_ref {
    let w32 = l.weightType == .float32 ? floats(l.weights) : 0
    let w16 = l.weightType == .float16 ? halves(l.weights) : 0
    let bias = floats(l.bias)
    var a = embr_layer_args(
      inputs: UInt32(l.inputs), outputs: UInt32(l.outputs), activation: l.activation.rawValue,
      weight_type: l.weightType.rawValue, weights_f32: w32, weights_f16: w16, bias: bias)
    return embr_b_layer(b, &a)
  }

  func base(_ g: GaussianBaseSpec?) -> embr_ref {
    guard let g else { return 0 }
    let means = floats(g.means)
    let logWeights = floats(g.logWeights)
    let precision = floats(g.precision)
    let lattice = g.latticeVariance.isEmpty ? 0 : floats(g.latticeVariance)
    var a = embr_base_args(
      means: means, log_weights: logWeights, precision: precision,
      log_det_covariance: g.logDetCovariance, components: UInt32(g.components), lattice_variance: lattice)
    return embr_b_base(b, &a)
  }

  func sampler(_ s: SamplerDefaults?) -> embr_ref {
    guard let s else { return 0 }
    var a = embr_sampler(
      present: 1, kind: s.kind.rawValue, steps: UInt32(s.steps), step_size: s.stepSize,
      noise_scale: s.noiseScale, temperature: s.temperature, init_noise: s.initNoise,
      grad_clip: s.gradClip, init: s.initialization.rawValue, proposals: UInt32(s.proposals))
    return embr_b_sampler(b, &a)
  }

  func classModel(_ c: ClassSpec) -> embr_ref {
    let label = string(c.label)
    var network: embr_ref = 0
    if !c.layers.isEmpty {
      let layers = refs(c.layers.map(layer))
      network = embr_b_network(b, layers, c.output.rawValue)
    }
    let baseRef = base(c.base)
    let cal = calibration(c.calibration)
    let samp = sampler(c.sampler)
    let starts = c.startingRows.flatMap { $0.isEmpty ? nil : floats($0) } ?? 0
    var a = embr_class_args(
      label: label, prior: c.prior, train_rows: UInt32(c.trainRows), network: network,
      base: baseRef, network_scale: c.networkScale, calibration: cal, sampler: samp,
      starting_rows: starts, offset: c.offset)
    return embr_b_class(b, &a)
  }

  mutating func model(_ m: ModelSpec) -> embr_ref {
    let p = m.provenance
    var pa = embr_provenance_args(
      producer: optionalString(p.producer), producer_version: optionalString(p.producerVersion),
      source: optionalString(p.source), objective: optionalString(p.objective),
      command: optionalString(p.command), source_rows: UInt64(p.sourceRows), seed: p.seed,
      created: p.created, train_seconds: p.trainSeconds,
      heldout_balanced_accuracy: p.heldoutBalancedAccuracy, heldout_ood_auroc: p.heldoutOODAUROC)
    let provenance = embr_b_provenance(b, &pa)
    let target = string(m.target)
    let features = refs(m.features.map(feature))
    let classes = refs(m.classes.map(classModel))
    let scoreCal = calibration(m.scoreCalibration)
    var metadata: embr_ref = 0
    if !m.metadata.isEmpty {
      // Keyed vectors must be sorted bytewise by key for binary search.
      let sorted = m.metadata.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
      metadata = refs(sorted.map { embr_b_keyvalue(b, string($0.key), string($0.value)) })
    }
    let readoutWeights = m.readout.map { floats($0.weights) } ?? 0
    let readoutBias = m.readout.map { floats($0.bias) } ?? 0
    let readoutInput = m.readout?.inputWeights.map { floats($0) } ?? 0
    var ma = embr_model_args(
      provenance: provenance, target: target, features: features,
      encoded_width: UInt32(m.encodedWidth), classes: classes, temperature: m.temperature,
      score_calibration: scoreCal, metadata: metadata, readout_weights: readoutWeights,
      readout_bias: readoutBias, readout_input_weights: readoutInput)
    return embr_b_model(b, &ma)
  }
}

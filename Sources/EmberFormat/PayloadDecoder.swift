import _EmberFlatBuffers

/// Reads a verified `Model` payload through the C view into Swift values and in-place views.
/// Unknown enum values are reported here (the FlatBuffers verifier does not check them).
struct PayloadDecoder {
  let payload: UnsafePointer<UInt8>

  struct Decoded {
    var provenance: Provenance
    var target: String
    var features: [FeatureSpec]
    var encodedWidth: Int
    var classes: [ClassInfo]
    var temperature: Float
    var scoreCalibration: Calibration?
    var metadata: [String: String]
    var readout: StackedReadout?
  }

  func decode() throws(EmberFormatError) -> Decoded {
    var info = embr_model_info()
    embr_model_info_get(payload, &info)
    let p = info.provenance
    let provenance =
      p.present != 0
      ? Provenance(
        producer: string(p.producer), producerVersion: string(p.producer_version),
        source: string(p.source), sourceRows: Int(clamping: p.source_rows), seed: p.seed,
        objective: string(p.objective), command: string(p.command), created: p.created,
        trainSeconds: p.train_seconds, heldoutBalancedAccuracy: p.heldout_balanced_accuracy,
        heldoutOODAUROC: p.heldout_ood_auroc)
      : Provenance()
    var features: [FeatureSpec] = []
    features.reserveCapacity(Int(info.feature_count))
    for i in 0..<info.feature_count { features.append(try feature(i)) }
    var classes: [ClassInfo] = []
    for i in 0..<info.class_count { classes.append(try classInfo(i)) }
    var metadata: [String: String] = [:]
    for i in 0..<info.metadata_count {
      var k = embr_string()
      var v = embr_string()
      embr_metadata_get(payload, i, &k, &v)
      metadata[string(k)] = string(v)
    }
    return Decoded(
      provenance: provenance, target: string(info.target), features: features,
      encodedWidth: Int(info.encoded_width), classes: classes, temperature: info.temperature,
      scoreCalibration: calibration(info.score_calibration), metadata: metadata,
      readout: info.readout_weights.data == nil && info.readout_bias.data == nil
        ? nil
        : StackedReadout(
          weights: Array(floats(info.readout_weights)), bias: Array(floats(info.readout_bias)),
          inputWeights: info.readout_input_weights.data == nil ? nil : Array(floats(info.readout_input_weights))))
  }

  private func feature(_ i: UInt32) throws(EmberFormatError) -> FeatureSpec {
    var f = embr_feature()
    embr_feature_get(payload, i, &f)
    let name = string(f.name)
    guard let kind = FeatureKind(rawValue: f.kind) else {
      throw EmberFormatError(.invalid, "unknown feature kind \(f.kind)", at: "feature \(i) \"\(name)\" kind")
    }
    let categories = (0..<f.category_count).map { string(embr_feature_category(payload, i, $0)) }
    return FeatureSpec(
      name: name, kind: kind, imputeValue: f.impute_value, mean: f.mean, std: f.std, min: f.min,
      max: f.max, categories: categories, slotOffset: Int(f.slot_offset),
      slotCount: Int(f.slot_count), missingCount: Int(f.missing_count))
  }

  private func classInfo(_ i: UInt32) throws(EmberFormatError) -> ClassInfo {
    var c = embr_class()
    embr_class_get(payload, i, &c)
    let label = string(c.label)
    let at = "class \(i) \"\(label)\""
    var output: OutputMode? = nil
    var layers: [LayerInfo] = []
    if c.has_network != 0 {
      guard let mode = OutputMode(rawValue: c.output) else {
        throw EmberFormatError(.invalid, "unknown output mode \(c.output)", at: "\(at) network output")
      }
      output = mode
      for l in 0..<c.layer_count {
        var layer = embr_layer()
        embr_layer_get(payload, i, l, &layer)
        layers.append(try layerInfo(layer, at: "\(at) layer \(l)"))
      }
    }
    var base: BaseInfo? = nil
    if c.has_base != 0 {
      base = BaseInfo(
        components: Int(c.base_components), logDetCovariance: c.base_log_det,
        means: floats(c.base_means), logWeights: floats(c.base_log_weights),
        precision: floats(c.base_precision), latticeVariance: floats(c.base_lattice_variance))
    }
    var sampler: SamplerDefaults? = nil
    if c.sampler.present != 0 {
      let s = c.sampler
      guard let kind = SamplerKind(rawValue: s.kind) else {
        throw EmberFormatError(.invalid, "unknown sampler kind \(s.kind)", at: "\(at) sampler kind")
      }
      guard let initialization = ChainInit(rawValue: s.`init`) else {
        throw EmberFormatError(.invalid, "unknown chain initialisation \(s.`init`)", at: "\(at) sampler init")
      }
      sampler = SamplerDefaults(
        kind: kind, steps: Int(s.steps), stepSize: s.step_size, noiseScale: s.noise_scale,
        temperature: s.temperature, initNoise: s.init_noise, gradClip: s.grad_clip,
        initialization: initialization, proposals: Int(s.proposals))
    }
    return ClassInfo(
      label: label, prior: c.prior, trainRows: Int(c.train_rows), output: output, layers: layers,
      base: base, networkScale: c.network_scale, calibration: calibration(c.calibration),
      sampler: sampler, startingRows: floats(c.starting_rows), offset: c.offset)
  }

  private func layerInfo(_ l: embr_layer, at: String) throws(EmberFormatError) -> LayerInfo {
    guard let activation = Activation(rawValue: l.activation) else {
      throw EmberFormatError(.invalid, "unknown activation \(l.activation)", at: "\(at) activation")
    }
    guard let type = WeightType(rawValue: l.weight_type) else {
      throw EmberFormatError(.invalid, "unknown weight type \(l.weight_type)", at: "\(at) weight_type")
    }
    let weights: WeightStorage
    switch type {
    case .float32:
      guard l.weights_f16.data == nil else {
        throw EmberFormatError(.invalid, "float32 layer also carries float16 weights", at: "\(at) weights")
      }
      weights = .float32(floats(l.weights_f32))
    case .float16:
      guard l.weights_f32.data == nil else {
        throw EmberFormatError(.invalid, "float16 layer also carries float32 weights", at: "\(at) weights")
      }
      let p = l.weights_f16.data?.assumingMemoryBound(to: UInt16.self)
      weights = .float16(UnsafeBufferPointer(start: p, count: Int(l.weights_f16.count)))
    }
    return LayerInfo(
      inputs: Int(l.inputs), outputs: Int(l.outputs), activation: activation, weightType: type,
      weights: weights, bias: floats(l.bias))
  }

  private func calibration(_ c: embr_calibration) -> Calibration? {
    guard c.present != 0 else { return nil }
    return Calibration(
      levels: Array(floats(c.levels)), quantiles: Array(floats(c.quantiles)), threshold: c.threshold,
      rows: Int(c.rows))
  }

  private func floats(_ s: embr_span) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(start: s.data?.assumingMemoryBound(to: Float.self), count: Int(s.count))
  }

  private func string(_ s: embr_string) -> String {
    guard let p = s.data, s.length > 0 else { return "" }
    let bytes = UnsafeRawBufferPointer(start: p, count: Int(s.length)).bindMemory(to: UInt8.self)
    return String(decoding: bytes, as: UTF8.self)
  }
}

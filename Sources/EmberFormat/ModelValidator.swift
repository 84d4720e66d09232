import _EmberSystem

/// Semantic rules every model obeys, applied on load (to the file) and on write (to the spec),
/// so a writer can never produce a file a reader refuses.
enum ModelValidator {
  /// Shape, finiteness and magnitude summary of one layer, gathered from a file view or a spec.
  struct LayerFacts {
    var inputs: Int
    var outputs: Int
    var activation: Activation
    var weightCount: Int
    var biasCount: Int
    /// Index of the first non-finite weight, if any.
    var badWeight: Int?
    /// Index of the first non-finite bias, if any.
    var badBias: Int?
    var maxAbsWeight: Float = 0
    var maxAbsBias: Float = 0
    /// max over outputs of Σ_i |W_oi| (0 when the shape is wrong).
    var maxRowAbsSum: Double = 0
    /// max over inputs of Σ_o |W_oi| (0 when the shape is wrong).
    var maxColAbsSum: Double = 0

    init(
      inputs: Int, outputs: Int, activation: Activation, weightCount: Int, bias: [Float], badWeight: Int?,
      floats: UnsafeBufferPointer<Float>? = nil, weight: (Int) -> Float
    ) {
      self.inputs = inputs
      self.outputs = outputs
      self.activation = activation
      self.weightCount = weightCount
      biasCount = bias.count
      self.badWeight = badWeight
      badBias = ModelValidator.firstNonFinite(bias)
      maxAbsBias = ModelValidator.maxAbs(bias)
      guard badWeight == nil else { return }
      let (product, overflow) = inputs.multipliedReportingOverflow(by: outputs)
      // Only when the weights are all there (product > 0: an empty layer of huge width allocates nothing).
      let complete = !overflow && product > 0 && weightCount == product
      guard complete else {
        for k in 0..<weightCount { maxAbsWeight = max(maxAbsWeight, abs(weight(k))) }
        return
      }
      // One pass (row sums in input order, column sums in output order); float32 weights in
      // place are summed by C (same order, same sums; the column sums in temporary storage, on
      // the stack when small), others read through the accessor.
      var top: Float = 0
      var rowMax = 0.0
      if let floats, let base = floats.baseAddress {
        var colMax = 0.0
        withUnsafeTemporaryAllocation(of: Double.self, capacity: inputs) { cols in
          ember_sys_abs_sums(base, outputs, inputs, cols.baseAddress, &top, &rowMax, &colMax)
        }
        (maxAbsWeight, maxRowAbsSum, maxColAbsSum) = (top, rowMax, colMax)
        return
      }
      var cols = [Double](repeating: 0, count: inputs)
      cols.withUnsafeMutableBufferPointer { cols in
        func visit(_ w: (Int) -> Float) {
          // Four rows at a time: four independent row sums, each column still summed in
          // output order.
          var o = 0
          while o + 4 <= outputs {
            var r0 = 0.0, r1 = 0.0, r2 = 0.0, r3 = 0.0
            for i in 0..<inputs {
              let a0 = abs(w(o * inputs + i)), a1 = abs(w((o + 1) * inputs + i))
              let a2 = abs(w((o + 2) * inputs + i)), a3 = abs(w((o + 3) * inputs + i))
              top = max(top, max(max(a0, a1), max(a2, a3)))
              r0 += Double(a0)
              r1 += Double(a1)
              r2 += Double(a2)
              r3 += Double(a3)
              cols[i] = cols[i] + Double(a0) + Double(a1) + Double(a2) + Double(a3)
            }
            rowMax = max(rowMax, max(max(r0, r1), max(r2, r3)))
            o += 4
          }
          for r in o..<outputs {
            var row = 0.0
            for i in 0..<inputs {
              let a = abs(w(r * inputs + i))
              top = max(top, a)
              let v = Double(a)
              row += v
              cols[i] += v
            }
            rowMax = max(rowMax, row)
          }
        }
        visit(weight)
      }
      maxAbsWeight = top
      maxRowAbsSum = rowMax
      maxColAbsSum = cols.max() ?? 0
    }
  }

  /// The facts about one base term that the rules look at.
  struct BaseFacts {
    var components: Int
    var means: Int
    var logWeights: Int
    var precision: Int
    var logDet: Double
    /// Number of lattice variances (0 or d).
    var latticeVariance: Int
    /// Index of the first lattice variance that is not finite or is negative.
    var badLatticeVariance: Int?
    var maxLatticeVariance: Float = 0
    /// What is not finite, if anything.
    var bad: String?
    var maxAbsMean: Float = 0
    var maxAbsLogWeight: Float = 0
    var maxAbsPrecision: Float = 0
    /// Σ_ij |P_ij|.
    var precisionAbsSum: Double = 0
    /// max_i Σ_j |P_ij|.
    var maxPrecisionRowAbsSum: Double = 0
    /// Row of the first non-positive Cholesky pivot: the precision is not positive definite.
    var notPositiveDefinite: Int?

    /// Facts of a base given as arrays (a spec).
    init(
      components: Int, means: [Float], logWeights: [Float], precision: [Float], logDet: Double, latticeVariance: [Float],
      width d: Int
    ) {
      self = means.withUnsafeBufferPointer { m in
        logWeights.withUnsafeBufferPointer { w in
          precision.withUnsafeBufferPointer { p in
            latticeVariance.withUnsafeBufferPointer { v in
              BaseFacts(components: components, means: m, logWeights: w, precision: p, logDet: logDet, latticeVariance: v, width: d)
            }
          }
        }
      }
    }

    /// Facts of a base read in place (a file view, or a spec's arrays).
    init(
      components: Int, means: UnsafeBufferPointer<Float>, logWeights: UnsafeBufferPointer<Float>,
      precision: UnsafeBufferPointer<Float>, logDet: Double, latticeVariance: UnsafeBufferPointer<Float>, width d: Int
    ) {
      self.components = components
      self.means = means.count
      self.logWeights = logWeights.count
      self.precision = precision.count
      self.logDet = logDet
      self.latticeVariance = latticeVariance.count
      badLatticeVariance = latticeVariance.firstIndex { !($0.isFinite && $0 >= 0) }
      if badLatticeVariance == nil { maxLatticeVariance = latticeVariance.max() ?? 0 }
      // One pass per array: the first non-finite value and, when all are finite, the largest magnitude.
      let m = ModelValidator.scan(means), w = ModelValidator.scan(logWeights), p = ModelValidator.scan(precision)
      bad = m.bad.map { "mean \($0)" } ?? w.bad.map { "log weight \($0)" } ?? p.bad.map { "precision \($0)" }
      guard bad == nil else { return }
      (maxAbsMean, maxAbsLogWeight, maxAbsPrecision) = (m.maxAbs, w.maxAbs, p.maxAbs)
      let (dd, overflow) = d.multipliedReportingOverflow(by: d)
      guard !overflow, precision.count == dd else { return }
      for i in 0..<d {
        var row = 0.0
        for j in 0..<d { row += Double(abs(precision[i * d + j])) }
        precisionAbsSum += row
        maxPrecisionRowAbsSum = max(maxPrecisionRowAbsSum, row)
      }
      notPositiveDefinite = ModelValidator.choleskyFailure(precision, d)
    }
  }

  /// The facts about one class that the rules look at.
  struct ClassFacts {
    var label: String
    var prior: Double
    var output: OutputMode?
    var layers: [LayerFacts]
    var base: BaseFacts?
    var networkScale: Float
    var calibration: Calibration?
    var sampler: SamplerDefaults?
    var startingCount: Int
    var badStart: Int?
    var maxAbsStart: Float
    var offset: Float
  }

  static func validate(_ spec: ModelSpec) throws(EmberFormatError) {
    try checkStorableCounts(spec)
    let d = spec.encodedWidth
    let classes = spec.classes.map { c in
      ClassFacts(
        label: c.label, prior: c.prior, output: c.layers.isEmpty ? nil : c.output,
        layers: c.layers.map { l in
          let limit: Float = l.weightType == .float16 ? 65504 : .greatestFiniteMagnitude
          return LayerFacts(
            inputs: l.inputs, outputs: l.outputs, activation: l.activation, weightCount: l.weights.count, bias: l.bias,
            badWeight: l.weights.firstIndex { !$0.isFinite || abs($0) > limit }, weight: { l.weights[$0] })
        },
        base: c.base.map { g in
          BaseFacts(
            components: g.components, means: g.means, logWeights: g.logWeights, precision: g.precision,
            logDet: g.logDetCovariance, latticeVariance: g.latticeVariance, width: d)
        },
        networkScale: c.networkScale, calibration: c.calibration, sampler: c.sampler,
        startingCount: c.startingRows?.count ?? 0, badStart: c.startingRows.flatMap(firstNonFinite),
        maxAbsStart: c.startingRows.map(maxAbs) ?? 0, offset: c.offset)
    }
    try check(
      features: spec.features, encodedWidth: spec.encodedWidth, temperature: spec.temperature,
      scoreCalibration: spec.scoreCalibration, readout: spec.readout, classes: classes)
  }

  /// Counts the file stores as unsigned 32-bit (64-bit for source rows) must fit, or the
  /// writer would trap converting them.
  static func checkStorableCounts(_ spec: ModelSpec) throws(EmberFormatError) {
    func fits(_ v: Int, _ at: String) throws(EmberFormatError) {
      guard v >= 0, v <= Int(UInt32.max) else { throw invalid("\(v) is outside 0…\(UInt32.max)", at) }
    }
    guard spec.provenance.sourceRows >= 0 else { throw invalid("negative source rows", "provenance source_rows") }
    if let s = spec.scoreCalibration { try fits(s.rows, "score_calibration rows") }
    for (i, f) in spec.features.enumerated() {
      let at = "feature \(i) \"\(f.name)\""
      try fits(f.slotOffset, "\(at) slot_offset")
      try fits(f.slotCount, "\(at) slot_count")
      try fits(f.missingCount, "\(at) missing_count")
    }
    for (i, c) in spec.classes.enumerated() {
      let at = "class \(i) \"\(c.label)\""
      try fits(c.trainRows, "\(at) train_rows")
      if let cal = c.calibration { try fits(cal.rows, "\(at) calibration rows") }
      if let s = c.sampler {
        try fits(s.steps, "\(at) sampler steps")
        try fits(s.proposals, "\(at) sampler proposals")
      }
      if let b = c.base { try fits(b.components, "\(at) base components") }
      for (j, l) in c.layers.enumerated() {
        try fits(l.inputs, "\(at) layer \(j) inputs")
        try fits(l.outputs, "\(at) layer \(j) outputs")
      }
    }
  }

  static func validate(_ model: EmberModel) throws(EmberFormatError) {
    let d = model.encodedWidth
    let classes = model.classes.map { c in
      let startScan = scan(c.startingRows)
      return ClassFacts(
        label: c.label, prior: c.prior, output: c.output,
        layers: c.layers.map { l in
          var bad: Int? = nil
          var floats: UnsafeBufferPointer<Float>? = nil
          switch l.weights {
          case .float32(let p):
            bad = firstNonFinite(p)
            floats = p
          case .float16(let p): bad = p.firstIndex { ($0 & 0x7C00) == 0x7C00 }
          }
          return LayerFacts(
            inputs: l.inputs, outputs: l.outputs, activation: l.activation, weightCount: l.weights.count,
            bias: Array(l.bias), badWeight: bad, floats: floats, weight: { l.weights[$0] })
        },
        base: c.base.map { g in
          BaseFacts(
            components: g.components, means: g.means, logWeights: g.logWeights,
            precision: g.precision, logDet: g.logDetCovariance, latticeVariance: g.latticeVariance, width: d)
        },
        networkScale: c.networkScale, calibration: c.calibration, sampler: c.sampler,
        startingCount: c.startingRows.count, badStart: startScan.bad, maxAbsStart: startScan.maxAbs,
        offset: c.offset)
    }
    try check(
      features: model.features, encodedWidth: model.encodedWidth, temperature: model.temperature,
      scoreCalibration: model.scoreCalibration, readout: model.readout, classes: classes)
  }

  /// Largest |v| (0 for an empty collection; callers check finiteness first).
  static func maxAbs<C: Collection>(_ values: C) -> Float where C.Element == Float {
    var m: Float = 0
    for v in values { m = max(m, abs(v)) }
    return m
  }

  /// Cholesky of the d×d matrix `p` in double precision: the row of the first pivot that is not
  /// positive (not positive definite), or nil. O(d³).
  static func choleskyFailure(_ p: UnsafeBufferPointer<Float>, _ d: Int) -> Int? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = Double(p[i * d + j])
        for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
        if i == j {
          guard s > 0, s.isFinite else { return i }
          l[i * d + i] = s.squareRoot()
        } else {
          l[i * d + j] = s / l[j * d + j]
        }
      }
    }
    return nil
  }

  /// ``firstNonFinite(_:)`` of values in place (a file view), vectorised.
  static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    var top: Float = 0
    let i = ember_sys_scan_floats(values.baseAddress, values.count, &top)
    return i == values.count ? nil : i
  }

  /// ``firstNonFinite(_:)`` and, when all are finite, ``maxAbs(_:)`` of values in place, in one
  /// vectorised pass (`maxAbs` is ∞ when one is not finite).
  static func scan(_ values: UnsafeBufferPointer<Float>) -> (bad: Int?, maxAbs: Float) {
    var top: Float = 0
    let i = ember_sys_scan_floats(values.baseAddress, values.count, &top)
    return i == values.count ? (nil, top) : (i, .infinity)
  }

  /// ``maxAbs(_:)`` of values in place (a file view; callers check finiteness first), vectorised.
  static func maxAbs(_ values: UnsafeBufferPointer<Float>) -> Float {
    var top: Float = 0
    let i = ember_sys_scan_floats(values.baseAddress, values.count, &top)
    return i == values.count ? top : .infinity
  }

  static func firstNonFinite<C: Collection>(_ values: C) -> Int? where C.Element == Float {
    var i = 0
    for v in values {
      if !v.isFinite { return i }
      i += 1
    }
    return nil
  }

  static func invalid(_ message: String, _ at: String) -> EmberFormatError {
    EmberFormatError(.invalid, message, at: at)
  }

  static func check(
    features: [FeatureSpec], encodedWidth: Int, temperature: Float, scoreCalibration: Calibration?,
    readout: StackedReadout?, classes: [ClassFacts]
  ) throws(EmberFormatError) {
    if let r = readout {
      let c = classes.count
      guard r.weights.count == c * c, r.bias.count == c else {
        throw invalid("\(r.weights.count) weights and \(r.bias.count) biases, expected \(c)×\(c) and \(c)", "readout")
      }
      if let k = firstNonFinite(r.weights) { throw invalid("weight \(k) is not finite", "readout_weights") }
      if let k = firstNonFinite(r.bias) { throw invalid("bias \(k) is not finite", "readout_bias") }
      try bounded(maxAbs(r.weights), "readout_weights")
      try bounded(maxAbs(r.bias), "readout_bias")
      if let v = r.inputWeights {
        guard v.count == c * encodedWidth else {
          throw invalid("\(v.count) input weights, expected \(c)×\(encodedWidth)", "readout_input_weights")
        }
        if let k = firstNonFinite(v) { throw invalid("input weight \(k) is not finite", "readout_input_weights") }
        try bounded(maxAbs(v), "readout_input_weights")
      }
    }
    guard !features.isEmpty else { throw invalid("the model has no features", "features") }
    guard !classes.isEmpty else { throw invalid("the model has no classes", "classes") }
    var names = Set<String>()
    var slot = 0
    for (i, f) in features.enumerated() {
      let at = "feature \(i) \"\(f.name)\""
      guard !f.name.isEmpty else { throw invalid("empty feature name", "feature \(i) name") }
      guard names.insert(f.name).inserted else { throw invalid("duplicate feature name", at) }
      guard f.slotOffset == slot else {
        throw invalid("slot offset \(f.slotOffset), expected \(slot) (slots must be contiguous)", "\(at) slot_offset")
      }
      for (value, field) in [(f.mean, "mean"), (f.std, "std"), (f.min, "min"), (f.max, "max"), (f.imputeValue, "impute_value")] {
        guard value.isFinite else { throw invalid("\(field) is not finite", "\(at) \(field)") }
      }
      for (value, field) in [(f.mean, "mean"), (f.min, "min"), (f.max, "max"), (f.imputeValue, "impute_value"), (f.std, "std")] {
        guard abs(value) <= ModelLimits.rawMagnitude else {
          throw invalid("\(field) \(value) is outside the 32-bit float range", "\(at) \(field)")
        }
      }
      guard f.std >= ModelLimits.minimumStd else {
        throw invalid("std must be ≥ \(ModelLimits.minimumStd), found \(f.std)", "\(at) std")
      }
      guard f.min <= f.max else { throw invalid("min \(f.min) exceeds max \(f.max)", "\(at) min") }
      switch f.kind {
      case .numeric, .integer:
        guard f.slotCount == 1 else { throw invalid("a \(f.kind) feature has 1 slot, found \(f.slotCount)", "\(at) slot_count") }
        guard f.categories.isEmpty else { throw invalid("a \(f.kind) feature has no categories", "\(at) categories") }
      case .categorical:
        guard !f.categories.isEmpty else { throw invalid("a categorical feature needs categories", "\(at) categories") }
        guard f.slotCount == f.categories.count else {
          throw invalid("slot count \(f.slotCount) differs from \(f.categories.count) categories", "\(at) slot_count")
        }
        guard Set(f.categories).count == f.categories.count else { throw invalid("duplicate category", "\(at) categories") }
        guard f.imputeValue >= 0, f.imputeValue < Double(f.categories.count), f.imputeValue.rounded() == f.imputeValue else {
          throw invalid("impute value \(f.imputeValue) is not a category index", "\(at) impute_value")
        }
      }
      slot += f.slotCount
    }
    guard encodedWidth == slot else {
      throw invalid("encoded width \(encodedWidth) differs from the features' \(slot) slots", "encoded_width")
    }
    let d = encodedWidth
    guard ModelLimits.temperature.contains(temperature) else {
      throw invalid("temperature must be in \(ModelLimits.temperature.lowerBound)…\(ModelLimits.temperature.upperBound)", "temperature")
    }
    if let s = scoreCalibration { try check(s, at: "score_calibration") }
    var labels = Set<String>()
    for (i, c) in classes.enumerated() {
      let at = "class \(i) \"\(c.label)\""
      guard !c.label.isEmpty else { throw invalid("empty class label", "class \(i) label") }
      guard labels.insert(c.label).inserted else { throw invalid("duplicate class label", at) }
      guard c.prior.isFinite, c.prior > 0, c.prior <= 1 else {
        throw invalid("prior \(c.prior) is not in (0, 1]", "\(at) prior")
      }
      guard c.networkScale.isFinite, c.offset.isFinite else { throw invalid("network scale or offset is not finite", at) }
      try bounded(abs(c.networkScale), "\(at) network_scale")
      try bounded(abs(c.offset), "\(at) offset")
      guard c.output != nil || c.base != nil else {
        throw invalid("a class needs a network, a base term, or both", at)
      }
      if let output = c.output {
        guard !c.layers.isEmpty else { throw invalid("the network has no layers", "\(at) network") }
        var width = d
        for (j, l) in c.layers.enumerated() {
          let lat = "\(at) layer \(j)"
          guard l.inputs == width else { throw invalid("layer takes \(l.inputs) inputs, expected \(width)", "\(lat) inputs") }
          guard l.outputs > 0, l.outputs <= 1 << 16 else { throw invalid("bad output width \(l.outputs)", "\(lat) outputs") }
          guard l.weightCount == l.inputs * l.outputs else {
            throw invalid("\(l.weightCount) weights, expected \(l.inputs)×\(l.outputs) = \(l.inputs * l.outputs)", "\(lat) weights")
          }
          guard l.biasCount == l.outputs else { throw invalid("\(l.biasCount) biases, expected \(l.outputs)", "\(lat) bias") }
          if let k = l.badWeight { throw invalid("weight \(k) is not finite", "\(lat) weights") }
          if let k = l.badBias { throw invalid("bias \(k) is not finite", "\(lat) bias") }
          try bounded(l.maxAbsWeight, "\(lat) weights")
          try bounded(l.maxAbsBias, "\(lat) bias")
          width = l.outputs
        }
        if output != .logSumExp, width != 1 {
          throw invalid("output mode \(output) needs 1 output, the last layer has \(width)", "\(at) network output")
        }
      }
      if let b = c.base {
        let bat = "\(at) base"
        guard b.components >= 1, b.logWeights == b.components else {
          throw invalid("\(b.logWeights) log weights for \(b.components) components", "\(bat) log_weights")
        }
        guard b.means == b.components * d else { throw invalid("\(b.means) mean values, expected \(b.components)×\(d)", "\(bat) means") }
        guard b.precision == d * d else { throw invalid("\(b.precision) precision values, expected \(d)×\(d)", "\(bat) precision") }
        guard b.logDet.isFinite else { throw invalid("log det is not finite", "\(bat) log_det_covariance") }
        if let bad = b.bad { throw invalid("\(bad) is not finite", bat) }
        try bounded(b.maxAbsMean, "\(bat) means")
        try bounded(b.maxAbsLogWeight, "\(bat) log_weights")
        try bounded(b.maxAbsPrecision, "\(bat) precision")
        guard abs(b.logDet) <= Double(ModelLimits.parameterMagnitude) else {
          throw invalid("log det \(b.logDet) is outside ±\(ModelLimits.parameterMagnitude)", "\(bat) log_det_covariance")
        }
        if let row = b.notPositiveDefinite {
          throw invalid("the precision matrix is not positive definite (Cholesky pivot \(row) ≤ 0)", "\(bat) precision")
        }
        guard b.latticeVariance == 0 || b.latticeVariance == d else {
          throw invalid("\(b.latticeVariance) lattice variances, expected \(d) (or none)", "\(bat) lattice_variance")
        }
        if let i = b.badLatticeVariance {
          throw invalid("lattice variance \(i) is negative or not finite", "\(bat) lattice_variance")
        }
        try bounded(b.maxLatticeVariance, "\(bat) lattice_variance")
      }
      if let cal = c.calibration { try check(cal, at: "\(at) calibration") }
      if let s = c.sampler {
        let sat = "\(at) sampler"
        guard SamplerDefaults.stepRange.contains(s.steps) else { throw invalid("steps \(s.steps) outside 0…1,000,000", "\(sat) steps") }
        guard SamplerDefaults.stepRange.contains(s.proposals) else {
          throw invalid("proposals \(s.proposals) outside 0…1,000,000", "\(sat) proposals")
        }
        for (v, f) in [(s.stepSize, "step_size"), (s.noiseScale, "noise_scale"), (s.temperature, "temperature"), (s.initNoise, "init_noise"), (s.gradClip, "grad_clip")] {
          guard v.isFinite else { throw invalid("\(f) is not finite", "\(sat) \(f)") }
        }
        guard s.stepSize > 0 else { throw invalid("step size must be > 0", "\(sat) step_size") }
        guard s.temperature > 0 else { throw invalid("temperature must be > 0", "\(sat) temperature") }
        guard s.initNoise >= 0, s.gradClip >= 0 else { throw invalid("init noise and grad clip must be ≥ 0", sat) }
        for (v, limit, f) in [
          (s.stepSize, SamplerDefaults.maximumStepSize, "step_size"), (s.noiseScale, SamplerDefaults.maximumNoise, "noise_scale"),
          (s.temperature, SamplerDefaults.maximumTemperature, "temperature"),
          (s.initNoise, SamplerDefaults.maximumInitNoise, "init_noise"), (s.gradClip, SamplerDefaults.maximumGradClip, "grad_clip"),
        ] where v > limit {
          throw invalid("\(f) \(v) exceeds \(limit)", "\(sat) \(f)")
        }
      }
      guard c.startingCount % max(d, 1) == 0 else {
        throw invalid("\(c.startingCount) starting values are not a multiple of the width \(d)", "\(at) starting_rows")
      }
      if let k = c.badStart { throw invalid("starting value \(k) is not finite", "\(at) starting_rows") }
      guard c.maxAbsStart <= ModelLimits.encodedMagnitude else {
        throw invalid("a starting value exceeds the encoded bound ±\(ModelLimits.encodedMagnitude)", "\(at) starting_rows")
      }
      try certify(c, width: d, at: at)
    }
    try certifyLogits(classes, temperature: temperature, readout: readout)
  }

  /// Throws when a parameter magnitude exceeds ``ModelLimits/parameterMagnitude``.
  static func bounded(_ magnitude: Float, _ at: String) throws(EmberFormatError) {
    guard magnitude <= ModelLimits.parameterMagnitude else {
      throw invalid("a value of magnitude \(magnitude) exceeds ±\(ModelLimits.parameterMagnitude)", at)
    }
  }

  /// Interval bounds of the class's energy and input gradient on the encoded box must stay
  /// below ``ModelLimits/certifiedMagnitude``: then no input the encoder produces can make
  /// them overflow.
  static func certify(_ c: ClassFacts, width d: Int, at: String) throws(EmberFormatError) {
    let box = Double(ModelLimits.encodedMagnitude)
    var energy = 0.0
    var gradient = 0.0
    if let output = c.output {
      let (e, g) = EnergyBound.network(c.layers, output: output, scale: c.networkScale, box: box)
      energy += e
      gradient += g
    }
    if let b = c.base {
      let (e, g) = EnergyBound.base(b, width: d, box: box)
      energy += e
      gradient += g
    }
    let limit = ModelLimits.certifiedMagnitude
    guard energy <= limit, gradient <= limit else {
      throw invalid(
        "the energy or its gradient can overflow: bounds \(Float(energy)) and \(Float(gradient)) on inputs within ±\(ModelLimits.encodedMagnitude) exceed \(Float(limit))",
        at)
    }
  }

  /// Classification logits (−E/T + log π + offset, or the stacked read-out) must stay finite
  /// for certified energies.
  static func certifyLogits(_ classes: [ClassFacts], temperature: Float, readout: StackedReadout?) throws(EmberFormatError) {
    let e = ModelLimits.certifiedMagnitude
    let limit = 1e37
    if let r = readout {
      let c = classes.count
      let d = c > 0 ? (r.inputWeights?.count ?? 0) / c : 0
      for row in 0..<c {
        var sum = Double(abs(r.bias[row]))
        for k in 0..<c { sum += Double(abs(r.weights[row * c + k])) * e }
        for i in 0..<d { sum += Double(abs(r.inputWeights![row * d + i])) * Double(ModelLimits.encodedMagnitude) }
        guard sum <= limit else { throw invalid("the stacked read-out can overflow (logit bound \(Float(sum)))", "readout_weights") }
      }
    } else {
      guard e / Double(temperature) <= limit else { throw invalid("the temperature is too small for the energies' range", "temperature") }
    }
  }

  static func check(_ c: Calibration, at: String) throws(EmberFormatError) {
    guard c.levels.count == c.quantiles.count else {
      throw invalid("\(c.levels.count) levels but \(c.quantiles.count) quantiles", at)
    }
    guard !c.levels.isEmpty else { throw invalid("the calibration table is empty", at) }
    guard c.threshold.isFinite else { throw invalid("threshold is not finite", "\(at) threshold") }
    for i in c.levels.indices {
      guard c.levels[i].isFinite, c.quantiles[i].isFinite, c.levels[i] >= 0, c.levels[i] <= 1 else {
        throw invalid("entry \(i) is not finite or its level is outside [0, 1]", at)
      }
      if i > 0, c.levels[i] <= c.levels[i - 1] || c.quantiles[i] < c.quantiles[i - 1] {
        throw invalid("entry \(i) breaks the order (levels increase, quantiles do not decrease)", at)
      }
    }
  }
}

import EmberFormat

/// Overrides of a class's sampler defaults (nil: the file's value). The CLIs and the C API
/// fill one of these and the session validates and applies it, so both accept the same values.
public struct SamplerOverrides: Sendable, Equatable {
  /// Algorithm. Switching to `tabebm` also takes the paper's settings (200 steps, ε = 0.1,
  /// σ = 0.01, starts at stored rows) unless those are overridden too; switching to
  /// Langevin/MALA uses noise √(2εT).
  public var kind: SamplerKind?
  /// Steps per chain, 0…1,000,000.
  public var steps: Int?
  /// Step size ε, (0, 100].
  public var stepSize: Float?
  /// Per-step noise σ, [0, 100]; negative: √(2εT).
  public var noise: Float?
  /// Temperature T, (0, 1e6]: Langevin/MALA steps and chains started from the base (draws with
  /// covariance × T, independence proposals weighed by (E_base − E)/T; ``SamplerDefaults/temperature``).
  public var temperature: Float?
  /// Noise added to starting rows (encoded units), [0, 100].
  public var initNoise: Float?
  /// Gradient-norm clip, [0, 1e6] (0 = none).
  public var gradClip: Float?
  /// Where chains start.
  public var initialization: ChainInit?
  /// Chains leaving |x_i| ≤ limit (encoded units) restart; (0, 1e6].
  public var divergenceLimit: Float?
  /// Which rows are kept (nil: ``ClassFilter/default``, rows whose classification read-out
  /// with equal priors picks the class sampled). Not a file setting: it needs every class's energy.
  public var classFilter: ClassFilter?

  /// No overrides.
  public init() {}

  /// Checks every set value against its range. Errors (`.badOption`) are located at the
  /// setting's name as in the schema and the C struct (`step_size`, …).
  public func validate() throws(EmberRuntimeError) {
    func check(_ v: Float?, _ name: String, _ low: Float, _ high: Float, lowOpen: Bool) throws(EmberRuntimeError) {
      guard let v else { return }
      guard v.isFinite, lowOpen ? v > low : v >= low, v <= high else {
        throw EmberRuntimeError(
          .badOption, "must be a number in \(lowOpen ? "(" : "[")\(Self.text(low)), \(Self.text(high))], not \(Self.text(v))", at: name)
      }
    }
    if let steps, !SamplerDefaults.stepRange.contains(steps) {
      throw EmberRuntimeError(.badOption, "must be in 0…1000000, not \(steps)", at: "steps")
    }
    try check(stepSize, "step_size", 0, SamplerDefaults.maximumStepSize, lowOpen: true)
    if let noise, noise < 0 {
      guard noise.isFinite else { throw EmberRuntimeError(.badOption, "must be finite", at: "noise_scale") }
    } else {
      try check(noise, "noise_scale", 0, SamplerDefaults.maximumNoise, lowOpen: false)
    }
    try check(temperature, "temperature", 0, SamplerDefaults.maximumTemperature, lowOpen: true)
    try check(initNoise, "init_noise", 0, SamplerDefaults.maximumInitNoise, lowOpen: false)
    try check(gradClip, "grad_clip", 0, SamplerDefaults.maximumGradClip, lowOpen: false)
    try check(divergenceLimit, "divergence_limit", 0, ModelLimits.encodedMagnitude, lowOpen: true)
  }

  /// `defaults` (a class's file settings) with these overrides applied.
  public func applied(to defaults: SamplerDefaults) -> SamplerDefaults {
    var s = defaults
    if let kind, kind != s.kind {
      if kind == .tabebm {
        // TabEBM's Algorithm 1 as published: start at a stored row + N(0, 0.01²), 200 steps of
        // x ← x − 0.1·∇E + 0.01·ε (each chain's own gradient). Overrides below still apply.
        let paper = SamplerDefaults.tabebm
        s.steps = paper.steps
        s.stepSize = paper.stepSize
        s.noiseScale = paper.noiseScale
        s.initNoise = paper.initNoise
        s.initialization = .startingRows
      } else {
        s.noiseScale = -1  // Langevin / MALA: √(2εT) from the file's ε and T.
      }
      s.kind = kind
    }
    if let steps { s.steps = steps }
    if let stepSize { s.stepSize = stepSize }
    if let noise { s.noiseScale = noise }
    if let temperature { s.temperature = temperature }
    if let initNoise { s.initNoise = initNoise }
    if let gradClip { s.gradClip = gradClip }
    if let initialization { s.initialization = initialization }
    return s
  }

  static func text(_ v: Float) -> String { v.description }
}

extension EmberSession {
  /// Rows per class for `count` rows split by `weights` (e.g. priors): largest remainder of
  /// count·w_c/Σw, ties to the lower index, so the counts sum to `count` exactly.
  public static func allocate(_ count: Int, weights: [Double]) -> [Int] {
    let total = weights.reduce(0, +)
    guard total > 0, !weights.isEmpty else { return weights.indices.map { $0 == 0 ? count : 0 } }
    let exact = weights.map { Double(count) * $0 / total }
    var n = exact.map { Int($0.rounded(.down)) }
    let order = exact.indices.sorted { a, b in
      let ra = exact[a] - Double(n[a])
      let rb = exact[b] - Double(n[b])
      return ra != rb ? ra > rb : a < b
    }
    var left = count - n.reduce(0, +)
    for i in order where left > 0 {
      n[i] += 1
      left -= 1
    }
    return n
  }

  /// The sampler settings class `classIndex` runs with: its file defaults with `overrides`.
  public func samplerSettings(classIndex: Int, overrides: SamplerOverrides) -> SamplerDefaults {
    overrides.applied(to: model.classes[classIndex].sampler ?? SamplerDefaults())
  }

  /// Draws `count` rows of class `classIndex` and hands them, in chain order, to `emit` in
  /// blocks (encoded rows, row-major n×d; all finite); `emit` returns false to stop early.
  /// Chain g of class c uses the random stream (seed, c, g), so the rows depend only on the
  /// arguments, never on `threads` (which is capped at the cores available). Rows pass the
  /// class filter of `overrides` (``ClassFilter/default`` unless set). The chains run are
  /// `firstChain ..< firstChain + count`: a run split into chain ranges (across threads,
  /// processes or machines) gives the rows of one run, in the same order. Memory:
  /// O(threads · 256 · widest layer), independent of `count`.
  public func sample(
    classIndex: Int, count: Int, seed: UInt64, overrides: SamplerOverrides = SamplerOverrides(),
    starts: ChainStarts = .model, threads: Int = 1, firstChain: Int = 0, emit: (UnsafeBufferPointer<Float>, Int) -> Bool
  ) throws(EmberRuntimeError) -> SamplingStats {
    guard classIndex >= 0, classIndex < classCount else {
      throw EmberRuntimeError(.unknownClass, "class index \(classIndex) is out of range (the model has \(classCount) classes)")
    }
    try overrides.validate()
    try EmberSession.checkThreads(threads, option: "threads")
    guard count > 0 else { return SamplingStats() }
    let sampler = Sampler(energy)
    let blocks = (count + sampler.blockSize - 1) / sampler.blockSize
    let workers = min(EmberSession.workers(threads), blocks)
    let settings = samplerSettings(classIndex: classIndex, overrides: overrides)
    var stopped = false
    let stats = try sampler.run(
      classIndex: classIndex, count: count, seed: seed, settings: settings, starts: starts, threads: workers,
      divergenceLimit: overrides.divergenceLimit ?? Sampler.defaultDivergenceLimit, firstChain: firstChain,
      filter: overrides.classFilter ?? .default
    ) { block, rows in
      if emit(block, rows) { return true }
      stopped = true
      return false
    }
    return stopped ? SamplingStats() : stats
  }
}

import EmberFormat
import EmberRuntime

// Sampling synthetic rows. See include/ember.h for `ember_sampler_options` and
// `ember_sample_stats`; their layouts are read and written here by byte offset.

/// Byte layout of `ember_sampler_options` (every field 4 bytes, so C packs them in order).
enum OptionsLayout {
  static let structSize = 0  // uint32_t struct_size
  static let kind = 4  // int32_t kind (-1 = default)
  static let steps = 8  // int32_t steps (<0 = default)
  static let stepSize = 12  // float step_size (NaN = default)
  static let noiseScale = 16  // float noise_scale (NaN = default)
  static let temperature = 20  // float temperature (NaN = default)
  static let initNoise = 24  // float init_noise (NaN = default)
  static let gradClip = 28  // float grad_clip (NaN = default)
  static let initialization = 32  // int32_t init (-1 = default)
  static let threads = 36  // int32_t threads (<=0 = 1)
  static let divergenceLimit = 40  // float divergence_limit (NaN = default)
  /// sizeof(ember_sampler_options) in this version.
  static let size = 44
}

/// Settings for class `c`: file defaults overridden by the set fields of `opts`.
func samplerSettings(_ h: ModelHandle, classIndex c: Int, _ opts: UnsafeRawPointer?) throws -> (
  SamplerDefaults, threads: Int, divergenceLimit: Float
) {
  var s = h.model.classes[c].sampler ?? SamplerDefaults()
  guard let o = opts else { return (s, 1, Sampler.defaultDivergenceLimit) }
  let size = Int(o.loadUnaligned(fromByteOffset: OptionsLayout.structSize, as: UInt32.self))
  guard size >= OptionsLayout.size else {
    throw APIError(.invalidArgument, "opts->struct_size is \(size); set it with ember_sampler_options_init (expected at least \(OptionsLayout.size))")
  }
  func i32(_ off: Int) -> Int32 { o.loadUnaligned(fromByteOffset: off, as: Int32.self) }
  func f32(_ off: Int) -> Float { o.loadUnaligned(fromByteOffset: off, as: Float.self) }
  func positive(_ v: Float, _ name: StaticString) throws -> Float {
    guard v.isFinite, v > 0 else { throw APIError(.invalidArgument, "opts->\(name) must be a finite number > 0, not \(v)") }
    return v
  }
  let kind = i32(OptionsLayout.kind)
  if kind >= 0 {
    guard let k = SamplerKind(rawValue: Int8(clamping: kind)), kind <= Int8.max else {
      throw APIError(.invalidArgument, "opts->kind \(kind) is not a sampler (0 tabebm, 1 langevin, 2 mala)")
    }
    s.kind = k
  }
  let steps = i32(OptionsLayout.steps)
  if steps >= 0 { s.steps = Int(steps) }
  let eps = f32(OptionsLayout.stepSize)
  if !eps.isNaN { s.stepSize = try positive(eps, "step_size") }
  let noise = f32(OptionsLayout.noiseScale)
  if !noise.isNaN {
    guard noise.isFinite else { throw APIError(.invalidArgument, "opts->noise_scale must be finite") }
    s.noiseScale = noise
  }
  let t = f32(OptionsLayout.temperature)
  if !t.isNaN { s.temperature = try positive(t, "temperature") }
  let initNoise = f32(OptionsLayout.initNoise)
  if !initNoise.isNaN {
    guard initNoise.isFinite, initNoise >= 0 else { throw APIError(.invalidArgument, "opts->init_noise must be finite and >= 0") }
    s.initNoise = initNoise
  }
  let clip = f32(OptionsLayout.gradClip)
  if !clip.isNaN {
    guard clip.isFinite, clip >= 0 else { throw APIError(.invalidArgument, "opts->grad_clip must be finite and >= 0") }
    s.gradClip = clip
  }
  let initialization = i32(OptionsLayout.initialization)
  if initialization >= 0 {
    guard let i = ChainInit(rawValue: Int8(clamping: initialization)), initialization <= Int8.max else {
      throw APIError(.invalidArgument, "opts->init \(initialization) is not a chain start (0 starting rows, 1 base, 2 interpolate)")
    }
    s.initialization = i
  }
  var limit = f32(OptionsLayout.divergenceLimit)
  limit = limit.isNaN ? Sampler.defaultDivergenceLimit : try positive(limit, "divergence_limit")
  return (s, max(1, Int(i32(OptionsLayout.threads))), limit)
}

/// Rows per class for `count` rows drawn with the class priors: largest remainder of
/// count·π_c (ties to the lower class index), so the counts sum to `count` exactly.
func proportionalCounts(_ priors: [Double], count: Int) -> [Int] {
  let total = priors.reduce(0, +)
  guard total > 0 else { return priors.indices.map { $0 == 0 ? count : 0 } }
  let exact = priors.map { $0 / total * Double(count) }
  var counts = exact.map { Int($0.rounded(.down)) }
  let order = exact.indices.sorted { a, b in
    let ra = exact[a] - Double(counts[a])
    let rb = exact[b] - Double(counts[b])
    return ra != rb ? ra > rb : a < b
  }
  var left = count - counts.reduce(0, +)
  for c in order where left > 0 {
    counts[c] += 1
    left -= 1
  }
  return counts
}

/// `void ember_sampler_options_init(ember_sampler_options *)`: every field "use the file".
@_cdecl("ember_sampler_options_init")
public func ember_sampler_options_init(_ opts: UnsafeMutableRawPointer?) {
  guard let o = opts else { return }
  o.storeBytes(of: UInt32(OptionsLayout.size), toByteOffset: OptionsLayout.structSize, as: UInt32.self)
  for off in [OptionsLayout.kind, OptionsLayout.steps, OptionsLayout.initialization] {
    o.storeBytes(of: Int32(-1), toByteOffset: off, as: Int32.self)
  }
  for off in [OptionsLayout.stepSize, OptionsLayout.noiseScale, OptionsLayout.temperature, OptionsLayout.initNoise,
              OptionsLayout.gradClip, OptionsLayout.divergenceLimit] {
    o.storeBytes(of: Float.nan, toByteOffset: off, as: Float.self)
  }
  o.storeBytes(of: Int32(1), toByteOffset: OptionsLayout.threads, as: Int32.self)
}

/// `size_t ember_sampler_options_size(void)`: sizeof(ember_sampler_options) this library expects.
@_cdecl("ember_sampler_options_size")
public func ember_sampler_options_size() -> Int { OptionsLayout.size }

/// `ember_status ember_sample(const ember_model *, int32_t class_index, size_t count, uint64_t seed,
/// const ember_sampler_options *opts, float *out_encoded, int32_t *out_classes,
/// ember_sample_stats *stats)`.
@_cdecl("ember_sample")
public func ember_sample(
  _ model: OpaquePointer?, _ classIndex: Int32, _ count: Int, _ seed: UInt64, _ opts: UnsafeRawPointer?,
  _ out: UnsafeMutablePointer<Float>?, _ outClasses: UnsafeMutablePointer<Int32>?, _ stats: UnsafeMutableRawPointer?
) -> Int32 {
  guarded("ember_sample") {
    let h = try ModelHandle.from(model)
    let d = h.width
    _ = try checkedProduct(count, d, "count")
    var counts = [Int](repeating: 0, count: h.classCount)
    if classIndex < 0 {
      guard classIndex == -1 else { throw APIError(.invalidArgument, "class_index \(classIndex): use -1 for class proportions") }
      counts = proportionalCounts(h.model.classes.map(\.prior), count: count)
    } else {
      guard Int(classIndex) < h.classCount else {
        throw APIError(.unknownClass, "class_index \(classIndex) is out of range (the model has \(h.classCount) classes)")
      }
      counts[Int(classIndex)] = count
    }
    var total = (chains: 0, restarts: 0, proposals: 0, accepted: 0)
    if count > 0 {
      let out = try required(out, "out_encoded")
      let sampler = Sampler(h.energy)
      var written = 0
      for c in counts.indices where counts[c] > 0 {
        let (settings, threads, limit) = try samplerSettings(h, classIndex: c, opts)
        let first = written
        let run = try sampler.run(classIndex: c, count: counts[c], seed: seed, settings: settings, threads: threads, divergenceLimit: limit) { block, m in
          (out + written * d).update(from: block.baseAddress!, count: m * d)
          written += m
        }
        if let outClasses { for r in first..<written { outClasses[r] = Int32(c) } }
        total.chains += run.chains
        total.restarts += run.restarts
        total.proposals += run.proposals
        total.accepted += run.accepted
      }
    }
    if let stats {
      stats.storeBytes(of: UInt64(total.chains), toByteOffset: 0, as: UInt64.self)
      stats.storeBytes(of: UInt64(total.restarts), toByteOffset: 8, as: UInt64.self)
      stats.storeBytes(of: UInt64(total.proposals), toByteOffset: 16, as: UInt64.self)
      stats.storeBytes(of: UInt64(total.accepted), toByteOffset: 24, as: UInt64.self)
    }
  }
}

import EmberFormat
import EmberRuntime
import _EmberCAPITypes

// Sampling synthetic rows. `ember_sampler_options` and `ember_sample_stats` are the header's
// own structs (imported from ember.h), read and written by field.

/// The overrides and thread count an `ember_sampler_options` asks for; the session validates
/// the overrides with the same ranges as `ember sample`.
func samplerRequest(_ opts: UnsafePointer<ember_sampler_options>?) throws(APIError) -> (SamplerOverrides, threads: Int) {
  var o = SamplerOverrides()
  guard let opts else { return (o, 1) }
  let v = opts.pointee
  let size = MemoryLayout<ember_sampler_options>.size
  guard Int(v.struct_size) >= size else {
    throw APIError(
      .invalidArgument, "opts->struct_size is \(v.struct_size); set it with ember_sampler_options_init (expected at least \(size))")
  }
  if v.kind >= 0 {
    guard v.kind <= Int8.max, let k = SamplerKind(rawValue: Int8(v.kind)) else {
      throw APIError(.invalidArgument, "opts->kind \(v.kind) is not a sampler (0 tabebm, 1 langevin, 2 mala)")
    }
    o.kind = k
  }
  if v.steps >= 0 { o.steps = Int(v.steps) }
  if !v.step_size.isNaN { o.stepSize = v.step_size }
  if !v.noise_scale.isNaN { o.noise = v.noise_scale }
  if !v.temperature.isNaN { o.temperature = v.temperature }
  if !v.init_noise.isNaN { o.initNoise = v.init_noise }
  if !v.grad_clip.isNaN { o.gradClip = v.grad_clip }
  if v.`init` >= 0 {
    guard v.`init` <= Int8.max, let i = ChainInit(rawValue: Int8(v.`init`)) else {
      throw APIError(.invalidArgument, "opts->init \(v.`init`) is not a chain start (0 starting rows, 1 base, 2 interpolate)")
    }
    o.initialization = i
  }
  if !v.divergence_limit.isNaN { o.divergenceLimit = v.divergence_limit }
  switch Int(v.class_filter) {
  case ..<0: break
  case Int(EMBER_CLASS_FILTER_OFF): o.classFilter = .off
  case Int(EMBER_CLASS_FILTER_BALANCED): o.classFilter = .balanced
  case Int(EMBER_CLASS_FILTER_READOUT): o.classFilter = .readout
  default:
    throw APIError(.invalidArgument, "opts->class_filter \(v.class_filter) is not a class filter (0 off, 1 balanced, 2 readout, -1 the default)")
  }
  try runtime { () throws(EmberRuntimeError) in try o.validate() }
  let threads = max(1, Int(v.threads))
  try runtime { () throws(EmberRuntimeError) in try EmberSession.checkThreads(threads, option: "threads") }
  return (o, threads)
}

/// `void ember_sampler_options_init(ember_sampler_options *)`: every field "use the file".
@_cdecl("ember_sampler_options_init")
public func ember_sampler_options_init(_ opts: UnsafeMutablePointer<ember_sampler_options>?) {
  guard let opts else { return }
  opts.pointee = ember_sampler_options(
    struct_size: UInt32(MemoryLayout<ember_sampler_options>.size), kind: -1, steps: -1, step_size: .nan,
    noise_scale: .nan, temperature: .nan, init_noise: .nan, grad_clip: .nan, init: -1, threads: 1, divergence_limit: .nan,
    class_filter: -1)
}

/// `size_t ember_sampler_options_size(void)`: sizeof(ember_sampler_options) this library expects.
@_cdecl("ember_sampler_options_size")
public func ember_sampler_options_size() -> Int { MemoryLayout<ember_sampler_options>.size }

/// `ember_status ember_sample(const ember_model *, int32_t class_index, size_t count, uint64_t seed,
/// const ember_sampler_options *opts, float *out_encoded, int32_t *out_classes,
/// ember_sample_stats *stats)`.
@_cdecl("ember_sample")
public func ember_sample(
  _ model: OpaquePointer?, _ classIndex: Int32, _ count: Int, _ seed: UInt64, _ opts: UnsafePointer<ember_sampler_options>?,
  _ out: UnsafeMutablePointer<Float>?, _ outClasses: UnsafeMutablePointer<Int32>?,
  _ stats: UnsafeMutablePointer<ember_sample_stats>?
) -> Int32 {
  guarded("ember_sample") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let session = h.session
    let d = h.width
    _ = try checkedProduct(count, d, "count")
    var counts = [Int](repeating: 0, count: h.classCount)
    if classIndex < 0 {
      guard classIndex == -1 else { throw APIError(.invalidArgument, "class_index \(classIndex): use -1 for class proportions") }
      counts = EmberSession.allocate(count, weights: h.model.classes.map { $0.prior })
    } else {
      guard Int(classIndex) < h.classCount else {
        throw APIError(.unknownClass, "class_index \(classIndex) is out of range (the model has \(h.classCount) classes)")
      }
      counts[Int(classIndex)] = count
    }
    let (overrides, threads) = try samplerRequest(opts)
    var total = (chains: 0, restarts: 0, proposals: 0, accepted: 0)
    if count > 0 {
      let out = try required(out, "out_encoded")
      var written = 0
      for c in counts.indices where counts[c] > 0 {
        let first = written
        let run = try runtime { () throws(EmberRuntimeError) in
          try session.sample(
            classIndex: c, count: counts[c], seed: seed, overrides: overrides, threads: threads
          ) { block, m in
            (out + written * d).update(from: block.baseAddress!, count: m * d)
            written += m
            return true
          }
        }
        if let outClasses { for r in first..<written { outClasses[r] = Int32(c) } }
        total.chains += run.chains
        total.restarts += run.restarts
        total.proposals += run.proposals
        total.accepted += run.accepted
      }
    }
    stats?.pointee = ember_sample_stats(
      chains: UInt64(total.chains), restarts: UInt64(total.restarts), proposals: UInt64(total.proposals),
      accepted: UInt64(total.accepted))
  }
}

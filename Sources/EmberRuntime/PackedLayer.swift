import EmberFormat
import _EmberKernels
import _EmberSystem

/// Rounds `n` up to the kernels' column padding.
@inline(__always)
func padded(_ n: Int) -> Int { (n + Int(EK_PAD) - 1) / Int(EK_PAD) * Int(EK_PAD) }

/// An owned, 64-byte-aligned, zero-initialised float buffer. Its pages enter memory only when
/// written (``ember_sys_zeroed``), so scratch a run never uses (e.g. gradient buffers while
/// scoring) costs neither memory nor page faults.
final class AlignedBuffer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  let count: Int
  private let allocation: UnsafeMutableRawPointer

  init(count: Int) {
    self.count = max(count, 1)
    var allocation: UnsafeMutableRawPointer?
    let raw = ember_sys_zeroed(self.count * 4, 64, &allocation)!
    self.allocation = allocation!
    pointer = raw.bindMemory(to: Float.self, capacity: self.count)
  }

  deinit { ember_sys_free(allocation) }
}

/// One dense layer packed for the kernels: a transposed copy for the forward product and a
/// padded copy of W for the input-gradient product (and a single-output read-out), both with
/// zeroed padding columns. Each copy is made on first use, so scoring through hidden layers
/// never makes the gradient copy and a model's weights are held once, not twice.
struct PackedLayer: @unchecked Sendable {
  let inputs: Int
  let outputs: Int
  let inPad: Int
  let outPad: Int
  let activation: Activation
  /// [inputs × outPad]: Wᵀ.
  let forward: PackedWeights
  /// [outputs × inPad]: W.
  let backward: PackedWeights
  /// [outPad].
  let bias: AlignedBuffer

  /// `last`: the network's output layer; a single-output one is evaluated with W (a row-dot
  /// kernel), every other layer with Wᵀ. The copy the forward pass uses is made now.
  init(_ layer: LayerInfo, last: Bool) {
    inputs = layer.inputs
    outputs = layer.outputs
    inPad = padded(inputs)
    outPad = padded(outputs)
    activation = layer.activation
    let rowDot = last && layer.outputs == 1
    forward = PackedWeights(layer, transposed: true, now: !rowDot)
    backward = PackedWeights(layer, transposed: false, now: rowDot)
    bias = AlignedBuffer(count: outPad)
    for o in 0..<outputs { bias.pointer[o] = layer.bias[o] }
  }
}

/// A layer's weights copied into the kernels' padded layout on first use (thread-safe: the
/// first caller packs under a lock, later callers read the finished buffer). The weights are
/// read in place from the model, which the ``EnergyModel`` keeps alive.
final class PackedWeights: @unchecked Sendable {
  private let layer: LayerInfo
  private let transposed: Bool
  private let lock = ember_sys_mutex_new()!
  private var packed: AlignedBuffer?

  init(_ layer: LayerInfo, transposed: Bool, now: Bool) {
    self.layer = layer
    self.transposed = transposed
    if now { packed = pack() }
  }

  deinit { ember_sys_mutex_free(lock) }

  /// The packed weights: [inputs × padded(outputs)] transposed, else [outputs × padded(inputs)].
  var pointer: UnsafeMutablePointer<Float> {
    ember_sys_mutex_lock(lock)
    defer { ember_sys_mutex_unlock(lock) }
    if let packed { return packed.pointer }
    let made = pack()
    packed = made
    return made.pointer
  }

  private func pack() -> AlignedBuffer {
    let inputs = layer.inputs
    let outputs = layer.outputs
    let stride = transposed ? padded(outputs) : padded(inputs)
    let buffer = AlignedBuffer(count: (transposed ? inputs : outputs) * stride)
    // Element (o, i) goes to [i][o] (transposed) or [o][i]; one storage switch per layer.
    let (outStride, inStride) = transposed ? (1, stride) : (stride, 1)
    let out = buffer.pointer
    switch layer.weights {
    case .float32(let w) where transposed:
      if let source = w.baseAddress { ember_sys_transpose_floats(source, outputs, inputs, out, stride) }
    case .float32(let w):
      for o in 0..<outputs where inputs > 0 { (out + o * stride).update(from: w.baseAddress! + o * inputs, count: inputs) }
    case .float16:
      let w = layer.weights
      for o in 0..<outputs {
        for i in 0..<inputs { out[o * outStride + i * inStride] = w[o * inputs + i] }
      }
    }
    return buffer
  }
}

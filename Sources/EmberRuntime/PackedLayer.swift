import EmberFormat
import _EmberKernels

/// Rounds `n` up to the kernels' column padding.
@inline(__always)
func padded(_ n: Int) -> Int { (n + Int(EK_PAD) - 1) / Int(EK_PAD) * Int(EK_PAD) }

/// An owned, 64-byte-aligned, zero-initialised float buffer.
final class AlignedBuffer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  let count: Int

  init(count: Int) {
    self.count = max(count, 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: self.count * 4, alignment: 64)
    raw.initializeMemory(as: Float.self, repeating: 0, count: self.count)
    pointer = raw.assumingMemoryBound(to: Float.self)
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// One dense layer packed for the kernels: a transposed copy for the forward product and a
/// padded copy of W for the input-gradient product, both with zeroed padding columns.
struct PackedLayer: @unchecked Sendable {
  let inputs: Int
  let outputs: Int
  let inPad: Int
  let outPad: Int
  let activation: Activation
  /// [inputs × outPad]: Wᵀ.
  let forward: AlignedBuffer
  /// [outputs × inPad]: W.
  let backward: AlignedBuffer
  /// [outPad].
  let bias: AlignedBuffer

  init(_ layer: LayerInfo) {
    inputs = layer.inputs
    outputs = layer.outputs
    inPad = padded(inputs)
    outPad = padded(outputs)
    activation = layer.activation
    forward = AlignedBuffer(count: inputs * outPad)
    backward = AlignedBuffer(count: outputs * inPad)
    bias = AlignedBuffer(count: outPad)
    for o in 0..<outputs {
      for i in 0..<inputs {
        let w = layer.weights[o * inputs + i]
        forward.pointer[i * outPad + o] = w
        backward.pointer[o * inPad + i] = w
      }
      bias.pointer[o] = layer.bias[o]
    }
  }
}

import EmberFormat
import Foundation
import _EmberKernels

/// A dense network d → h₁ → … → 1 in single precision with all parameters in one flat array:
/// for each layer its row-major [outputs × inputs] weights, then its biases. Hidden layers use
/// `activation`; the last layer is linear. Its output r(x) is a log-odds (energy term −r).
public struct MLP: Sendable, Equatable {
  /// Layer widths, input first, output (1) last.
  public let sizes: [Int]
  /// Hidden nonlinearity.
  public let activation: Activation
  /// Flat parameters.
  public var params: [Float]
  /// Offset of each layer's weights in `params`.
  public let weightOffsets: [Int]
  /// Offset of each layer's biases in `params`.
  public let biasOffsets: [Int]

  /// Number of dense layers.
  public var layerCount: Int { sizes.count - 1 }

  /// A network with zero parameters of the given shape.
  public init(sizes: [Int], activation: Activation) {
    precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 })
    self.sizes = sizes
    self.activation = activation
    var w: [Int] = []
    var b: [Int] = []
    var o = 0
    for l in 0..<(sizes.count - 1) {
      w.append(o)
      o += sizes[l] * sizes[l + 1]
      b.append(o)
      o += sizes[l + 1]
    }
    weightOffsets = w
    biasOffsets = b
    params = [Float](repeating: 0, count: o)
  }

  /// A network initialised like PyTorch's `nn.Linear` (uniform ±1/√fan_in for weights and
  /// biases), with the last layer scaled by 0.1 so r(x) starts near 0.
  public init(sizes: [Int], activation: Activation, rng: inout TrainerRandom) {
    self.init(sizes: sizes, activation: activation)
    for l in 0..<layerCount {
      let bound = 1 / Float(sizes[l]).squareRoot() * (l == layerCount - 1 ? 0.1 : 1)
      for i in weightOffsets[l]..<(biasOffsets[l] + sizes[l + 1]) {
        params[i] = Float(rng.uniform() * 2 - 1) * bound
      }
    }
  }

  /// Rebuilds a network from file layers (which must be dense, one output).
  public init(layers: [DenseLayerSpec]) {
    let sizes = [layers[0].inputs] + layers.map(\.outputs)
    self.init(sizes: sizes, activation: layers.count > 1 ? layers[0].activation : .identity)
    for (l, layer) in layers.enumerated() {
      params.replaceSubrange(weightOffsets[l]..<(weightOffsets[l] + layer.weights.count), with: layer.weights)
      params.replaceSubrange(biasOffsets[l]..<(biasOffsets[l] + layer.bias.count), with: layer.bias)
    }
  }

  /// The layers as written to a model file (hidden layers with `activation`, last identity).
  public func layerSpecs() -> [DenseLayerSpec] {
    (0..<layerCount).map { l in
      DenseLayerSpec(
        inputs: sizes[l], outputs: sizes[l + 1], activation: l == layerCount - 1 ? .identity : activation,
        weights: Array(params[weightOffsets[l]..<biasOffsets[l]]),
        bias: Array(params[biasOffsets[l]..<(biasOffsets[l] + sizes[l + 1])]))
    }
  }

  /// r(x) for `n` rows of `x` (n×d, row-major), in chunks of at most 4,096 rows (memory does
  /// not grow with `n`; each row's output does not depend on the chunking).
  public func outputs(_ x: [Float], count n: Int) -> [Float] {
    let chunk = min(max(n, 1), 4096)
    let ws = MLPWorkspace(sizes: sizes, capacity: chunk)
    var out = [Float](repeating: 0, count: n)
    x.withUnsafeBufferPointer { xp in
      params.withUnsafeBufferPointer { pp in
        var start = 0
        while start < n {
          let m = min(chunk, n - start)
          forward(xp.baseAddress! + start * sizes[0], count: m, params: pp.baseAddress!, workspace: ws)
          for i in 0..<m { out[start + i] = ws.output[i] }
          start += m
        }
      }
    }
    return out
  }

  /// Forward pass over `n` rows, keeping activations and derivatives in `ws` for a backward pass.
  /// The outputs r(x) end up in `ws.output`. Products run on the runtime's SIMD kernel
  /// (`ek_gemm`, the widest level the CPU has) over rows padded to 16 columns; the last layer
  /// (one output) is a row-wise dot product (`ek_gemv_rows`).
  func forward(_ x: UnsafePointer<Float>, count n: Int, params: UnsafePointer<Float>, workspace ws: MLPWorkspace) {
    precondition(n <= ws.capacity && sizes.last == 1)
    let s0 = ws.strides[0]
    for r in 0..<n { (ws.input + r * s0).update(from: x + r * sizes[0], count: sizes[0]) }
    var input = UnsafePointer(ws.input)
    var sin = s0
    for l in 0..<layerCount {
      let fin = sizes[l], fout = sizes[l + 1]
      let w = params + weightOffsets[l]
      let b = params + biasOffsets[l]
      if l == layerCount - 1 {
        ek_gemv_rows(n, fin, input, sin, w, b[0], ws.output)
        break
      }
      let sout = ws.strides[l + 1]
      // Wᵀ (in × out, padded with zero columns) so the product streams contiguous rows.
      let wt = ws.weightsT
      for i in 0..<fin {
        for o in 0..<fout { wt[i * sout + o] = w[o * fin + i] }
        for o in fout..<sout { wt[i * sout + o] = 0 }
      }
      let bias = ws.bias
      bias.update(from: b, count: fout)
      for o in fout..<sout { bias[o] = 0 }
      let z = ws.act[l]
      ek_gemm(n, fout, fin, input, sin, wt, sout, bias, z, sout)
      ek_activate(Int32(activation.rawValue), z, ws.deriv[l], n * sout)
      if sout > fout {
        // Padding columns back to zero (some activations map 0 elsewhere): the weight
        // gradient reads them as a zero-padded right-hand matrix.
        for r in 0..<n { for o in fout..<sout { z[r * sout + o] = 0 } }
      }
      input = UnsafePointer(z)
      sin = sout
    }
  }

  /// Accumulates into `grad` the gradient of Σ_i g_i · r(x_i) with respect to the parameters,
  /// after a ``forward(_:count:params:workspace:)`` over the same rows. `g` has `n` entries.
  func backward(
    _ x: UnsafePointer<Float>, count n: Int, upstream g: UnsafePointer<Float>, params: UnsafePointer<Float>,
    workspace ws: MLPWorkspace, grad: UnsafeMutablePointer<Float>
  ) {
    let last = layerCount - 1
    // Last layer (one output): dW = Σ_r g_r·h_r, db = Σ_r g_r, dh = g·w (then through act′).
    let hin = sizes[last]
    let sh = ws.strides[last]
    let h: UnsafePointer<Float> = last == 0 ? UnsafePointer(ws.input) : UnsafePointer(ws.act[last - 1])
    let dw = grad + weightOffsets[last]
    var db = 0.0 as Float
    for r in 0..<n {
      let gr = g[r]
      db += gr
      let row = h + r * sh
      for i in 0..<hin { dw[i] += gr * row[i] }
    }
    grad[biasOffsets[last]] += db
    guard last > 0 else { return }
    var dz = ws.delta0
    var spare = ws.delta1
    let w = params + weightOffsets[last]
    let dv = ws.deriv[last - 1]
    for r in 0..<n {
      let gr = g[r]
      for i in 0..<sh { dz[r * sh + i] = i < hin ? gr * w[i] * dv[r * sh + i] : 0 }
    }
    for l in stride(from: last - 1, through: 0, by: -1) {
      let fin = sizes[l], fout = sizes[l + 1]
      let sin = ws.strides[l], sout = ws.strides[l + 1]
      let input: UnsafePointer<Float> = l == 0 ? UnsafePointer(ws.input) : UnsafePointer(ws.act[l - 1])
      // dW += dzᵀ · input: dz transposed (out × n), times the zero-padded input rows.
      let t = ws.transposedDelta
      for r in 0..<n { for o in 0..<fout { t[o * n + r] = dz[r * sout + o] } }
      ek_gemm(fout, fin, n, t, n, input, sin, nil, ws.gradient, sin)
      let gw = grad + weightOffsets[l]
      for o in 0..<fout {
        let src = ws.gradient + o * sin
        let dst = gw + o * fin
        for i in 0..<fin { dst[i] += src[i] }
      }
      let gb = grad + biasOffsets[l]
      for o in 0..<fout {
        let src = t + o * n
        var s: Float = 0
        for r in 0..<n { s += src[r] }
        gb[o] += s
      }
      if l > 0 {
        // d(input) = dz · W (W padded to the input's stride), then through act′.
        let wp = ws.weights
        let wl = params + weightOffsets[l]
        for o in 0..<fout {
          for i in 0..<fin { wp[o * sin + i] = wl[o * fin + i] }
          for i in fin..<sin { wp[o * sin + i] = 0 }
        }
        ek_gemm(n, fin, fout, dz, sout, wp, sin, nil, spare, sin)
        ek_mul(spare, ws.deriv[l - 1], n * sin)
        swap(&dz, &spare)
      }
    }
  }
}

/// Scratch memory for forward and backward passes over up to `capacity` rows. Every layer's
/// rows are padded to a multiple of 16 floats (`strides`), as the SIMD kernel wants them.
final class MLPWorkspace: @unchecked Sendable {
  let capacity: Int
  /// Padded row length of each layer's values, input first.
  let strides: [Int]
  /// The input rows, padded with zero columns.
  let input: UnsafeMutablePointer<Float>
  /// Per hidden layer: pre-activations, then activations in place.
  let act: [UnsafeMutablePointer<Float>]
  /// Per hidden layer: activation derivatives.
  let deriv: [UnsafeMutablePointer<Float>]
  /// Backward deltas (ping-pong).
  let delta0: UnsafeMutablePointer<Float>
  let delta1: UnsafeMutablePointer<Float>
  /// Transposed weights of the current layer (forward), the weights padded (backward), the
  /// padded bias, the transposed delta and one layer's weight gradient (backward).
  let weightsT: UnsafeMutablePointer<Float>
  let weights: UnsafeMutablePointer<Float>
  let bias: UnsafeMutablePointer<Float>
  let transposedDelta: UnsafeMutablePointer<Float>
  let gradient: UnsafeMutablePointer<Float>
  /// The network outputs after a forward pass (contiguous, one per row).
  let output: UnsafeMutablePointer<Float>

  init(sizes: [Int], capacity: Int) {
    self.capacity = capacity
    strides = sizes.map { ($0 + 15) / 16 * 16 }
    let s = strides
    input = .allocate(capacity: s[0] * capacity)
    input.initialize(repeating: 0, count: s[0] * capacity)
    let hidden = s.dropFirst().dropLast()
    act = hidden.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * capacity) }
    deriv = hidden.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * capacity) }
    let widest = s.max()!
    delta0 = .allocate(capacity: widest * capacity)
    delta1 = .allocate(capacity: widest * capacity)
    var most = 0
    for l in 0..<(sizes.count - 1) { most = max(most, max(sizes[l] * s[l + 1], sizes[l + 1] * s[l])) }
    weightsT = .allocate(capacity: most)
    weights = .allocate(capacity: most)
    bias = .allocate(capacity: widest)
    transposedDelta = .allocate(capacity: widest * capacity)
    gradient = .allocate(capacity: most)
    output = .allocate(capacity: capacity)
  }

  deinit {
    for p in [input, delta0, delta1, weightsT, weights, bias, transposedDelta, gradient, output] { p.deallocate() }
    for p in act { p.deallocate() }
    for p in deriv { p.deallocate() }
  }
}

import EmberFormat
import Foundation

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

  /// Rows per chunk of the weight-gradient product.
  static let chunkRows = 128

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

  /// r(x) for `n` rows of `x` (n×d, row-major).
  public func outputs(_ x: [Float], count n: Int) -> [Float] {
    let ws = MLPWorkspace(sizes: sizes, capacity: max(n, 1))
    return x.withUnsafeBufferPointer { xp in
      params.withUnsafeBufferPointer { pp in
        forward(xp.baseAddress!, count: n, params: pp.baseAddress!, workspace: ws)
        return Array(UnsafeBufferPointer(start: ws.output, count: n))
      }
    }
  }

  /// Forward pass over `n` rows, keeping activations and derivatives in `ws` for a backward pass.
  /// The outputs r(x) end up in `ws.output`.
  func forward(_ x: UnsafePointer<Float>, count n: Int, params: UnsafePointer<Float>, workspace ws: MLPWorkspace) {
    precondition(n <= ws.capacity)
    var input = x
    for l in 0..<layerCount {
      let fin = sizes[l], fout = sizes[l + 1]
      let w = params + weightOffsets[l]
      let b = params + biasOffsets[l]
      // Wᵀ (in × out) so the product streams contiguous rows.
      let wt = ws.transposed
      for o in 0..<fout {
        for i in 0..<fin { wt[i * fout + o] = w[o * fin + i] }
      }
      let z = ws.act[l]
      for r in 0..<n {
        (z + r * fout).update(from: b, count: fout)
      }
      DenseKernels.gemm(m: n, p: fout, q: fin, a: input, ars: fin, ats: 1, b: wt, c: z, accumulate: true)
      if l < layerCount - 1 {
        DenseKernels.activate(activation, z, deriv: ws.deriv[l], count: n * fout)
      }
      input = UnsafePointer(z)
    }
  }

  /// Accumulates into `grad` the gradient of Σ_i g_i · r(x_i) with respect to the parameters,
  /// after a ``forward(_:count:params:workspace:)`` over the same rows. `g` has `n` entries.
  func backward(
    _ x: UnsafePointer<Float>, count n: Int, upstream g: UnsafePointer<Float>, params: UnsafePointer<Float>,
    workspace ws: MLPWorkspace, grad: UnsafeMutablePointer<Float>
  ) {
    var dz = UnsafeMutablePointer(mutating: g)
    var spare = ws.delta0
    for l in stride(from: layerCount - 1, through: 0, by: -1) {
      let fin = sizes[l], fout = sizes[l + 1]
      let input: UnsafePointer<Float> = l == 0 ? x : UnsafePointer(ws.act[l - 1])
      // dW += dzᵀ · input
      // In chunks of rows so both operands of a chunk stay in L2.
      var start = 0
      while start < n {
        let rows = min(Self.chunkRows, n - start)
        DenseKernels.gemm(
          m: fout, p: fin, q: rows, a: dz + start * fout, ars: 1, ats: fout, b: input + start * fin,
          c: grad + weightOffsets[l], accumulate: true)
        start += rows
      }
      let db = grad + biasOffsets[l]
      for r in 0..<n {
        let row = dz + r * fout
        for o in 0..<fout { db[o] += row[o] }
      }
      if l > 0 {
        // d(input) = dz · W, then through the previous layer's activation.
        DenseKernels.gemm(
          m: n, p: fin, q: fout, a: dz, ars: fout, ats: 1, b: params + weightOffsets[l], c: spare, accumulate: false)
        let dv = ws.deriv[l - 1]
        for i in 0..<(n * fin) { spare[i] *= dv[i] }
        let next = spare
        spare = (next == ws.delta0) ? ws.delta1 : ws.delta0
        dz = next
      }
    }
  }
}

/// Scratch memory for forward and backward passes over up to `capacity` rows.
final class MLPWorkspace: @unchecked Sendable {
  let capacity: Int
  /// Per layer: pre-activations, then activations in place (the last one is r(x)).
  let act: [UnsafeMutablePointer<Float>]
  /// Per hidden layer: activation derivatives.
  let deriv: [UnsafeMutablePointer<Float>]
  /// Backward deltas (ping-pong).
  let delta0: UnsafeMutablePointer<Float>
  let delta1: UnsafeMutablePointer<Float>
  /// Transposed weights of the current layer.
  let transposed: UnsafeMutablePointer<Float>

  /// The network outputs after a forward pass.
  var output: UnsafeMutablePointer<Float> { act[act.count - 1] }

  init(sizes: [Int], capacity: Int) {
    self.capacity = capacity
    act = sizes.dropFirst().map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * capacity) }
    deriv = sizes.dropFirst().dropLast().map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * capacity) }
    let widest = sizes.max()!
    delta0 = .allocate(capacity: widest * capacity)
    delta1 = .allocate(capacity: widest * capacity)
    var most = 0
    for l in 0..<(sizes.count - 1) { most = max(most, sizes[l] * sizes[l + 1]) }
    transposed = .allocate(capacity: most)
  }

  deinit {
    for p in act { p.deallocate() }
    for p in deriv { p.deallocate() }
    delta0.deallocate()
    delta1.deallocate()
    transposed.deallocate()
  }
}

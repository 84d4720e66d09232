import EmberFormat
import _EmberKernels

/// One class's energy E_c(x) = scale · term(network(x)) + E_base(x), packed for the kernels.
final class PreparedClass: @unchecked Sendable {
  let d: Int
  let layers: [PackedLayer]
  let output: OutputMode
  let scale: Float
  let base: PreparedBase?

  init(_ info: ClassInfo, width d: Int, index: Int) throws(EmberRuntimeError) {
    self.d = d
    layers = info.layers.indices.map { PackedLayer(info.layers[$0], last: $0 == info.layers.count - 1) }
    output = info.output ?? .logOdds
    scale = info.networkScale
    if let b = info.base {
      base = try PreparedBase(b, width: d, at: "class \(index) \"\(info.label)\" base")
    } else {
      base = nil
    }
  }

  /// The same class with another base term (the layers shared, not copied).
  init(_ other: PreparedClass, base: PreparedBase?) {
    d = other.d
    layers = other.layers
    output = other.output
    scale = other.scale
    self.base = base
  }

  /// Whether the last layer has a single output (handled by a row-dot kernel).
  var singleOutput: Bool { layers.last.map { $0.outputs == 1 } ?? false }

  /// Energies of `n` rows (row-major n×d) into `energies[i·stride]`; with `gradients`
  /// (row stride ``ClassWorkspace/gradientStride``), also ∇ₓE. O(n · parameters).
  func evaluate(
    rows x: UnsafePointer<Float>, count n: Int, workspace w: ClassWorkspace,
    energies: UnsafeMutablePointer<Float>, stride: Int, gradients: UnsafeMutablePointer<Float>?
  ) {
    #if EMBER_CHECKS
      precondition(n <= w.batch, "batch \(n) exceeds the workspace's \(w.batch)")
    #endif
    let wantGradient = gradients != nil
    for r in 0..<n { energies[r * stride] = 0 }
    if !layers.isEmpty {
      var a = x
      var lda = d
      let hidden = singleOutput ? layers.count - 1 : layers.count
      for l in 0..<hidden {
        let layer = layers[l]
        let z = w.activations[l].pointer
        ek_gemm(n, layer.outputs, layer.inputs, a, lda, layer.forward.pointer, layer.outPad, layer.bias.pointer, z, layer.outPad)
        ek_activate(Int32(layer.activation.rawValue), z, wantGradient ? w.derivatives[l].pointer : nil, n * layer.outPad)
        a = UnsafePointer(z)
        lda = layer.outPad
      }
      let g = w.outputGradient.pointer
      if singleOutput {
        let last = layers[layers.count - 1]
        let r = w.logits.pointer
        ek_gemv_rows(n, last.inputs, a, lda, last.backward.pointer, last.bias.pointer[0], r)
        for i in 0..<n {
          var dr: Float = 1
          if last.activation != .identity { ek_activate(Int32(last.activation.rawValue), r + i, &dr, 1) }
          switch output {
          case .logOdds:
            energies[i * stride] = -scale * r[i]
            g[i] = -scale * dr
          case .scalar, .logSumExp:
            energies[i * stride] = scale * (output == .scalar ? r[i] : -r[i])
            g[i] = (output == .scalar ? scale : -scale) * dr
          }
        }
      } else {
        let last = layers[layers.count - 1]
        let z = w.activations[layers.count - 1].pointer
        let dz = wantGradient ? w.derivatives[layers.count - 1].pointer : z  // written only for gradients
        for i in 0..<n {
          let row = z + i * last.outPad
          var top = -Float.infinity
          for j in 0..<last.outputs { top = max(top, row[j]) }
          var total: Float = 0
          for j in 0..<last.outputs { total += Float.exp(row[j] - top) }
          let lse = top + Float.log(total)
          switch output {
          case .logSumExp:
            energies[i * stride] = -scale * lse
            if wantGradient {
              for j in 0..<last.outputs { dz[i * last.outPad + j] *= -scale * Float.exp(row[j] - lse) }
            }
          case .logOdds, .scalar:
            energies[i * stride] = (output == .scalar ? scale : -scale) * row[0]
            if wantGradient {
              dz[i * last.outPad] *= output == .scalar ? scale : -scale
              for j in 1..<last.outPad { dz[i * last.outPad + j] = 0 }
            }
          }
        }
      }
      if let grad = gradients {
        backward(count: n, workspace: w, into: grad)
      }
    } else if let grad = gradients {
      let stride = padded(d)
      for i in 0..<(n * stride) { grad[i] = 0 }
    }
    if let base {
      base.evaluate(
        rows: x, count: n, workspace: w.base!, energies: energies, stride: stride,
        gradients: wantGradient ? w.baseGradient.pointer : nil)
      if let grad = gradients {
        let pad = padded(d)
        let bg = w.baseGradient.pointer
        for i in 0..<(n * pad) { grad[i] += bg[i] }
      }
    }
  }

  /// Back-propagates the output gradient to the inputs (gradient rows with stride dPad).
  private func backward(count n: Int, workspace w: ClassWorkspace, into grad: UnsafeMutablePointer<Float>) {
    var l = layers.count - 1
    var gIn: UnsafeMutablePointer<Float>
    let last = layers[l]
    var target = l == 0 ? grad : w.gradientA.pointer
    if singleOutput {
      ek_gemm(n, last.inputs, 1, w.outputGradient.pointer, 1, last.backward.pointer, last.inPad, nil, target, last.inPad)
    } else {
      let dz = w.derivatives[l].pointer
      ek_gemm(n, last.inputs, last.outputs, dz, last.outPad, last.backward.pointer, last.inPad, nil, target, last.inPad)
    }
    gIn = target
    var useA = false
    while l > 0 {
      l -= 1
      let layer = layers[l]
      ek_mul(gIn, w.derivatives[l].pointer, n * layer.outPad)
      target = l == 0 ? grad : (useA ? w.gradientA.pointer : w.gradientB.pointer)
      ek_gemm(n, layer.inputs, layer.outputs, gIn, layer.outPad, layer.backward.pointer, layer.inPad, nil, target, layer.inPad)
      gIn = target
      useA.toggle()
    }
  }
}

/// Scratch buffers for evaluating one class at up to `batch` rows. The buffers only gradients
/// use are made on first use: scoring and classifying never allocate them (fewer system calls
/// at start-up).
final class ClassWorkspace: @unchecked Sendable {
  let batch: Int
  let activations: [AlignedBuffer]
  let logits: AlignedBuffer
  let outputGradient: AlignedBuffer
  let base: BaseWorkspace?
  private let outPads: [Int]
  private let widest: Int
  private let basePad: Int?

  init(_ c: PreparedClass, batch: Int) {
    self.batch = batch
    activations = c.layers.map { AlignedBuffer(count: batch * $0.outPad) }
    logits = AlignedBuffer(count: batch)
    outputGradient = AlignedBuffer(count: batch)
    base = c.base.map { BaseWorkspace(batch: batch, d: c.d, k: $0.k) }
    outPads = c.layers.map { $0.outPad }
    widest = c.layers.map { max($0.inPad, $0.outPad) }.max() ?? 16
    basePad = c.base == nil ? nil : padded(c.d)
  }

  lazy var derivatives: [AlignedBuffer] = outPads.map { AlignedBuffer(count: batch * $0) }
  lazy var gradientA = AlignedBuffer(count: batch * widest)
  lazy var gradientB = AlignedBuffer(count: batch * widest)
  lazy var baseGradient = AlignedBuffer(count: basePad.map { batch * $0 } ?? 1)
}

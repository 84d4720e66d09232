import Foundation

/// AdamW (decoupled weight decay, Loshchilov & Hutter) over a flat parameter array, with
/// PyTorch's defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and decay applied to every parameter.
struct AdamW {
  var lr: Float
  var weightDecay: Float
  var beta1: Float = 0.9
  var beta2: Float = 0.999
  var eps: Float = 1e-8
  private var m: [Float]
  private var v: [Float]
  private var t = 0

  init(count: Int, lr: Float, weightDecay: Float) {
    self.lr = lr
    self.weightDecay = weightDecay
    m = [Float](repeating: 0, count: count)
    v = [Float](repeating: 0, count: count)
  }

  /// One update of `params` with gradient `grad`.
  mutating func step(_ params: inout [Float], _ grad: [Float]) {
    t += 1
    let b1 = beta1, b2 = beta2, e = eps, l = lr, decay = 1 - lr * weightDecay
    let c1 = 1 / (1 - powf(b1, Float(t)))
    let c2 = 1 / (1 - powf(b2, Float(t)))
    m.withUnsafeMutableBufferPointer { mp in
      v.withUnsafeMutableBufferPointer { vp in
        params.withUnsafeMutableBufferPointer { pp in
          grad.withUnsafeBufferPointer { gp in
            for i in 0..<pp.count {
              let g = gp[i]
              mp[i] = b1 * mp[i] + (1 - b1) * g
              vp[i] = b2 * vp[i] + (1 - b2) * g * g
              pp[i] = pp[i] * decay - l * (mp[i] * c1) / ((vp[i] * c2).squareRoot() + e)
            }
          }
        }
      }
    }
  }
}

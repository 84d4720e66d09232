import EmberFormat
import EmberRuntime
import _EmberCAPITypes

// Explanations of scores (`ember score --explain`). See include/ember.h.

/// `ember_status ember_explain(const ember_model *, const float *rows, size_t n, size_t k,
/// float *attributions, int32_t *top, float *shares)`.
@_cdecl("ember_explain")
public func ember_explain(
  _ model: OpaquePointer?, _ rows: UnsafePointer<Float>?, _ n: Int, _ k: Int, _ attributions: UnsafeMutablePointer<Float>?,
  _ top: UnsafeMutablePointer<Int32>?, _ shares: UnsafeMutablePointer<Float>?
) -> Int32 {
  guarded("ember_explain") { () throws(APIError) in
    let h = try ModelHandle.from(model)
    let f = h.model.features.count
    _ = try checkedProduct(n, h.width, "rows")
    _ = try checkedProduct(n, f, "attributions")
    guard k >= 0, k <= f else {
      throw APIError(.invalidArgument, "k = \(k) asks for more columns than the model's \(f) features")
    }
    _ = try checkedProduct(n, k, "top")
    if n == 0 { return }
    if top == nil, shares == nil, attributions == nil {
      throw APIError(.invalidArgument, "attributions, top and shares are all NULL: nothing to compute")
    }
    let x = try required(rows, "rows")
    var scratch: [Float] = attributions == nil ? [Float](repeating: 0, count: n * f) : []
    func fill(_ a: UnsafeMutablePointer<Float>) {
      h.session.attributions(rows: x, count: n, into: a, threads: 1)
      guard k > 0 else { return }
      var index = [Int32](repeating: 0, count: k)
      var share = [Float](repeating: 0, count: k)
      for r in 0..<n {
        Explainer.top(a + r * f, features: f, k: k, indices: &index, shares: &share)
        for j in 0..<k {
          top?[r * k + j] = index[j]
          shares?[r * k + j] = share[j]
        }
      }
    }
    if let attributions {
      fill(attributions)
    } else {
      scratch.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
    }
  }
}

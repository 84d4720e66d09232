import EmberFormat
import EmberRuntime

/// `score --explain k`: each chunk's attributions computed in parallel through the session
/// (``EmberSession/attributions(rows:count:into:threads:)``), then, row by row in input order,
/// the k columns with the largest attributions and their shares.
final class Explanation {
  let k: Int
  let session: EmberSession
  let threads: Int
  /// why_1, why_1_share, …, why_k, why_k_share.
  let columns: [String]
  private var attributions: [Float] = []
  private var next = 0
  private var indices: [Int32]
  private var shares: [Float]

  /// nil without `--explain`; a usage error when k exceeds the model's features.
  init?(k: Int?, session: EmberSession, threads: Int) throws(CLIError) {
    guard let k else { return nil }
    let f = session.model.features.count
    guard k <= f else {
      throw CLIError(.usage, "--explain \(k) asks for more columns than the model's \(f) features")
    }
    self.k = k
    self.session = session
    self.threads = threads
    columns = (1...k).flatMap { ["why_\($0)", "why_\($0)_share"] }
    indices = [Int32](repeating: 0, count: k)
    shares = [Float](repeating: 0, count: k)
  }

  /// Attributions of a chunk of n encoded rows.
  func compute(_ x: UnsafePointer<Float>, _ n: Int) {
    let f = session.model.features.count
    if attributions.count < n * f { attributions = [Float](repeating: 0, count: n * f) }
    attributions.withUnsafeMutableBufferPointer { session.attributions(rows: x, count: n, into: $0.baseAddress!, threads: threads) }
    next = 0
  }

  /// The next row's why columns.
  func append(to out: inout [String]) {
    let f = session.model.features.count
    attributions.withUnsafeBufferPointer { a in
      indices.withUnsafeMutableBufferPointer { i in
        shares.withUnsafeMutableBufferPointer { s in
          Explainer.top(a.baseAddress! + next * f, features: f, k: k, indices: i.baseAddress!, shares: s.baseAddress!)
        }
      }
    }
    next += 1
    for j in 0..<k {
      out.append(session.model.features[Int(indices[j])].name)
      out.append(shares[j].description)
    }
  }
}

import EmberFormat
import Foundation

@testable import EmberTrainer

/// A test oracle: energies E_c(x) of one class computed from its file description
/// (``ClassSpec``) independently of the runtime — the trainer's own network code and the base
/// term in double precision, E = networkScale · term(network) + E_base, term = −r (logOdds),
/// r (scalar) or −logsumexp (logSumExp),
/// E_base(x) = −logsumexp_j(w_j − ½(x−m_j)ᵀP(x−m_j)) + ½ log det S + (d/2) log 2π.
/// (The trainer itself calibrates through the runtime; this only checks that the two agree.)
struct ReferenceEnergy {
  let spec: ClassSpec
  let net: MLP?
  let d: Int

  /// Prepares the energy of `spec` for rows of width `width`.
  init(_ spec: ClassSpec, width: Int) {
    self.spec = spec
    net = spec.layers.isEmpty ? nil : MLP(layers: spec.layers)
    d = width
  }

  /// E_c for `n` rows of `x` (n×d).
  func energies(_ x: [Float], count n: Int) -> [Double] {
    var e = [Double](repeating: 0, count: n)
    if let net {
      let k = net.sizes.last!
      let out = net.outputs(x, count: n)
      let scale = Double(spec.networkScale)
      for i in 0..<n {
        let term: Double
        switch spec.output {
        case .logOdds: term = -Double(out[i * k])
        case .scalar: term = Double(out[i * k])
        case .logSumExp:
          var m = -Double.infinity
          for j in 0..<k { m = max(m, Double(out[i * k + j])) }
          var s = 0.0
          for j in 0..<k { s += exp(Double(out[i * k + j]) - m) }
          term = -(m + log(s))
        }
        e[i] = scale * term
      }
    }
    if let base = spec.base {
      let k = base.components
      let constant = 0.5 * base.logDetCovariance + Double(d) / 2 * log(2 * Double.pi)
      var diff = [Double](repeating: 0, count: d)
      var terms = [Double](repeating: 0, count: k)
      for i in 0..<n {
        for j in 0..<k {
          for a in 0..<d { diff[a] = Double(x[i * d + a]) - Double(base.means[j * d + a]) }
          var q = 0.0
          for a in 0..<d {
            var row = 0.0
            for b in 0..<d { row += Double(base.precision[a * d + b]) * diff[b] }
            q += diff[a] * row
          }
          terms[j] = Double(base.logWeights[j]) - 0.5 * q
        }
        let m = terms.max()!
        var s = 0.0
        for t in terms { s += exp(t - m) }
        e[i] += -(m + log(s)) + constant
      }
    }
    return e
  }
}

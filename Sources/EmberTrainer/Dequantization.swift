import EmberFormat
import Foundation

/// How a class's base treats encoded columns whose values sit on a lattice (whole-number
/// columns, z-scored with spacing 1/std, and one-hot category slots, spacing 1). A continuous
/// density fitted to such values can put spikes on the lattice points — a mixture component
/// per value — and win held-out likelihood on rows that share those values, which says nothing
/// about rows between them and gives rows of an unseen class that share them a high density.
/// Seen dequantized (each value spread uniformly over its lattice cell, variance h²/12), the
/// data have no spikes to fit. See docs/TUNING.md, round 7.
public struct Dequantization: Sendable, Equatable {
  /// The per-dimension variance term of a lattice column in the base's covariance (a Gaussian's
  /// and a mixture's shared one), before the ridge.
  public enum Variance: String, Sendable, CaseIterable {
    /// None (the base as fitted).
    case off
    /// S_ii ← max(S_ii, h²/12).
    case floor
    /// S_ii ← S_ii + h²/12: the covariance of the dequantized rows.
    case add
  }
  /// The variance term.
  public var variance: Variance = .off
  /// Compare base candidates on held-out rows dequantized with seeded uniform noise of their
  /// lattice spacing (x + h·(u − ½)), so that no candidate wins by fitting the lattice.
  public var heldoutNoise: Bool = false
  /// With `heldoutNoise`, the network's held-out rows too (its early-stopping loss, its scale
  /// and its keep-or-drop gain test), so that it cannot win them back by fitting the lattice.
  public var networkTest: Bool = true
  /// Which columns are lattices: whole-number columns (spacing 1/std) and/or category slots
  /// (spacing 1).
  public var integers: Bool = true
  public var categories: Bool = true

  /// No dequantization.
  public init(variance: Variance = .off, heldoutNoise: Bool = false, integers: Bool = true, categories: Bool = true) {
    self.variance = variance
    self.heldoutNoise = heldoutNoise
    self.integers = integers
    self.categories = categories
  }

  /// Whether anything is done.
  public var isActive: Bool { variance != .off || heldoutNoise }

  /// The lattice spacing h of every encoded slot (0: continuous): 1/std for an integer
  /// feature, 1 for each slot of a categorical one, 0 for a numeric one. Depends on the
  /// feature specs only, so every class of a model (and a class added later) sees the same.
  public func spacings(_ features: [FeatureSpec], width d: Int) -> [Double] {
    var h = [Double](repeating: 0, count: d)
    for f in features {
      switch f.kind {
      case .integer where integers:
        if f.std > 0 && f.slotOffset < d { h[f.slotOffset] = 1 / f.std }
      case .categorical where categories:
        for s in 0..<f.slotCount where f.slotOffset + s < d { h[f.slotOffset + s] = 1 }
      default:
        break
      }
    }
    return h
  }
}

/// The per-dimension lattice variances h²/12 and the rule applying them to a covariance.
struct LatticeVariance: Sendable {
  /// h_i²/12 per encoded dimension (empty: nothing to apply).
  var variances: [Double] = []
  var rule: Dequantization.Variance = .off

  /// Nothing to apply.
  static let none = LatticeVariance()

  /// The term for spacings `h` under `rule`.
  init(spacings h: [Double] = [], rule: Dequantization.Variance = .off) {
    self.rule = rule
    variances = rule == .off || h.allSatisfy({ $0 == 0 }) ? [] : h.map { $0 * $0 / 12 }
  }

  /// Applies the term to the diagonal of the d×d covariance `cov` (row-major) and returns what
  /// it added to each diagonal entry (d values, the base's recorded lattice variance; empty
  /// when nothing was added).
  @discardableResult
  func apply(to cov: inout [Double], width d: Int) -> [Double] {
    guard variances.count == d else { return [] }
    var added = [Double](repeating: 0, count: d)
    for i in 0..<d where variances[i] > 0 {
      let before = cov[i * d + i]
      switch rule {
      case .floor: cov[i * d + i] = max(before, variances[i])
      case .add: cov[i * d + i] += variances[i]
      case .off: break
      }
      added[i] = cov[i * d + i] - before
    }
    return added.contains { $0 > 0 } ? added : []
  }
}

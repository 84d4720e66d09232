/// Honest out-of-fold gains for the keep-or-drop tests: whatever is chosen on held-out rows
/// (the early-stopping checkpoint, the network scale s, a base's ridge) is chosen, for each
/// fold's rows, on the *other* folds' held-out rows only, so the per-row gains on that fold
/// carry no selection optimism. The shipped model still uses the choices made on all folds.
extension ClassFitter {
  /// The common checkpoint index with the least summed held-out loss over `runs` (a run that
  /// stopped early stays at its last checkpoint). O(checkpoints · runs).
  static func bestCheckpoint(_ runs: [TrainingRun]) -> Int {
    let longest = runs.map(\.curve.count).max() ?? 0
    var bestTotal = Double.infinity
    var bestIndex = 0
    for c in 0..<longest {
      var total = 0.0
      for r in runs where !r.curve.isEmpty { total += r.curve[min(c, r.curve.count - 1)].loss }
      if total < bestTotal {
        bestTotal = total
        bestIndex = c
      }
    }
    return bestIndex
  }

  /// Per-row held-out gains of the network over the base, folds in order, fold j's measured
  /// at the checkpoint (``bestCheckpoint(_:)``) and scale (``bestScale(held:draws:)``) chosen
  /// on the other folds' held-out rows and base draws only. `held[f]` and `draws[f]` are fold
  /// f's held-out rows and draws from its base (row-major). Draws no random numbers; costs
  /// one network pass per fold and distinct checkpoint over its rows and draws.
  func nestedGains(_ runs: [TrainingRun], held: [[Float]], draws: [[Float]]) -> [Double] {
    let k = runs.count
    guard k >= 2 else { return [] }
    var cache: [[Int: (held: [Double], draws: [Double])]] = Array(repeating: [:], count: k)
    func outputs(_ f: Int, _ c: Int) -> (held: [Double], draws: [Double]) {
      let r = runs[f]
      let i = r.checkpoints.isEmpty ? -1 : min(c, r.checkpoints.count - 1)
      if let hit = cache[f][i] { return hit }
      var net = r.net
      if i >= 0 { net.params = r.checkpoints[i] }
      let out = (
        held: net.outputs(held[f], count: held[f].count / max(d, 1)).map(Double.init),
        draws: net.outputs(draws[f], count: draws[f].count / max(d, 1)).map(Double.init)
      )
      cache[f][i] = out
      return out
    }
    var gains: [Double] = []
    for j in 0..<k {
      let others = (0..<k).filter { $0 != j }
      let c = Self.bestCheckpoint(others.map { runs[$0] })
      let o = others.map { outputs($0, c) }
      let scale = Self.bestScale(held: o.map(\.held), draws: o.map(\.draws))
      gains += Self.gains(held: [outputs(j, c).held], draws: [outputs(j, c).draws], scale: scale)
    }
    return gains
  }

  /// Per-row paired differences, folds in order, between the best member of `challenger` and
  /// the best member of `incumbent` (candidate indices into `scores`), each best chosen for
  /// fold j's rows on the other folds' rows only. `scores[c]` holds candidate c's per-row
  /// held-out log-densities, folds in order, fold f's `sizes[f]` rows. With one fold the bests
  /// are chosen on its own rows (nothing else is held out).
  static func nestedDifferences(
    _ scores: [[Double]], sizes: [Int], challenger: [Int], incumbent: [Int]
  ) -> [Double] {
    var starts = [0]
    for n in sizes { starts.append(starts.last! + n) }
    let totals = scores.map { row in sizes.indices.map { f in row[starts[f]..<starts[f + 1]].reduce(0, +) } }
    func best(_ members: [Int], excluding j: Int) -> Int {
      func mean(_ c: Int) -> Double {
        var total = 0.0, count = 0
        for f in sizes.indices where f != j || sizes.count == 1 {
          total += totals[c][f]
          count += sizes[f]
        }
        return total / Double(max(count, 1))
      }
      return members.max { mean($0) < mean($1) }!
    }
    var diff: [Double] = []
    for j in sizes.indices {
      let a = best(challenger, excluding: j), b = best(incumbent, excluding: j)
      for i in starts[j]..<starts[j + 1] { diff.append(scores[a][i] - scores[b][i]) }
    }
    return diff
  }
}

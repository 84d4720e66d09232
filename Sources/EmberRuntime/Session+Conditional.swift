import EmberFormat

/// Conditional synthesis and imputation: rows drawn from a class's energy with some cells fixed
/// and others bounded (``ConditionalBlock``), the class chosen by the model's posterior given
/// what is known.
extension EmberSession {
  /// Sweeps per chain unless the caller says otherwise.
  public static let defaultSweeps = 30
  /// Most sweeps a call accepts.
  public static let sweepRange = 0...100_000
  /// Importance draws per class when weighing classes by the conditions (``conditionalCounts``).
  public static let classProbes = 1024
  /// Importance draws per class when weighing classes for one row to impute.
  public static let rowProbes = 64
  /// Chains evaluated together.
  static let conditionalBatch = 64

  // Stream tags: conditional chains (seed, tag | class, chain); class probes; imputation.
  static let chainTag: UInt64 = 0x434F_4E44 << 32
  static let probeTag: UInt64 = 0x5052_4F42 << 32
  static let imputeTag: UInt64 = 0x494D_5055 << 32
  static let imputeProbeTag: UInt64 = 0x4950_5242 << 32

  /// The proposal (base mixture, or N(0, I)) of every class of `energies`.
  func proposals(_ energies: EnergyModel) -> [MixtureProposal] {
    energies.classes.map { MixtureProposal($0.base, width: width) }
  }

  func checkSweeps(_ sweeps: Int) throws(EmberRuntimeError) {
    guard EmberSession.sweepRange.contains(sweeps) else {
      throw EmberRuntimeError(.badOption, "must be in 0…\(EmberSession.sweepRange.upperBound), not \(sweeps)", at: "steps")
    }
  }

  // MARK: Conditional synthesis

  /// Rows per class for `count` conditional rows. With `classes` (labels the caller named),
  /// an even split among them (as unconditional sampling does); otherwise among the classes
  /// the conditions allow, in proportion to p(c | conditions) ∝ π_c · ∫ e^{−E_c} over the
  /// rows meeting the conditions (a categorical condition: the rows that decode to the
  /// category; ``ConditionSet/marginalPattern(proposal:)``), estimated by importance sampling
  /// (``classProbes`` draws per class from its base's conditional; stream (seed, probe tag | c)). Throws `.badRequest`
  /// when no draw of any class meets the conditions (their probability is negligible under the
  /// model) — name a class to sample it anyway.
  public func conditionalCounts(
    _ conditions: ConditionSet, count: Int, classes named: [Int], seed: UInt64
  ) throws(EmberRuntimeError) -> [Int] {
    var counts = [Int](repeating: 0, count: classCount)
    if !named.isEmpty {
      if let allowed = conditions.classes {
        for c in named where !allowed.contains(c) {
          let text = conditions.conditions.filter { $0.column == model.target || $0.column == "label" }.map { $0.description }
          throw EmberRuntimeError(
            .badOption, "class \"\(labels[c])\" contradicts \(text.joined(separator: ", "))", at: "class")
        }
      }
      let split = EmberSession.allocate(count, weights: named.map { _ in 1.0 })
      for (k, c) in named.enumerated() { counts[c] += split[k] }
      return counts
    }
    let candidates = conditions.classes ?? Array(0..<classCount)
    if candidates.count == 1 {
      counts[candidates[0]] = count
      return counts
    }
    let energy = conditioning()
    let props = proposals(energy)
    let block = ConditionalBlock(energy, proposals: props, batch: EmberSession.conditionalBatch)
    var logWeights = [Double](repeating: -.infinity, count: classCount)
    for c in candidates {
      let (row, pattern) = conditions.marginalPattern(proposal: props[c])
      var rng = RandomSource(seed: seed, stream: EmberSession.probeTag | UInt64(c))
      let probes = pattern.freeCount == 0 && pattern.groups.isEmpty ? 1 : EmberSession.classProbes
      let lm = row.withUnsafeBufferPointer {
        block.logMarginal(classIndex: c, proposal: props[c], pattern: pattern, row: $0.baseAddress!, probes: probes, rng: &rng)
      }
      logWeights[c] = lm + Double(energy.logPriors[c])
    }
    let top = logWeights.max() ?? -.infinity
    guard top.isFinite else {
      throw EmberRuntimeError(
        .badRequest,
        "no class of the model reaches the conditions (\(conditions.conditions.map { $0.description }.joined(separator: ", "))): none of \(EmberSession.classProbes) draws per class met them, so their probability is negligible; pass --class to sample one class anyway",
        at: "conditions")
    }
    return EmberSession.allocate(count, weights: logWeights.map { Double.exp($0 - top) })
  }

  /// Draws `count` rows of class `classIndex` meeting `conditions` and hands them, in chain
  /// order, to `emit` in blocks (encoded rows, n×d); `emit` returns false to stop early.
  /// Chain g uses the stream (seed, chain tag | c, g): the rows depend only on the arguments,
  /// never on `threads`. Every row meets every condition (fixed cells are set, bounded cells
  /// never leave their bounds). Memory: O(threads · 64 · d · components).
  public func sampleConditional(
    classIndex c: Int, count: Int, seed: UInt64, conditions: ConditionSet, sweeps: Int = EmberSession.defaultSweeps,
    threads: Int = 1, emit: (UnsafeBufferPointer<Float>, Int) -> Bool
  ) throws(EmberRuntimeError) -> ConditionalStats {
    guard c >= 0, c < classCount else {
      throw EmberRuntimeError(.unknownClass, "class index \(c) is out of range (the model has \(classCount) classes)")
    }
    if let allowed = conditions.classes, !allowed.contains(c) {
      throw EmberRuntimeError(.badOption, "class \"\(labels[c])\" is excluded by the conditions", at: "class")
    }
    try checkSweeps(sweeps)
    try EmberSession.checkThreads(threads, option: "threads")
    var stats = ConditionalStats()
    guard count > 0 else { return stats }
    let energy = conditioning()
    let proposal = MixtureProposal(energy.classes[c].base, width: width)
    let (row, pattern) = conditions.pattern(proposal: proposal)
    let d = width
    let b = EmberSession.conditionalBatch
    let workers = Swift.min(EmberSession.workers(threads), (count + b - 1) / b)
    let blocks = (0..<workers).map { _ in ConditionalBlock(energy, proposals: [proposal], batch: b) }
    let superBlock = b * workers
    var rows = [Float](repeating: 0, count: superBlock * d)
    var done = 0
    while done < count {
      let n = Swift.min(superBlock, count - done)
      let pieces = (n + b - 1) / b
      let first = done
      rows.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        Parallel.forEach(pieces, threads: workers) { p in
          let m = Swift.min(b, n - p * b)
          let target = base + p * b * d
          for i in 0..<m { (target + i * d).update(from: row, count: d) }
          var rngs = (0..<m).map { RandomSource(seed: seed, stream: EmberSession.chainTag | UInt64(c), UInt64(first + p * b + $0)) }
          blocks[p % workers].run(
            classIndex: c, proposal: proposal, patterns: [ConditionalPattern](repeating: pattern, count: m), rows: target,
            rngs: &rngs, sweeps: sweeps)
        }
      }
      for p in 0..<pieces { stats.merge(blocks[p % workers].stats) }
      let go = rows.withUnsafeBufferPointer { emit(UnsafeBufferPointer(start: $0.baseAddress!, count: n * d), n) }
      if !go { break }
      done += n
    }
    return stats
  }
}

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

  /// The proposal (base mixture, or N(0, I)) of every class.
  func proposals() -> [MixtureProposal] {
    energy.classes.map { MixtureProposal($0.base, width: width) }
  }

  private func checkSweeps(_ sweeps: Int) throws(EmberRuntimeError) {
    guard EmberSession.sweepRange.contains(sweeps) else {
      throw EmberRuntimeError(.badOption, "must be in 0…\(EmberSession.sweepRange.upperBound), not \(sweeps)", at: "steps")
    }
  }

  // MARK: Conditional synthesis

  /// Rows per class for `count` conditional rows. With `classes` (labels the caller named),
  /// an even split among them (as unconditional sampling does); otherwise among the classes
  /// the conditions allow, in proportion to p(c | conditions) ∝ π_c · ∫ e^{−E_c} over the
  /// rows meeting the conditions, estimated by importance sampling (``classProbes`` draws per
  /// class from its base's conditional; stream (seed, probe tag | c)). Throws `.badRequest`
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
    let props = proposals()
    let block = ConditionalBlock(energy, proposals: props, batch: EmberSession.conditionalBatch)
    var logWeights = [Double](repeating: -.infinity, count: classCount)
    for c in candidates {
      let (row, pattern) = conditions.pattern(proposal: props[c])
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

  // MARK: Imputation

  /// Fills missing cells by conditional sampling: `draws` imputations of each of `n` rows.
  ///
  /// - Parameters:
  ///   - rows: n×d encoded rows as the encoder wrote them (missing cells hold their impute
  ///     value, which is ignored).
  ///   - missing: n×F flags, true where feature f of row r is missing.
  ///   - classes: n class indices, or nil / −1 when a row's class is unknown: it is then drawn
  ///     per imputation from p(c | observed cells) ∝ π_c ∫ e^{−E_c} dx_missing (importance
  ///     sampling, ``rowProbes`` draws per class, stream (seed, impute-probe tag | row, c)).
  ///   - firstRow: the global index of row 0 (streams are keyed by global row index, so a file
  ///     processed in chunks gives the same bytes as one processed at once).
  ///   - out: n×draws×d encoded rows (row-major by row, then draw); observed cells unchanged.
  ///   - outClasses: n×draws class indices (may be nil).
  /// Imputation t of row r runs on the stream (seed, impute tag | r, t): output depends only
  /// on the arguments, never on `threads`.
  public func impute(
    rows: UnsafePointer<Float>, missing: UnsafePointer<Bool>, classes: UnsafePointer<Int32>?, count n: Int, firstRow: Int = 0,
    draws: Int, seed: UInt64, sweeps: Int = EmberSession.defaultSweeps, threads: Int = 1,
    into out: UnsafeMutablePointer<Float>, outClasses: UnsafeMutablePointer<Int32>? = nil
  ) throws(EmberRuntimeError) -> ConditionalStats {
    try checkSweeps(sweeps)
    try EmberSession.checkThreads(threads, option: "threads")
    guard draws >= 1 else { throw EmberRuntimeError(.badOption, "must be at least 1, not \(draws)", at: "draws") }
    var stats = ConditionalStats()
    guard n > 0 else { return stats }
    let d = width
    let f = model.features.count
    let props = proposals()
    let workers = EmberSession.workers(threads)
    let blocks = (0..<workers).map { _ in ConditionalBlock(energy, proposals: props, batch: EmberSession.conditionalBatch) }
    for c in 0..<n {
      if let classes, classes[c] >= classCount {
        throw EmberRuntimeError(.unknownClass, "row \(firstRow + c): class index \(classes[c]) is out of range")
      }
    }

    // 1. Patterns per (row, class), and each unknown row's class posterior (parallel over rows).
    var patterns = [[ConditionalPattern?]](repeating: [ConditionalPattern?](repeating: nil, count: classCount), count: n)
    var logPosterior = [[Double]](repeating: [], count: n)
    let known: (Int) -> Int? = { r in
      guard let classes, classes[r] >= 0 else { return nil }
      return Int(classes[r])
    }
    patterns.withUnsafeMutableBufferPointer { pats in
      logPosterior.withUnsafeMutableBufferPointer { post in
        let pp = UncheckedPointer(pats.baseAddress!)
        let lp = UncheckedPointer(post.baseAddress!)
        Parallel.forEach(n, threads: workers) { r in
          let block = blocks[r % workers]
          let candidates = known(r).map { [$0] } ?? Array(0..<self.classCount)
          var weights = [Double](repeating: -.infinity, count: self.classCount)
          for c in candidates {
            let pattern = EmberSession.imputePattern(
              self.model.features, missing: missing + r * f, proposal: props[c])
            pp.value[r][c] = pattern
            guard candidates.count > 1 else { continue }
            var rng = RandomSource(seed: seed, stream: EmberSession.imputeProbeTag | UInt64(firstRow + r), UInt64(c))
            let probes = pattern.freeCount == 0 && pattern.groups.isEmpty ? 1 : EmberSession.rowProbes
            weights[c] = block.logMarginal(
              classIndex: c, proposal: props[c], pattern: pattern, row: rows + r * d, probes: probes, rng: &rng)
              + Double(self.energy.logPriors[c])
          }
          if candidates.count > 1, weights.allSatisfy({ !$0.isFinite }) {
            weights = self.energy.logPriors.map(Double.init)  // no probe landed: fall back to priors
          }
          lp.value[r] = weights
        }
      }
    }

    // 2. Each imputation's class, drawn first on its own stream; chains grouped by class.
    let total = n * draws
    var rngs = [RandomSource]()
    rngs.reserveCapacity(total)
    var chainClass = [Int](repeating: 0, count: total)
    for r in 0..<n {
      for t in 0..<draws {
        var rng = RandomSource(seed: seed, stream: EmberSession.imputeTag | UInt64(firstRow + r), UInt64(t))
        if let c = known(r) {
          chainClass[r * draws + t] = c
        } else {
          chainClass[r * draws + t] = EmberSession.pick(logPosterior[r], &rng)
        }
        rngs.append(rng)
      }
    }
    for r in 0..<n {
      for t in 0..<draws { (out + (r * draws + t) * d).update(from: rows + r * d, count: d) }
    }
    // 3. Chains of each class in blocks, in parallel; each writes its own rows.
    let b = EmberSession.conditionalBatch
    for c in 0..<classCount {
      let chains = (0..<total).filter { chainClass[$0] == c }
      guard !chains.isEmpty else { continue }
      let pieces = (chains.count + b - 1) / b
      let used = Swift.min(workers, pieces)
      var pieceStats = [ConditionalStats](repeating: ConditionalStats(), count: pieces)
      rngs.withUnsafeMutableBufferPointer { rp in
        pieceStats.withUnsafeMutableBufferPointer { sp in
          let rngPointer = UncheckedPointer(rp.baseAddress!)
          let statsPointer = UncheckedPointer(sp.baseAddress!)
          let outPointer = UncheckedPointer(out)
          Parallel.forEach(pieces, threads: used) { p in
            let slice = Array(chains[(p * b)..<Swift.min(chains.count, (p + 1) * b)])
            let block = blocks[p % used]
            var scratch = [Float](repeating: 0, count: slice.count * d)
            for (i, chain) in slice.enumerated() {
              for j in 0..<d { scratch[i * d + j] = outPointer.value[chain * d + j] }
            }
            var local = slice.map { rngPointer.value[$0] }
            let pats = slice.map { patterns[$0 / draws][c]! }
            scratch.withUnsafeMutableBufferPointer {
              block.run(classIndex: c, proposal: props[c], patterns: pats, rows: $0.baseAddress!, rngs: &local, sweeps: sweeps)
            }
            for (i, chain) in slice.enumerated() {
              for j in 0..<d { outPointer.value[chain * d + j] = scratch[i * d + j] }
            }
            statsPointer.value[p] = block.stats
          }
        }
      }
      for s in pieceStats { stats.merge(s) }
    }
    if let outClasses { for i in 0..<total { outClasses[i] = Int32(chainClass[i]) } }
    return stats
  }

  /// The free parts of a row with these missing features: numeric slots unbounded, categorical
  /// groups over every category.
  static func imputePattern(_ features: [FeatureSpec], missing: UnsafePointer<Bool>, proposal: MixtureProposal) -> ConditionalPattern {
    var free: [Int] = []
    var groups: [ConditionalPattern.FreeGroup] = []
    for (f, spec) in features.enumerated() where missing[f] {
      if spec.kind == .categorical {
        groups.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: Array(0..<spec.slotCount)))
      } else {
        free.append(spec.slotOffset)
      }
    }
    let open = [Double](repeating: .infinity, count: free.count)
    return ConditionalPattern(proposal: proposal, free: free, lower: open.map { -$0 }, upper: open, groups: groups)
  }

  /// An index drawn with probability ∝ e^{w_i}.
  static func pick(_ logWeights: [Double], _ rng: inout RandomSource) -> Int {
    let top = logWeights.max() ?? 0
    var total = 0.0
    for w in logWeights { total += Double.exp(w - top) }
    var u = rng.nextUniform() * total
    for (i, w) in logWeights.enumerated() {
      u -= Double.exp(w - top)
      if u < 0 { return i }
    }
    return logWeights.lastIndex { $0.isFinite } ?? 0
  }
}

/// A pointer handed to parallel workers that write disjoint elements.
struct UncheckedPointer<T>: @unchecked Sendable {
  let value: UnsafeMutablePointer<T>
  init(_ value: UnsafeMutablePointer<T>) { self.value = value }
}

extension RowEncoder {
  /// Which features of a row are missing: a missing-value token (``MissingValue``), or a
  /// category the model does not know when unknown categories are read as missing. O(F).
  public func missing<S: StringProtocol>(_ fields: [S]) -> [Bool] {
    features.indices.map { f in
      let spec = features[f]
      let column = columns[f]
      guard column < fields.count else { return true }
      let text = Substring(fields[column]).trimmingSpaces()
      if MissingValue.isMissing(text) { return true }
      return spec.kind == .categorical && unknownCategories == .missing && !spec.categories.contains(String(text))
    }
  }
}

import EmberFormat

/// Imputation: missing cells filled from a class's energy conditioned on the observed cells
/// (``ConditionalBlock``), the class given by the row's label or weighed by the model's
/// posterior given what is observed.
extension EmberSession {
  /// Chains per (row, class) behind a point imputation.
  public static let pointChains = 8
  /// Importance draws per class when weighing the classes of one row for a point imputation.
  public static let pointProbes = 256
  /// Classes whose posterior weight for a row is below this share are left out of its point
  /// imputation (the others' weights renormalised).
  static let pointMinimumWeight = 1e-3
  static let pointTag: UInt64 = 0x504F_494E << 32

  /// Fills missing cells: a point imputation of each of `n` rows (`draws` nil), or `draws`
  /// conditional draws of each (multiple imputation).
  ///
  /// - Parameters:
  ///   - rows: n×d encoded rows as the encoder wrote them (missing cells hold their impute
  ///     value, which is ignored).
  ///   - missing: n×F flags, true where feature f of row r is missing.
  ///   - classes: n class indices, or nil / −1 when a row's class is unknown: its classes are
  ///     then weighed by p(c | observed cells) ∝ π_c ∫ e^{−E_c} dx_missing (importance sampling
  ///     from the base's conditional; for a point imputation ``pointProbes`` draws per class,
  ///     stratified over the missing categories, for draws ``rowProbes`` draws with categories
  ///     at random; stream (seed, impute-probe tag | row, c)).
  ///   - firstRow: the global index of row 0 (streams are keyed by global row index, so a file
  ///     processed in chunks gives the same bytes as one processed at once).
  ///   - draws: nil for a point imputation; else the draws per row (≥ 1).
  ///   - out: n×d encoded rows (point) or n×draws×d (row-major by row, then draw); observed
  ///     cells unchanged.
  ///   - outClasses: n (point) or n×draws class indices (may be nil).
  ///
  /// **Point imputation** (what a single-value imputer returns): every missing numeric cell is
  /// its conditional mean Σ_c p(c | observed) E_c[x | observed] and every missing categorical
  /// cell its most probable category under Σ_c p(c | observed) P_c(category | observed); an
  /// unknown label is the most probable class. Each E_c and P_c is the average, over
  /// ``pointChains`` chains of `sweeps` sweeps whose first third is burn-in, of
  /// Rao–Blackwellised estimates (see ``ConditionalBlock/addNumeric(_:slot:proposed:alpha:)``),
  /// numeric values clipped to the training range as decoding clips a draw; classes of weight
  /// below ``pointMinimumWeight`` are skipped. Chain k of row r and class c runs on the stream
  /// (seed, point tag | r, c·2³² + k).
  ///
  /// **Draws:** imputation t of row r draws its class from p(c | observed) (when unknown),
  /// then runs one chain of `sweeps` sweeps on the stream (seed, impute tag | r, t).
  ///
  /// Output depends only on the arguments, never on `threads`.
  public func impute(
    rows: UnsafePointer<Float>, missing: UnsafePointer<Bool>, classes: UnsafePointer<Int32>?, count n: Int, firstRow: Int = 0,
    draws: Int?, seed: UInt64, sweeps: Int = EmberSession.defaultSweeps, threads: Int = 1,
    into out: UnsafeMutablePointer<Float>, outClasses: UnsafeMutablePointer<Int32>? = nil
  ) throws(EmberRuntimeError) -> ConditionalStats {
    try checkSweeps(sweeps)
    try EmberSession.checkThreads(threads, option: "threads")
    if let draws, draws < 1 { throw EmberRuntimeError(.badOption, "must be at least 1, not \(draws)", at: "draws") }
    guard n > 0 else { return ConditionalStats() }
    for r in 0..<n {
      if let classes, classes[r] >= classCount {
        throw EmberRuntimeError(.unknownClass, "row \(firstRow + r): class index \(classes[r]) is out of range")
      }
    }
    let energy = conditioning()
    let props = proposals(energy)
    let workers = EmberSession.workers(threads)
    let blocks = (0..<workers).map { _ in ConditionalBlock(energy, proposals: props, batch: EmberSession.conditionalBatch) }
    let known: [Int?] = (0..<n).map { r in
      guard let classes, classes[r] >= 0 else { return nil }
      return Int(classes[r])
    }
    let (patterns, logPosterior) = imputePatterns(
      rows: rows, missing: missing, known: known, firstRow: firstRow, seed: seed,
      probes: draws == nil ? EmberSession.pointProbes : EmberSession.rowProbes, stratified: draws == nil, proposals: props,
      blocks: blocks)
    let job = ImputeJob(
      rows: rows, count: n, firstRow: firstRow, seed: seed, sweeps: sweeps, known: known, patterns: patterns,
      logPosterior: logPosterior, proposals: props, blocks: blocks, out: out, outClasses: outClasses)
    if let draws { return imputeDraws(job, draws: draws) }
    return imputePoints(job)
  }

  /// What both kinds of imputation share: the rows, each row's pattern per class and class
  /// posterior, and the chain blocks (one per worker).
  struct ImputeJob {
    let rows: UnsafePointer<Float>
    let count: Int
    let firstRow: Int
    let seed: UInt64
    let sweeps: Int
    let known: [Int?]
    let patterns: [[ConditionalPattern?]]
    let logPosterior: [[Double]]
    let proposals: [MixtureProposal]
    let blocks: [ConditionalBlock]
    let out: UnsafeMutablePointer<Float>
    let outClasses: UnsafeMutablePointer<Int32>?
  }

  /// Each row's pattern per candidate class (its label's, or every class) and, for a row of
  /// unknown class, log π_c + log ∫ e^{−E_c} dx_missing per class (`probes` importance draws,
  /// `stratified` over the missing categories' combinations; the priors when no draw of any
  /// class landed). Parallel over rows.
  private func imputePatterns(
    rows: UnsafePointer<Float>, missing: UnsafePointer<Bool>, known: [Int?], firstRow: Int, seed: UInt64, probes: Int,
    stratified: Bool, proposals props: [MixtureProposal], blocks: [ConditionalBlock]
  ) -> ([[ConditionalPattern?]], [[Double]]) {
    let n = known.count
    let d = width
    let f = model.features.count
    let workers = blocks.count
    var patterns = [[ConditionalPattern?]](repeating: [ConditionalPattern?](repeating: nil, count: classCount), count: n)
    var logPosterior = [[Double]](repeating: [], count: n)
    patterns.withUnsafeMutableBufferPointer { pats in
      logPosterior.withUnsafeMutableBufferPointer { post in
        let pp = UncheckedPointer(pats.baseAddress!)
        let lp = UncheckedPointer(post.baseAddress!)
        Parallel.forEach(n, threads: workers) { r in
          let block = blocks[r % workers]
          let candidates = known[r].map { [$0] } ?? Array(0..<self.classCount)
          var weights = [Double](repeating: -.infinity, count: self.classCount)
          for c in candidates {
            let pattern = EmberSession.imputePattern(self.model.features, missing: missing + r * f, proposal: props[c])
            pp.value[r][c] = pattern
            guard candidates.count > 1 else { continue }
            var rng = RandomSource(seed: seed, stream: EmberSession.imputeProbeTag | UInt64(firstRow + r), UInt64(c))
            let weighing = EmberSession.imputePattern(
              self.model.features, missing: missing + r * f, proposal: props[c], weighing: rows + r * d)
            let count = weighing.freeCount == 0 ? 1 : probes
            weights[c] = block.logMarginal(
              classIndex: c, proposal: props[c], pattern: weighing, row: rows + r * d, probes: count, rng: &rng,
              stratified: stratified)
              + Double(self.energy.logPriors[c])
          }
          if candidates.count > 1, weights.allSatisfy({ !$0.isFinite }) {
            weights = self.energy.logPriors.map(Double.init)  // no probe landed: fall back to priors
          }
          if candidates.count == 1 { weights[candidates[0]] = 0 }  // the only candidate: probability 1
          lp.value[r] = weights
        }
      }
    }
    return (patterns, logPosterior)
  }

  /// Runs chains of class c in batches spread over the job's blocks: chain k starts from
  /// states[k] (n×d, its final state written back), follows patterns[k] and draws from rngs[k].
  /// With `burnIn`, chain k's point estimates go to means[k·d …] (d values).
  private func runChains(
    _ job: ImputeJob, classIndex c: Int, patterns: [ConditionalPattern], states: UnsafeMutablePointer<Float>,
    rngs: UnsafeMutablePointer<RandomSource>, burnIn: Int?, means: UnsafeMutablePointer<Double>?
  ) -> ConditionalStats {
    let count = patterns.count
    let d = width
    let b = EmberSession.conditionalBatch
    let pieces = (count + b - 1) / b
    let used = Swift.min(job.blocks.count, pieces)
    var pieceStats = [ConditionalStats](repeating: ConditionalStats(), count: pieces)
    let sp = UncheckedPointer(states)
    let rp = UncheckedPointer(rngs)
    let mp = means.map { UncheckedPointer($0) }
    pieceStats.withUnsafeMutableBufferPointer { stats in
      let statsPointer = UncheckedPointer(stats.baseAddress!)
      Parallel.forEach(pieces, threads: used) { piece in
        let lo = piece * b
        let hi = Swift.min(count, lo + b)
        let block = job.blocks[piece % used]
        var local = Array(UnsafeBufferPointer(start: rp.value + lo, count: hi - lo))
        block.run(
          classIndex: c, proposal: job.proposals[c], patterns: Array(patterns[lo..<hi]), rows: sp.value + lo * d,
          rngs: &local, sweeps: job.sweeps, burnIn: burnIn)
        for i in 0..<(hi - lo) {
          rp.value[lo + i] = local[i]
          if let mp { for slot in 0..<d { mp.value[(lo + i) * d + slot] = block.pointEstimate(i, slot: slot) } }
        }
        statsPointer.value[piece] = block.stats
      }
    }
    var stats = ConditionalStats()
    for s in pieceStats { stats.merge(s) }
    return stats
  }

  /// `draws` conditional draws of each row: each imputation's class drawn first on its own
  /// stream, then one chain per imputation, chains grouped by class.
  private func imputeDraws(_ job: ImputeJob, draws: Int) -> ConditionalStats {
    let n = job.count
    let d = width
    let total = n * draws
    var rngs = [RandomSource]()
    rngs.reserveCapacity(total)
    var chainClass = [Int](repeating: 0, count: total)
    for r in 0..<n {
      for t in 0..<draws {
        var rng = RandomSource(seed: job.seed, stream: EmberSession.imputeTag | UInt64(job.firstRow + r), UInt64(t))
        chainClass[r * draws + t] = job.known[r] ?? EmberSession.pick(job.logPosterior[r], &rng)
        rngs.append(rng)
      }
    }
    var stats = ConditionalStats()
    for c in 0..<classCount {
      let chains = (0..<total).filter { chainClass[$0] == c }
      guard !chains.isEmpty else { continue }
      var states = [Float](repeating: 0, count: chains.count * d)
      var local = chains.map { rngs[$0] }
      for (k, chain) in chains.enumerated() {
        for j in 0..<d { states[k * d + j] = job.rows[(chain / draws) * d + j] }
      }
      let patterns = chains.map { job.patterns[$0 / draws][c]! }
      states.withUnsafeMutableBufferPointer { sp in
        local.withUnsafeMutableBufferPointer { rp in
          stats.merge(
            runChains(job, classIndex: c, patterns: patterns, states: sp.baseAddress!, rngs: rp.baseAddress!, burnIn: nil, means: nil))
        }
        for (k, chain) in chains.enumerated() { (job.out + chain * d).update(from: sp.baseAddress! + k * d, count: d) }
      }
    }
    if let outClasses = job.outClasses { for i in 0..<total { outClasses[i] = Int32(chainClass[i]) } }
    return stats
  }

  /// One point imputation per row (see ``impute(rows:missing:classes:count:firstRow:draws:seed:sweeps:threads:into:outClasses:)``).
  private func imputePoints(_ job: ImputeJob) -> ConditionalStats {
    let n = job.count
    let d = width
    let k = EmberSession.pointChains
    let weights = pointWeights(job)
    for block in job.blocks { setPointBounds(block) }
    // Σ_c w_c · (mean of class c's chains), per row and slot.
    var sums = [Double](repeating: 0, count: n * d)
    var stats = ConditionalStats()
    for c in 0..<classCount {
      let rowsOfClass = (0..<n).filter { r in
        guard weights[r][c] > 0, let pattern = job.patterns[r][c] else { return false }
        return pattern.freeCount > 0 || !pattern.groups.isEmpty
      }
      guard !rowsOfClass.isEmpty else { continue }
      let chains = rowsOfClass.count * k
      var states = [Float](repeating: 0, count: chains * d)
      var means = [Double](repeating: 0, count: chains * d)
      var rngs = [RandomSource]()
      rngs.reserveCapacity(chains)
      var patterns = [ConditionalPattern]()
      patterns.reserveCapacity(chains)
      for (q, r) in rowsOfClass.enumerated() {
        for t in 0..<k {
          for j in 0..<d { states[(q * k + t) * d + j] = job.rows[r * d + j] }
          rngs.append(
            RandomSource(seed: job.seed, stream: EmberSession.pointTag | UInt64(job.firstRow + r), UInt64(c) << 32 | UInt64(t)))
          patterns.append(job.patterns[r][c]!)
        }
      }
      states.withUnsafeMutableBufferPointer { sp in
        rngs.withUnsafeMutableBufferPointer { rp in
          means.withUnsafeMutableBufferPointer { mp in
            stats.merge(
              runChains(
                job, classIndex: c, patterns: patterns, states: sp.baseAddress!, rngs: rp.baseAddress!,
                burnIn: job.sweeps / 3, means: mp.baseAddress!))
          }
        }
      }
      for (q, r) in rowsOfClass.enumerated() {
        let share = weights[r][c] / Double(k)
        for t in 0..<k {
          for j in 0..<d { sums[r * d + j] += share * means[(q * k + t) * d + j] }
        }
      }
    }
    writePoints(job, weights: weights, sums: sums)
    return stats
  }

  /// Each row's class weights: its label's, or the posterior without the classes below
  /// ``pointMinimumWeight``, renormalised.
  private func pointWeights(_ job: ImputeJob) -> [[Double]] {
    (0..<job.count).map { r in
      var w = [Double](repeating: 0, count: classCount)
      if let c = job.known[r] {
        w[c] = 1
        return w
      }
      let top = job.logPosterior[r].max() ?? 0
      var total = 0.0
      for c in 0..<classCount {
        w[c] = Double.exp(job.logPosterior[r][c] - top)
        total += w[c]
      }
      for c in 0..<classCount { w[c] = w[c] / total >= EmberSession.pointMinimumWeight ? w[c] : 0 }
      let kept = w.reduce(0, +)
      for c in 0..<classCount { w[c] /= kept }
      return w
    }
  }

  /// The point rows: observed cells copied, free numeric slots their weighted mean (`sums`),
  /// free groups their likeliest category; each row's class its label or the likeliest.
  private func writePoints(_ job: ImputeJob, weights: [[Double]], sums: [Double]) {
    let d = width
    for r in 0..<job.count {
      let row = job.out + r * d
      row.update(from: job.rows + r * d, count: d)
      let c = job.known[r] ?? (0..<classCount).max { weights[r][$0] < weights[r][$1] } ?? 0
      job.outClasses?[r] = Int32(c)
      guard let pattern = job.patterns[r][c] else { continue }
      for slot in pattern.free { row[slot] = Float(sums[r * d + slot]) }
      for g in pattern.groups {
        var best = 0
        for s in 1..<Swift.max(g.count, 1) where sums[r * d + g.offset + s] > sums[r * d + g.offset + best] { best = s }
        for s in 0..<g.count { row[g.offset + s] = s == best ? 1 : 0 }
      }
    }
  }

  /// The block's point bounds: each numeric or integer feature's training range in encoded
  /// units (unbounded where the range is not finite or the scale is 0).
  private func setPointBounds(_ block: ConditionalBlock) {
    for spec in model.features where spec.kind != .categorical {
      let slot = spec.slotOffset
      guard spec.std > 0, spec.min.isFinite, spec.max.isFinite, spec.min <= spec.max else { continue }
      block.pointLower[slot] = (spec.min - spec.mean) / spec.std
      block.pointUpper[slot] = (spec.max - spec.mean) / spec.std
    }
  }

  /// The free parts of a row with these missing features: numeric slots unbounded, categorical
  /// groups over every category. With `weighing` (the encoded row itself): the pattern that
  /// weighs classes instead — every categorical slot a free numeric slot and each observed
  /// category a region (``ConditionSet/marginalPattern(proposal:)`` explains why).
  static func imputePattern(
    _ features: [FeatureSpec], missing: UnsafePointer<Bool>, proposal: MixtureProposal,
    weighing row: UnsafePointer<Float>? = nil
  ) -> ConditionalPattern {
    var free: [Int] = []
    var groups: [ConditionalPattern.FreeGroup] = []
    var regions: [ConditionalPattern.FreeGroup] = []
    for (f, spec) in features.enumerated() {
      if spec.kind == .categorical, let row {
        for s in 0..<spec.slotCount { free.append(spec.slotOffset + s) }
        guard !missing[f] else { continue }
        let observed = RowDecoder.largestSlot(row + spec.slotOffset, count: spec.slotCount)
        regions.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: [observed]))
      } else if missing[f] {
        if spec.kind == .categorical {
          groups.append(.init(offset: spec.slotOffset, count: spec.slotCount, allowed: Array(0..<spec.slotCount)))
        } else {
          free.append(spec.slotOffset)
        }
      }
    }
    let open = [Double](repeating: .infinity, count: free.count)
    return ConditionalPattern(
      proposal: proposal, free: free, lower: open.map { -$0 }, upper: open, groups: groups, regions: regions)
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

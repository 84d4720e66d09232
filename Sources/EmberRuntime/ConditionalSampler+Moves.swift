
/// The three moves of a sweep, over a batch of chains.
extension ConditionalBlock {
  func gibbsCategories(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    let groups = patterns.map { $0.groups.count }.max() ?? 0
    guard groups > 0 else { return }
    for g in 0..<groups {
      let choices = patterns.map { g < $0.groups.count ? $0.groups[g].allowed.count : 0 }.max() ?? 0
      guard choices > 1 else { continue }
      var logits = [Double](repeating: -.infinity, count: n * choices)
      for a in 0..<choices {
        copyStates(n)
        for i in 0..<n where g < patterns[i].groups.count && a < patterns[i].groups[g].allowed.count {
          let group = patterns[i].groups[g]
          let row = candidate.pointer + i * d
          for s in 0..<group.count { row[group.offset + s] = s == group.allowed[a] ? 1 : 0 }
        }
        evaluateCandidates(classIndex, n)
        for i in 0..<n where g < patterns[i].groups.count && a < patterns[i].groups[g].allowed.count {
          logits[i * choices + a] = -Double(candidateE.pointer[i])
        }
      }
      for i in 0..<n where g < patterns[i].groups.count && patterns[i].groups[g].allowed.count > 1 {
        let group = patterns[i].groups[g]
        let count = group.allowed.count
        var top = -Double.infinity
        for a in 0..<count { top = Swift.max(top, logits[i * choices + a]) }
        var total = 0.0
        for a in 0..<count { total += Double.exp(logits[i * choices + a] - top) }
        if accumulating {
          countGroup(i, offset: group.offset, count: group.count)
          for a in 0..<count {
            addCategory(i, slot: group.offset + group.allowed[a], probability: Double.exp(logits[i * choices + a] - top) / total)
          }
        }
        var u = rngs[i].nextUniform() * total
        var pick = count - 1
        for a in 0..<count {
          u -= Double.exp(logits[i * choices + a] - top)
          if u < 0 {
            pick = a
            break
          }
        }
        let row = x.pointer + i * d
        for s in 0..<group.count where row[group.offset + s] != 0 { set(i, slot: group.offset + s, to: 0, p) }
        set(i, slot: group.offset + group.allowed[pick], to: 1, p)
        e.pointer[i] = Float(-logits[i * choices + pick])
      }
    }
  }

  func blockStep(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    guard patterns.contains(where: { $0.freeCount > 0 }) else { return }
    copyStates(n)
    var inside = [Bool](repeating: false, count: n)
    for i in 0..<n where patterns[i].freeCount > 0 {
      inside[i] = proposeBlock(i, patterns[i], p, &rngs[i])
      let row = candidate.pointer + i * d
      for a in 0..<patterns[i].freeCount { row[patterns[i].free[a]] = Float(y[i * d + a]) }
    }
    evaluateCandidates(classIndex, n)
    for i in 0..<n where patterns[i].freeCount > 0 {
      stats.blockProposals += 1
      // The uniform is drawn whatever the outcome, so the stream does not depend on it.
      let ok = accepts(i, &rngs[i])
      if accumulating {
        let alpha = inside[i] ? acceptance(i) : 0
        for a in 0..<patterns[i].freeCount { addNumeric(i, a, patterns[i], proposed: y[i * d + a], alpha: alpha) }
      }
      guard inside[i], ok else { continue }
      acceptBlock(i, patterns[i], p)
      e.pointer[i] = candidateE.pointer[i]
      stats.blockAccepted += 1
    }
  }

  func coordinateSteps(_ classIndex: Int, _ patterns: [ConditionalPattern], _ p: MixtureProposal, _ rngs: inout [RandomSource]) {
    let n = patterns.count
    let most = patterns.map { $0.freeCount }.max() ?? 0
    for a in 0..<most {
      copyStates(n)
      var proposed = [Float](repeating: 0, count: n)
      for i in 0..<n where a < patterns[i].freeCount {
        proposed[i] = proposeCoordinate(i, a, patterns[i], p, &rngs[i])
        candidate.pointer[i * d + patterns[i].free[a]] = proposed[i]
      }
      evaluateCandidates(classIndex, n)
      for i in 0..<n where a < patterns[i].freeCount {
        stats.coordinateProposals += 1
        if accumulating { addNumeric(i, a, patterns[i], proposed: Double(proposed[i]), alpha: acceptance(i)) }
        guard accepts(i, &rngs[i]) else { continue }
        set(i, slot: patterns[i].free[a], to: proposed[i], p)
        e.pointer[i] = candidateE.pointer[i]
        stats.coordinateAccepted += 1
      }
    }
  }
}

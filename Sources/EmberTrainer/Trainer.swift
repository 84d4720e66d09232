import EmberFormat
import EmberRuntime
import Foundation

/// The trainer's entry point, shared by `ember train` and the evaluation harness.
///
/// A run: read the CSV, fit the feature encodings (or take those of the `--add-to` model),
/// split every class into training rows and a stratified held-out share, train one network per
/// class in parallel (each class with its own RNG seeded from (seed, class index), so results
/// do not depend on scheduling), then calibrate on the held-out rows only. The shipped networks
/// are the ones trained on the training share — the calibration tables describe exactly them.
public enum Trainer {
  /// Reads `csvPath` and trains. See ``train(table:options:progress:)``.
  public static func train(
    csvPath: String, options: TrainingOptions, progress: (@Sendable (TrainingProgress) -> Void)? = nil
  ) throws -> (ModelSpec, TrainingSummary) {
    let t0 = Clock.now()  // the time budget counts the reading too
    let source = try CSVFileSource(path: csvPath)
    return try train(source: source, options: options, progress: progress, budgetStart: t0)
  }

  /// Trains a model of `table`. Throws ``TrainerError`` (data, options) or ``EmberFormatError``
  /// (an unreadable `--add-to` model).
  public static func train(
    table: CSVTable, options: TrainingOptions, progress: (@Sendable (TrainingProgress) -> Void)? = nil
  ) throws -> (ModelSpec, TrainingSummary) {
    try train(source: table, options: options, progress: progress, budgetStart: Clock.now())
  }

  /// ``train(table:options:progress:)`` for a table that took `secondsSpent` to read: the
  /// time budget (`options.maxSeconds`) counts them too.
  public static func train(
    table: CSVTable, options: TrainingOptions, secondsSpent: Double,
    progress: (@Sendable (TrainingProgress) -> Void)? = nil
  ) throws -> (ModelSpec, TrainingSummary) {
    try train(source: table, options: options, progress: progress, budgetStart: Clock.now() - max(0, secondsSpent))
  }

  /// Trains on the rows of `source` (read in streaming passes), with the time budget counted
  /// from `budgetStart` (a ``Clock`` reading).
  static func train<S: TableSource>(
    source: S, options: TrainingOptions, progress: (@Sendable (TrainingProgress) -> Void)?, budgetStart: Double
  ) throws -> (ModelSpec, TrainingSummary) {
    let started = Date()
    // Class fitting gets 90% of the time budget; the read-out, calibration and writing the rest.
    let fitDeadline = options.maxSeconds.map { budgetStart + 0.9 * $0 }
    try check(options)
    let base = try options.addTo.map { try EmberModel(path: $0) }
    let reading: ReadingReport? = progress.map { report in
      { pass, rows, done in
        var p = TrainingProgress(reading: pass, rows: rows)
        p.finished = done
        report(p)
      }
    }
    // Classes of the extended model are not trained: every one of their rows is scored.
    let cap = RowCap(
      limit: options.settings.maxClassRows, seed: options.seed, uncapped: Set(base?.classes.map(\.label) ?? []))
    let data: EncodedData
    if let base {
      guard base.target == options.target else {
        throw TrainerError(
          .incompatibleModel, "the model's target column is \"\(base.target)\", not \"\(options.target)\"",
          file: options.addTo ?? "")
      }
      data = try Preprocessor.encode(
        source, target: options.target, features: base.features, minClassRows: options.minClassRows, cap: cap,
        reading: reading)
    } else {
      data = try Preprocessor.fit(
        source, target: options.target, overrides: options.overrides, minClassRows: options.minClassRows, cap: cap,
        reading: reading)
    }
    let d = data.width
    let existing = base?.classes.map(\.label) ?? []
    let toTrain = data.classLabels.indices.filter { !existing.contains(data.classLabels[$0]) }
    guard !toTrain.isEmpty else {
      throw TrainerError(.incompatibleModel, "every class of the CSV is already in the model", file: options.addTo ?? "")
    }

    // Rows each class is fitted on (data.classRows): all of them, or a seeded subsample beyond
    // the row cap, chosen before the encoding pass.
    var warnings = data.warnings
    for c in toTrain where data.heldRows(c) < data.classCounts[c] {
      warnings.append(
        "class \"\(data.classLabels[c])\": fitted on a random \(data.heldRows(c)) of its \(data.classCounts[c]) rows (--max-class-rows; the prior counts all rows)")
    }

    // Fit the new classes in parallel: base, residual network and scale, chosen on held-out
    // rows (cross-fitting for small classes, one split for large ones).
    let fits = try fitClasses(toTrain, data: data, options: options, deadline: fitDeadline, progress: progress)
    let outOfTime = toTrain.indices.filter { fits[$0].outOfTime }.map { data.classLabels[toTrain[$0]] }

    // Assemble the classes: kept ones first (byte-identical), then the new ones.
    var classes: [ClassSpec] = (0..<(base?.classes.count ?? 0)).map { base!.classSpec($0) }
    // Chosen on the evaluation's TUNING half (docs/TUNING.md). Without stored rows (the
    // default): chains start from the base and take 100 independence Metropolis–Hastings
    // proposals from it — exact for the fitted energy, no step size to tune; T = 1 (round 6:
    // tempered base starts, T 0.4–0.8, gained nothing clear with the class filter). With
    // --keep-starting-rows: SMOTE-style starts between a stored row and a near neighbour, then
    // 10 Langevin steps at T = 1.
    let sampler =
      options.storeStartingRows
      ? SamplerDefaults(
        kind: .langevin, steps: 10, stepSize: 0.01, noiseScale: -1, temperature: 1, initNoise: 0.01, gradClip: 50,
        initialization: .interpolate)
      : SamplerDefaults(
        kind: .langevin, steps: 0, stepSize: 0.01, noiseScale: -1, temperature: 1, initNoise: 0, gradClip: 50,
        initialization: .base, proposals: 100)
    for (k, c) in toTrain.enumerated() {
      let fit = fits[k]
      classes.append(
        ClassSpec(
          label: data.classLabels[c], prior: 1, trainRows: fit.trainedRows.count, layers: fit.net?.layerSpecs() ?? [],
          output: .logOdds, base: fit.base.baseSpec, networkScale: Float(fit.scale), sampler: sampler,
          startingRows: options.storeStartingRows ? data.classRows[c] : nil))
    }
    // Priors: each new class's share of the rows (kept classes count their training rows).
    let keptCount = base?.classes.count ?? 0
    let weights = classes.indices.map { j in
      j < keptCount ? Double(classes[j].trainRows) : Double(data.classCounts[toTrain[j - keptCount]])
    }
    let totalWeight = weights.reduce(0, +)
    for i in classes.indices { classes[i].prior = weights[i] / totalWeight }
    let priors = classes.map(\.prior)

    // Held-out rows: the held-out rows of each new class (every row when cross-fitted), and
    // every row of classes already in the model (not trained on in this run). Energies are
    // those of the shipped models, except a new class's own energy of its own rows, which
    // comes from the fold model that did not see the row.
    var heldout: [(c: Int, row: Int)] = []
    var truth: [Int] = []
    var ownEnergy: [Double?] = []
    for (c, label) in data.classLabels.enumerated() {
      guard let j = classes.firstIndex(where: { $0.label == label }) else { continue }
      if let k = toTrain.firstIndex(of: c) {
        for h in fits[k].heldout {
          heldout.append((c, h.row))
          truth.append(j)
          ownEnergy.append(h.energy)
        }
      } else {
        heldout += (0..<data.heldRows(c)).map { (c, $0) }
        truth += [Int](repeating: j, count: data.heldRows(c))
        ownEnergy += [Double?](repeating: nil, count: data.heldRows(c))
      }
    }
    var hx = [Float]()
    hx.reserveCapacity(heldout.count * d)
    for (c, r) in heldout { hx += data.classRows[c][(r * d)..<((r + 1) * d)] }
    progress?(TrainingProgress(stage: .calibration, step: 0, steps: heldout.count, classCount: toTrain.count))
    var energies = try heldoutEnergies(
      ModelSpec(target: options.target, features: data.features, classes: classes), rows: hx, count: heldout.count)
    for i in heldout.indices { if let e = ownEnergy[i] { energies[truth[i]][i] = e } }
    for k in toTrain.indices {
      let j = keptCount + k
      let own = heldout.indices.filter { truth[$0] == j }.map { energies[j][$0] }
      classes[j].calibration = Calibrator.table(own)
    }
    // Classification read-out: T and per-class offsets fitted on the held-out rows (new
    // classes' offsets only when extending a model). The reported balanced accuracy is
    // cross-fitted: offsets fitted on one half of the held-out rows predict the other half.
    let logPriors = priors.map { log($0) }
    let start = Calibrator.Readout(
      temperature: Double(base?.temperature ?? 1), offsets: classes.map { Double($0.offset) })
    let free = classes.indices.map { $0 >= keptCount }
    let fitT = base == nil
    let rawPredicted = Calibrator.predict(
      energies: energies, rows: Array(heldout.indices), logPriors: logPriors, readout: start)
    let rawBalanced = Calibrator.balancedAccuracy(predicted: rawPredicted, truth: truth, classes: classes.count)
    var readout = start
    var balanced = rawBalanced
    var stacked: StackedReadout? = nil
    var readoutNote = options.fitReadout ? "temperature and offsets fitted on held-out rows" : "raw energies"
    if options.fitReadout && options.stackedReadout && classes.count > Trainer.linearReadoutMaxClasses {
      warnings.append(
        "no stacked read-out: \(classes.count) classes (beyond \(Trainer.linearReadoutMaxClasses), its C×(C+d) regression costs more than it adds); temperature and offsets are used")
    }
    if options.fitReadout && classes.count > 1 && !heldout.isEmpty {
      // Read-outs are fitted on at most `readoutRows` held-out rows: the same share of every
      // class (so the fitted offsets see the classes' true proportions).
      let fitRows = proportionalSubset(truth, classes: classes.count, limit: options.readoutRows)
      let fitEnergies = energies.map { e in fitRows.map { e[$0] } }
      let fitTruth = fitRows.map { truth[$0] }
      let choice = chooseReadout(
        energies: fitEnergies, inputs: fitRows.map { Array(hx[($0 * d)..<(($0 + 1) * d)]) },
        truth: fitTruth, classes: classes.count, logPriors: logPriors, start: start, free: free, fitTemperature: fitT,
        tryLinear: options.stackedReadout, threads: workerCount(options)
      ) { fit, fits in progress?(TrainingProgress(stage: .readout, step: fit, steps: fits, classCount: toTrain.count)) }
      balanced = choice.balanced
      readoutNote = choice.note
      if fitRows.count < heldout.count { readoutNote += "; fitted on \(fitRows.count) of the \(heldout.count) held-out rows" }
      stacked = choice.stacked
      readout = Calibrator.fitReadout(
        energies: fitEnergies, truth: fitTruth, rows: Array(fitRows.indices), logPriors: logPriors, start: start,
        free: free, fitTemperature: fitT)
      for j in classes.indices where free[j] { classes[j].offset = Float(readout.offsets[j]) }
    }
    let temperature = fitT ? Float(readout.temperature) : (base?.temperature ?? 1)
    // Held-out scores by the runtime's own formula (EnergyReadout.score, in Float, as a device
    // computes them).
    let scoring = EnergyReadout(
      logPriors: priors.map { Float(log($0)) }, offsets: classes.map(\.offset), temperature: temperature, stacked: nil,
      width: d)
    var row = [Float](repeating: 0, count: classes.count)
    let scores = heldout.indices.map { i -> Double in
      for j in classes.indices { row[j] = Float(energies[j][i]) }
      return Double(row.withUnsafeBufferPointer { scoring.score($0.baseAddress!) })
    }
    var aurocs: [Double] = []
    for j in classes.indices {
      let inside = heldout.indices.filter { truth[$0] == j }.map { energies[j][$0] }
      let outside = heldout.indices.filter { truth[$0] != j }.map { energies[j][$0] }
      let a = Calibrator.auroc(positive: outside, negative: inside)
      if !a.isNaN { aurocs.append(a) }
    }
    let auroc = aurocs.isEmpty ? Double.nan : aurocs.reduce(0, +) / Double(aurocs.count)

    let seconds = Date().timeIntervalSince(started)
    let reproducible = options.sourceDateEpoch != nil
    let s = options.settings
    var metadata = base?.metadata ?? [:]
    if metadata["target_position"] == nil, let t = source.header.firstIndex(of: options.target) {
      // Where `ember sample` puts the target column: after the features that precede it in
      // the training CSV, so samples have the training file's column order.
      let names = Set(data.features.map(\.name))
      metadata["target_position"] = String(source.header[..<t].filter { names.contains($0) }.count)
    }
    metadata["trainer.heldout_fraction"] = String(options.heldoutFraction)
    metadata["trainer.hidden"] = s.hidden.isEmpty ? "by class size (32, 64 or 128 units × 2)" : s.hidden.map(String.init).joined(separator: ",")
    metadata["trainer.activation"] = s.activation.description
    metadata["trainer.epochs"] = String(s.epochs)
    metadata["trainer.gradient_penalty"] = "\(s.gradientPenalty) (finite-difference estimate, step \(s.penaltyStep))"
    metadata["trainer.heldout_balanced_accuracy_raw"] = rawBalanced.isNaN ? "nan" : String(format: "%.4f", rawBalanced)
    if options.refit { metadata["trainer.refit"] = "large classes refit on all rows; calibration from the held-out split" }
    for (k, c) in toTrain.enumerated() {
      let f = fits[k]
      let key = "trainer.class.\(data.classLabels[c])"
      metadata[key] = String(
        format: "folds %d, base %d component(s) ridge %g, steps %d, scale %.3f, held-out log-likelihood %.4f (base %.4f)",
        f.folds, f.baseChoice.components, f.baseChoice.ridge, f.steps, f.scale, f.heldoutLL, f.heldoutBaseLL)
    }
    metadata["trainer.readout"] = readoutNote
    if let budget = options.maxSeconds {
      metadata["trainer.max_seconds"] =
        TrainingSummary.seconds(budget)
        + (outOfTime.isEmpty
          ? "; every class finished in time"
          : "; stopped early at the best held-out checkpoint reached in time: " + outOfTime.joined(separator: ","))
    }
    if base != nil {
      metadata["trainer.added_classes"] = toTrain.map { data.classLabels[$0] }.joined(separator: ",")
    }
    let spec = ModelSpec(
      provenance: Provenance(
        producer: "ember train", producerVersion: options.producerVersion,
        source: URL(fileURLWithPath: source.file).lastPathComponent, sourceRows: data.sourceRows, seed: options.seed,
        objective: s.objective.rawValue, command: options.command,
        created: options.sourceDateEpoch ?? Int64(Date().timeIntervalSince1970),
        trainSeconds: reproducible ? 0 : seconds, heldoutBalancedAccuracy: balanced, heldoutOODAUROC: auroc),
      target: options.target, features: data.features, classes: classes, temperature: temperature,
      scoreCalibration: Calibrator.table(scores), metadata: metadata, readout: stacked)
    let summary = TrainingSummary(
      classes: classes.enumerated().map { j, c in
        let cIndex = data.classLabels.firstIndex(of: c.label)
        let trained = j >= (base?.classes.count ?? 0)
        return TrainingSummary.ClassLine(
          label: c.label, trainRows: c.trainRows,
          heldoutRows: cIndex.map { i in trained ? fits[toTrain.firstIndex(of: i)!].heldout.count : data.classCounts[i] } ?? 0,
          trained: trained,
          threshold: c.calibration?.threshold)
      },
      sourceRows: data.sourceRows, width: d, seconds: seconds, balancedAccuracy: balanced,
      rawBalancedAccuracy: rawBalanced, temperature: Double(temperature), oodAUROC: auroc,
      heldoutRows: heldout.count, warnings: warnings, outOfTime: outOfTime, maxSeconds: options.maxSeconds)
    return (spec, summary)
  }

  /// The read-out, fitted on the held-out rows (every row of a cross-fitted class). With
  /// `tryLinear` (and at most ``linearReadoutMaxClasses`` classes): a multinomial regression on
  /// the negative energies and the encoded row, all weights under one plain L2 penalty
  /// (``linearReadoutPenalty``) — on the tuning half it beat the generative read-out and every
  /// regression pulled towards it, and choosing among them by cross-validation on a few dozen
  /// rows chose worse than this fixed rule (docs/TUNING.md). Otherwise: temperature and
  /// per-class offsets on the energies (the generative read-out). Returns the read-out's
  /// cross-fitted balanced accuracy (2–5 folds, stratified) too.
  static func chooseReadout(
    energies: [[Double]], inputs: [[Float]], truth: [Int], classes: Int, logPriors: [Double],
    start: Calibrator.Readout, free: [Bool], fitTemperature: Bool, tryLinear: Bool, threads: Int = 1,
    report: (Int, Int) -> Void = { _, _ in }
  ) -> (balanced: Double, stacked: StackedReadout?, note: String) {
    let n = truth.count
    let perClass = (0..<classes).map { c in truth.filter { $0 == c }.count }
    let linear = tryLinear && classes <= Trainer.linearReadoutMaxClasses
    // A class with a single held-out row still takes part: it sits in one of (at least) two folds.
    let k = min(5, max(2, perClass.min() ?? 0))
    guard n >= 4 else {
      let predicted = Calibrator.predict(energies: energies, rows: Array(0..<n), logPriors: logPriors, readout: start)
      return (
        Calibrator.balancedAccuracy(predicted: predicted, truth: truth, classes: classes), nil,
        "temperature and offsets (too few held-out rows per class to cross-fit a read-out)"
      )
    }
    var fold = [Int](repeating: 0, count: n)
    var seen = [Int](repeating: 0, count: classes)
    for i in 0..<n {
      fold[i] = seen[truth[i]] % k
      seen[truth[i]] += 1
    }
    let features = (0..<n).map { i in energies.indices.map { -energies[$0][i] } + inputs[i].map(Double.init) }
    var logits = [[Double]](repeating: [], count: n)
    let fits = k + (linear ? 1 : 0)
    // The folds' fits and the shipped one are independent: run on `threads` workers, each
    // writing its own slot, so the result does not depend on the thread count.
    let jobs = ParallelSlots<([(Int, [Double])], Calibrator.LinearFit?)>(count: fits)
    let done = ParallelSlots<Bool>(count: 1)
    jobs.run(threads: threads) { f in
      let fitRows = f < k ? (0..<n).filter { fold[$0] != f } : Array(0..<n)
      let testRows = f < k ? (0..<n).filter { fold[$0] == f } : []
      var out: [(Int, [Double])] = []
      var shipped: Calibrator.LinearFit? = nil
      if linear {
        let lambda = Trainer.linearReadoutPenalty(rows: fitRows.count)
        let fit = Calibrator.fitLinear(
          features: features, truth: truth, rows: fitRows, classes: classes, lambda: lambda, standardised: classes)
        for i in testRows { out.append((i, fit.logits(features[i]))) }
        if f == k { shipped = fit }
      } else {
        let r = Calibrator.fitReadout(
          energies: energies, truth: truth, rows: fitRows, logPriors: logPriors, start: start, free: free,
          fitTemperature: fitTemperature)
        for i in testRows {
          out.append((i, (0..<classes).map { -energies[$0][i] / r.temperature + logPriors[$0] + r.offsets[$0] }))
        }
      }
      done.withLock { report(jobs.finished(), fits) }
      return (out, shipped)
    }
    let results = jobs.all()
    for (rows, _) in results { for (i, l) in rows { logits[i] = l } }
    let predicted = logits.map { l in l.indices.max { l[$0] < l[$1] }! }
    let balanced = Calibrator.balancedAccuracy(predicted: predicted, truth: truth, classes: classes)
    guard linear, let fit = results[k].1 else { return (balanced, nil, "temperature and offsets fitted on held-out rows") }
    let note = "multinomial regression on the energies and the encoded row (L2 penalty min(0.01, 0.5/rows)), fitted on held-out rows"
    return (balanced, Calibrator.stackedReadout(fit, classes: classes, width: inputs.first?.count), note)
  }

  /// L2 penalty of the linear read-out on the mean log-loss of `rows` rows (standardised
  /// energies): 0.01 up to 50 rows (chosen on the tuning half, docs/TUNING.md), then 0.5/rows —
  /// a fixed penalty on the *summed* loss (scikit-learn's default C = 1), so that the evidence of
  /// many rows is not shrunk as if there were fifty (docs/TRAINING.md §4).
  public static func linearReadoutPenalty(rows: Int) -> Double {
    min(0.01, 0.5 / Double(max(rows, 1)))
  }

  /// Most classes for which the linear (stacked, hybrid) read-outs are tried.
  public static let linearReadoutMaxClasses = 50

  static func check(_ o: TrainingOptions) throws {
    let s = o.settings
    guard s.hidden.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
      throw TrainerError(.badOption, "--hidden needs one or more widths in 1…4096")
    }
    guard s.epochs >= 0 else { throw TrainerError(.badOption, "--epochs must be ≥ 0") }
    guard s.learningRate > 0, s.learningRate.isFinite else { throw TrainerError(.badOption, "--lr must be > 0") }
    guard s.weightDecay >= 0, s.weightDecay.isFinite else { throw TrainerError(.badOption, "--weight-decay must be ≥ 0") }
    guard o.minClassRows >= 1 else { throw TrainerError(.badOption, "--min-class-rows must be ≥ 1") }
    guard o.heldoutFraction >= 0, o.heldoutFraction <= 0.5 else {
      throw TrainerError(.badOption, "the held-out fraction must be in [0, 0.5]")
    }
    guard o.threads >= 0 else { throw TrainerError(.badOption, "--threads must be ≥ 0") }
  }

  /// Energies `[class][row]` of `n` encoded rows, computed through the runtime's session
  /// (`Evaluator`, finite by its non-finite policy) on the serialised model — exactly what a
  /// device computes from the file.
  static func heldoutEnergies(_ spec: ModelSpec, rows x: [Float], count n: Int) throws -> [[Double]] {
    guard n > 0 else { return spec.classes.map { _ in [] } }
    let session: EmberSession
    do {
      session = try EmberSession(EmberModel(bytes: try ModelWriter.serialize(spec)))
    } catch let e as EmberRuntimeError {
      throw TrainerError(.notEnoughData, "the trained model cannot be evaluated: \(e)")
    }
    let c = spec.classes.count
    var flat = [Float](repeating: 0, count: n * c)
    x.withUnsafeBufferPointer { xp in
      flat.withUnsafeMutableBufferPointer { Evaluator(session).energies(rows: xp.baseAddress!, count: n, into: $0.baseAddress!) }
    }
    return (0..<c).map { j in (0..<n).map { Double(flat[$0 * c + j]) } }
  }

  /// `rows` (ascending), or a seeded random `limit` of them in ascending order when there are
  /// more: a partial Fisher–Yates shuffle on its own stream (seed, class), so the subsample
  /// does not depend on other classes or on scheduling, and the class's training generator is
  /// the same as without a limit.
  static func subsample(_ rows: [Int], limit: Int, seed: UInt64, classIndex c: Int) -> [Int] {
    subsamplePositions(count: rows.count, limit: limit, seed: seed, classIndex: c).map { $0.map { rows[$0] }.sorted() } ?? rows
  }

  /// The positions (ascending) among a class's `count` rows that ``subsample(_:limit:seed:classIndex:)``
  /// keeps, or nil for all of them. A partial Fisher–Yates shuffle of 0..<count that stores only
  /// the displaced entries, so it needs O(limit) memory whatever the class's size; the positions
  /// are known before the encoding pass, which encodes only those rows.
  static func subsamplePositions(count: Int, limit: Int, seed: UInt64, classIndex c: Int) -> [Int]? {
    guard limit > 0, count > limit else { return nil }
    var rng = TrainerRandom(seed: seed, stream: 0x5CA1_E000 &+ UInt64(c))
    var displaced: [Int: Int] = [:]
    var picked = [Int](repeating: 0, count: limit)
    for i in 0..<limit {
      let j = i + rng.below(count - i)
      let atI = displaced[i] ?? i
      picked[i] = displaced[j] ?? j
      displaced[j] = atI
    }
    return picked.sorted()
  }

  /// Indices (into `truth`) of at most about `limit` rows: the same fraction of every class
  /// (at least 5 rows of a class, or all of a smaller one), evenly spaced within the class;
  /// every row when there are not more than `limit`.
  static func proportionalSubset(_ truth: [Int], classes: Int, limit: Int) -> [Int] {
    guard limit > 0, truth.count > limit else { return Array(truth.indices) }
    var byClass = [[Int]](repeating: [], count: classes)
    for (i, c) in truth.enumerated() { byClass[c].append(i) }
    let fraction = Double(limit) / Double(truth.count)
    var out: [Int] = []
    for rows in byClass where !rows.isEmpty {
      let keep = min(rows.count, max(5, Int((fraction * Double(rows.count)).rounded())))
      out += (0..<keep).map { rows[$0 * rows.count / keep] }
    }
    return out.sorted()
  }

  /// Rows `idx` of `x` (width d), concatenated.
  static func gather(_ x: [Float], _ idx: [Int], _ d: Int) -> [Float] {
    var out = [Float]()
    out.reserveCapacity(idx.count * d)
    for i in idx { out.append(contentsOf: x[(i * d)..<((i + 1) * d)]) }
    return out
  }

  /// Fits `classes` (indices into `data.classLabels`) on a pool of worker threads; each class
  /// draws from its own generator, so the result does not depend on scheduling (unless the
  /// `deadline`, a ``Clock`` reading, cuts training short: a class starting with J classes
  /// still to start and W workers gets 1/⌈J/W⌉ of the time left).
  static func fitClasses(
    _ classes: [Int], data: EncodedData, options: TrainingOptions, deadline: Double? = nil,
    progress: (@Sendable (TrainingProgress) -> Void)?
  ) throws -> [ClassFit] {
    let results = ResultBox(count: classes.count)
    let workers = max(1, min(classes.count, workerCount(options)))
    let d = data.width
    // Largest classes first (cost grows with rows), so workers finish close together.
    let order = classes.indices.sorted { (data.heldRows(classes[$0]), -$0) > (data.heldRows(classes[$1]), -$1) }
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while let slot = results.nextJob() {
        let k = order[slot]
        let c = classes[k]
        let rows = data.classRows[c]
        let fitter = ClassFitter(
          settings: options.settings, heldoutFraction: options.heldoutFraction, refit: options.refit, d: d,
          spacings: options.settings.dequantization.isActive ? options.settings.dequantization.spacings(data.features, width: d) : [])
        var rng = TrainerRandom(seed: options.seed, stream: UInt64(c) + 1)
        let label = data.classLabels[c]
        let classDeadline = deadline.map { d in
          let now = Clock.now()
          let rounds = (classes.count - slot + workers - 1) / workers
          return now + max(0, d - now) / Double(max(rounds, 1))
        }
        var last = TrainingProgress(
          classIndex: k, label: label, epoch: 0, epochs: 0, loss: .nan, classCount: classes.count)
        let fit = fitter.fit(rows, count: data.heldRows(c), rng: &rng, deadline: classDeadline) {
          stage, phase, phases, step, steps, loss in
          last = TrainingProgress(
            classIndex: k, label: label, epoch: step, epochs: steps, loss: loss, classCount: classes.count,
            phase: phase, phases: phases)
          last.stage = stage
          progress?(last)
        }
        // The class's last report: its shipped network's step count, in its last phase.
        last.stage = .network
        last.phase = last.phases
        last.epoch = fit.steps
        last.finished = true
        progress?(last)
        results.store(k, fit)
      }
    }
    return results.all()
  }
}

extension Trainer {
  /// Worker threads: `--threads`, or one per core.
  static func workerCount(_ options: TrainingOptions) -> Int {
    max(1, options.threads > 0 ? options.threads : ProcessInfo.processInfo.activeProcessorCount)
  }
}

/// Independent jobs 0..<count on up to `threads` workers, each result in its own slot (so the
/// results do not depend on the thread count or the schedule).
final class ParallelSlots<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var completed = 0
  private var slots: [T?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  /// Runs `body(i)` for every slot i.
  func run(threads: Int, _ body: (Int) -> T) {
    let workers = max(1, min(threads, slots.count))
    withoutActuallyEscaping(body) { body in
      let job = UnsafeSendable(body)
      DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while let i = take() {
          let value = job.value(i)
          lock.lock()
          slots[i] = value
          completed += 1
          lock.unlock()
        }
      }
    }
  }

  private func take() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < slots.count else { return nil }
    next += 1
    return next - 1
  }

  /// Jobs finished so far.
  func finished() -> Int {
    lock.lock()
    defer { lock.unlock() }
    return completed
  }

  /// Runs `body` under a lock of its own (e.g. to report progress from a worker).
  func withLock(_ body: () -> Void) {
    lock.lock()
    defer { lock.unlock() }
    body()
  }

  /// The results, in slot order.
  func all() -> [T] { slots.map { $0! } }
}

/// A value handed to worker threads that only read it (a closure over data nobody writes).
struct UnsafeSendable<V>: @unchecked Sendable {
  let value: V
  init(_ value: V) { self.value = value }
}

/// Work queue and result slots shared by the training workers.
private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var slots: [ClassFit?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func nextJob() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < slots.count else { return nil }
    next += 1
    return next - 1
  }

  func store(_ k: Int, _ value: ClassFit) {
    lock.lock()
    slots[k] = value
    lock.unlock()
  }

  func all() -> [ClassFit] { slots.map { $0! } }
}

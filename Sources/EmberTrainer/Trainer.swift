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
    let table = try CSVTable.read(path: csvPath)
    return try train(table: table, options: options, progress: progress)
  }

  /// Trains a model of `table`. Throws ``TrainerError`` (data, options) or ``EmberFormatError``
  /// (an unreadable `--add-to` model).
  public static func train(
    table: CSVTable, options: TrainingOptions, progress: (@Sendable (TrainingProgress) -> Void)? = nil
  ) throws -> (ModelSpec, TrainingSummary) {
    let started = Date()
    try check(options)
    let base = try options.addTo.map { try EmberModel(path: $0) }
    let data: EncodedData
    if let base {
      guard base.target == options.target else {
        throw TrainerError(
          .incompatibleModel, "the model's target column is \"\(base.target)\", not \"\(options.target)\"",
          file: options.addTo ?? "")
      }
      data = try Preprocessor.encode(
        table, target: options.target, features: base.features, minClassRows: options.minClassRows)
    } else {
      data = try Preprocessor.fit(
        table, target: options.target, overrides: options.overrides, minClassRows: options.minClassRows)
    }
    let d = data.width
    let existing = base?.classes.map(\.label) ?? []
    let toTrain = data.classLabels.indices.filter { !existing.contains(data.classLabels[$0]) }
    guard !toTrain.isEmpty else {
      throw TrainerError(.incompatibleModel, "every class of the CSV is already in the model", file: options.addTo ?? "")
    }

    // Stratified split, per class with its own generator.
    var members = [[Int]](repeating: [], count: data.classLabels.count)
    for (i, c) in data.labels.enumerated() { members[c].append(i) }
    var trainRows = members
    var heldRows = [[Int]](repeating: [], count: members.count)
    for c in toTrain {
      var idx = members[c]
      var rng = TrainerRandom(seed: options.seed, stream: 0x5711_0000 + UInt64(c))
      rng.shuffle(&idx)
      let n = idx.count
      let h = options.heldoutFraction > 0 && n >= 2 ? min(n - 1, max(1, Int((options.heldoutFraction * Double(n)).rounded()))) : 0
      heldRows[c] = idx.prefix(h).sorted()
      trainRows[c] = idx.dropFirst(h).sorted()
    }

    // Train the new classes in parallel.
    let nets = try trainClasses(toTrain, data: data, trainRows: trainRows, options: options, progress: progress)

    // Assemble the classes: kept ones first (byte-identical), then the new ones.
    var classes: [ClassSpec] = (0..<(base?.classes.count ?? 0)).map { base!.classSpec($0) }
    // Chosen with tools/eval/tune.py on the evaluation protocol (docs/TUNING.md): SMOTE-style
    // starts between a stored row and a near neighbour, then 10 Langevin steps at T = 1.
    let sampler = SamplerDefaults(
      kind: .langevin, steps: 10, stepSize: 0.01, noiseScale: -1, temperature: 1, initNoise: 0.01, gradClip: 50,
      initialization: options.storeStartingRows ? .interpolate : .base)
    for (k, c) in toTrain.enumerated() {
      let (net, noise) = nets[k]
      classes.append(
        ClassSpec(
          label: data.classLabels[c], prior: 1, trainRows: trainRows[c].count, layers: net.layerSpecs(),
          output: .logOdds, base: noise.baseSpec, networkScale: 1, sampler: sampler,
          startingRows: options.storeStartingRows ? gather(data.x, members[c], d) : nil))
    }
    let totalTrain = Double(classes.reduce(0) { $0 + $1.trainRows })
    for i in classes.indices { classes[i].prior = Double(classes[i].trainRows) / totalTrain }
    let priors = classes.map(\.prior)

    // Held-out rows: the held-out share of new classes, and every row of classes already in the
    // model (not trained on in this run).
    var heldout: [Int] = []
    var truth: [Int] = []
    for (c, label) in data.classLabels.enumerated() {
      guard let j = classes.firstIndex(where: { $0.label == label }) else { continue }
      let rows = toTrain.contains(c) ? heldRows[c] : members[c]
      heldout += rows
      truth += [Int](repeating: j, count: rows.count)
    }
    let hx = gather(data.x, heldout, d)
    let (session, heldoutFlat) = try heldoutEvaluation(
      ModelSpec(target: options.target, features: data.features, classes: classes), rows: hx, count: heldout.count)
    let energies = (0..<classes.count).map { j in heldout.indices.map { Double(heldoutFlat[$0 * classes.count + j]) } }
    for k in toTrain.indices {
      let j = (base?.classes.count ?? 0) + k
      let own = heldout.indices.filter { truth[$0] == j }.map { energies[j][$0] }
      classes[j].calibration = Calibrator.table(own)
    }
    // Classification read-out: T and per-class offsets fitted on the held-out rows (new
    // classes' offsets only when extending a model). The reported balanced accuracy is
    // cross-fitted: offsets fitted on one half of the held-out rows predict the other half.
    let keptCount = base?.classes.count ?? 0
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
    var warnings = data.warnings
    if options.fitReadout && classes.count > 1 && !heldout.isEmpty {
      var fold = [Int](repeating: 0, count: heldout.count)
      var seen = [Int](repeating: 0, count: classes.count)
      for i in heldout.indices {
        fold[i] = seen[truth[i]] % 2
        seen[truth[i]] += 1
      }
      var crossPredicted = rawPredicted
      for f in 0..<2 {
        let fitRows = heldout.indices.filter { fold[$0] != f }
        let testRows = heldout.indices.filter { fold[$0] == f }
        let r = Calibrator.fitReadout(
          energies: energies, truth: truth, rows: fitRows, logPriors: logPriors, start: start, free: free,
          fitTemperature: fitT)
        for (i, p) in zip(testRows, Calibrator.predict(energies: energies, rows: testRows, logPriors: logPriors, readout: r)) {
          crossPredicted[i] = p
        }
      }
      balanced = Calibrator.balancedAccuracy(predicted: crossPredicted, truth: truth, classes: classes.count)
      // The stacked read-out (a C×C linear map of the energies) is kept only when its
      // cross-fitted balanced accuracy beats the temperature/offset read-out's, and only when
      // every class has at least two held-out rows (one per fold).
      let perClass = (0..<classes.count).map { c in heldout.indices.filter { truth[$0] == c }.count }
      // Its fit costs O(C² · held-out rows) per step: beyond a budget (≈ 10 s), skip it.
      let stackedCost = classes.count * classes.count * heldout.count
      if options.stackedReadout, stackedCost > Trainer.stackedReadoutBudget {
        warnings.append(
          "stacked read-out skipped: \(classes.count) classes × \(heldout.count) held-out rows is beyond its fitting budget (classes² × rows ≤ \(Trainer.stackedReadoutBudget)); temperature and offsets are used")
      } else if options.stackedReadout, perClass.allSatisfy({ $0 >= 2 }) {
        var stackedPredicted = rawPredicted
        for f in 0..<2 {
          let fitRows = heldout.indices.filter { fold[$0] != f }
          let testRows = heldout.indices.filter { fold[$0] == f }
          let r = Calibrator.fitStacked(energies: energies, truth: truth, rows: fitRows)
          for (i, p) in zip(testRows, Calibrator.predict(energies: energies, rows: testRows, stacked: r)) {
            stackedPredicted[i] = p
          }
        }
        let stackedBalanced = Calibrator.balancedAccuracy(predicted: stackedPredicted, truth: truth, classes: classes.count)
        if stackedBalanced > balanced {
          stacked = Calibrator.fitStacked(energies: energies, truth: truth, rows: Array(heldout.indices))
          balanced = stackedBalanced
        }
      }
      readout = Calibrator.fitReadout(
        energies: energies, truth: truth, rows: Array(heldout.indices), logPriors: logPriors, start: start, free: free,
        fitTemperature: fitT)
      for j in classes.indices where free[j] { classes[j].offset = Float(readout.offsets[j]) }
    }
    let temperature = fitT ? Float(readout.temperature) : (base?.temperature ?? 1)
    // Held-out scores by the runtime's own formula (in Float, as a device computes them).
    let scores = heldoutFlat.withUnsafeBufferPointer { p in
      heldout.indices.map { Double(session.score(p.baseAddress! + $0 * classes.count)) }
    }
    var aurocs: [Double] = []
    for j in classes.indices {
      let inside = heldout.indices.filter { truth[$0] == j }.map { energies[j][$0] }
      let outside = heldout.indices.filter { truth[$0] != j }.map { energies[j][$0] }
      let a = Calibrator.auroc(positive: outside, negative: inside)
      if !a.isNaN { aurocs.append(a) }
    }
    let auroc = aurocs.isEmpty ? Double.nan : aurocs.reduce(0, +) / Double(aurocs.count)

    // Optional refit: retrain the new classes on all their rows (same per-class generators) and
    // ship those networks and bases; calibration and read-out stay those measured above on the
    // held-out run, so they describe the refit networks only approximately.
    if options.refit {
      let refits = try trainClasses(toTrain, data: data, trainRows: members, options: options, progress: progress)
      for (k, c) in toTrain.enumerated() {
        let j = keptCount + k
        classes[j].layers = refits[k].0.layerSpecs()
        classes[j].base = refits[k].1.baseSpec
        classes[j].trainRows = members[c].count
      }
      let total = Double(classes.reduce(0) { $0 + $1.trainRows })
      for i in classes.indices { classes[i].prior = Double(classes[i].trainRows) / total }
    }

    let seconds = Date().timeIntervalSince(started)
    let reproducible = options.sourceDateEpoch != nil
    let s = options.settings
    var metadata = base?.metadata ?? [:]
    if metadata["target_position"] == nil, let t = table.header.firstIndex(of: options.target) {
      // Where `ember sample` puts the target column: after the features that precede it in
      // the training CSV, so samples have the training file's column order.
      let names = Set(data.features.map(\.name))
      metadata["target_position"] = String(table.header[..<t].filter { names.contains($0) }.count)
    }
    metadata["trainer.heldout_fraction"] = String(options.heldoutFraction)
    metadata["trainer.hidden"] = s.hidden.map(String.init).joined(separator: ",")
    metadata["trainer.activation"] = s.activation.description
    metadata["trainer.epochs"] = String(s.epochs)
    metadata["trainer.gradient_penalty"] = "\(s.gradientPenalty) (finite-difference estimate, step \(s.penaltyStep))"
    metadata["trainer.heldout_balanced_accuracy_raw"] = rawBalanced.isNaN ? "nan" : String(format: "%.4f", rawBalanced)
    if options.refit { metadata["trainer.refit"] = "networks refit on all rows; calibration from the held-out run" }
    metadata["trainer.readout"] =
      stacked != nil
      ? "stacked: C×C weights on the energies fitted on held-out rows (cross-fitted better than temperature/offsets)"
      : options.fitReadout ? "temperature and offsets fitted on held-out rows" : "raw energies"
    if base != nil {
      metadata["trainer.added_classes"] = toTrain.map { data.classLabels[$0] }.joined(separator: ",")
    }
    let spec = ModelSpec(
      provenance: Provenance(
        producer: "ember train", producerVersion: options.producerVersion,
        source: URL(fileURLWithPath: table.file).lastPathComponent, sourceRows: table.rows.count, seed: options.seed,
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
          heldoutRows: cIndex.map { trained ? heldRows[$0].count : members[$0].count } ?? 0, trained: trained,
          threshold: c.calibration?.threshold)
      },
      sourceRows: table.rows.count, width: d, seconds: seconds, balancedAccuracy: balanced,
      rawBalancedAccuracy: rawBalanced, temperature: Double(temperature), oodAUROC: auroc,
      heldoutRows: heldout.count, warnings: warnings)
    return (spec, summary)
  }

  /// Largest classes² × held-out rows for which the stacked read-out is fitted (its 3 fits of
  /// 1,500 full-batch steps then take about 10 s; 200 classes × 400 rows would take a minute).
  public static let stackedReadoutBudget = 4_000_000

  static func check(_ o: TrainingOptions) throws {
    let s = o.settings
    guard !s.hidden.isEmpty, s.hidden.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
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

  /// The serialised model's session and the energies (row-major n×C, finite) of `n` encoded
  /// rows, computed by the runtime — exactly what a device computes from the file.
  static func heldoutEvaluation(_ spec: ModelSpec, rows x: [Float], count n: Int) throws -> (EmberSession, [Float]) {
    let session: EmberSession
    do {
      session = try EmberSession(EmberModel(bytes: try ModelWriter.serialize(spec)))
    } catch let e as EmberRuntimeError {
      throw TrainerError(.notEnoughData, "the trained model cannot be evaluated: \(e)")
    }
    var flat = [Float](repeating: 0, count: n * spec.classes.count)
    guard n > 0 else { return (session, flat) }
    x.withUnsafeBufferPointer { xp in
      flat.withUnsafeMutableBufferPointer { Evaluator(session).energies(rows: xp.baseAddress!, count: n, into: $0.baseAddress!) }
    }
    return (session, flat)
  }

  /// Rows `idx` of `x` (width d), concatenated.
  static func gather(_ x: [Float], _ idx: [Int], _ d: Int) -> [Float] {
    var out = [Float]()
    out.reserveCapacity(idx.count * d)
    for i in idx { out.append(contentsOf: x[(i * d)..<((i + 1) * d)]) }
    return out
  }

  /// Trains `classes` (indices into `data.classLabels`) on a pool of worker threads.
  static func trainClasses(
    _ classes: [Int], data: EncodedData, trainRows: [[Int]], options: TrainingOptions,
    progress: (@Sendable (TrainingProgress) -> Void)?
  ) throws -> [(MLP, GaussianFit)] {
    let results = ResultBox(count: classes.count)
    let workers = max(1, min(classes.count, options.threads > 0 ? options.threads : ProcessInfo.processInfo.activeProcessorCount))
    let d = data.width
    // Largest classes first (cost grows with rows), so workers finish close together. Each
    // class's result depends only on its own generator, never on this order.
    let order = classes.indices.sorted { (trainRows[classes[$0]].count, -$0) > (trainRows[classes[$1]].count, -$1) }
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while let slot = results.nextJob() {
        let k = order[slot]
        let c = classes[k]
        let rows = gather(data.x, trainRows[c], d)
        let trainer = ClassTrainer(settings: options.settings, rows: rows, count: trainRows[c].count, width: d)
        var rng = TrainerRandom(seed: options.seed, stream: UInt64(c) + 1)
        let label = data.classLabels[c]
        let epochs = options.settings.epochs
        let net = trainer.train(rng: &rng) { epoch, loss in
          progress?(
            TrainingProgress(
              classIndex: k, label: label, epoch: epoch, epochs: epochs, loss: loss, classCount: classes.count))
        }
        results.store(k, (net, trainer.noise))
      }
    }
    return results.all()
  }
}

/// Work queue and result slots shared by the training workers.
private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var slots: [(MLP, GaussianFit)?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func nextJob() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < slots.count else { return nil }
    next += 1
    return next - 1
  }

  func store(_ k: Int, _ value: (MLP, GaussianFit)) {
    lock.lock()
    slots[k] = value
    lock.unlock()
  }

  func all() -> [(MLP, GaussianFit)] { slots.map { $0! } }
}

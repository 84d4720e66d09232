import EmberFormat
import EmberRuntime

/// `ember sample --given COL=VALUE --where 'COL>=X' …`: conditional synthesis through
/// ``EmberSession/sampleConditional(classIndex:count:seed:conditions:sweeps:threads:emit:)``.
func sampleConditionally(_ p: ParsedArguments) throws(CLIError) {
  let model = p.positional("model")
  let output = p.string(.output)
  try checkOutput(output, against: [model])
  for o in [OptionSpec.sampler, .stepSize, .noise, .temperature, .initNoise, .gradClip, .initFrom, .initCSV] where p.string(o) != nil {
    throw CLIError(
      .usage,
      "--\(o.name) cannot be combined with --given/--where (conditional sampling has its own moves; --steps sets its sweeps)")
  }
  var conditions: [RowCondition] = []
  do throws(EmberRuntimeError) {
    for text in p.strings(.given) {
      let c = try RowCondition.parse(text, source: "given")
      guard c.relation == .equal else {
        throw EmberRuntimeError(.badOption, "\(c): --given takes COLUMN=VALUE; put rules in --where", at: "given")
      }
      conditions.append(c)
    }
    for text in p.strings(.whereRule) {
      let c = try RowCondition.parse(text, source: "where")
      guard c.relation != .equal else {
        throw EmberRuntimeError(.badOption, "\(c): a fixed value goes in --given \(c)", at: "where")
      }
      conditions.append(c)
    }
  } catch {
    throw CLIError.runtime(error)
  }
  let count = p.int(.count) ?? 0
  let seed = p.uint64(.seed) ?? 0
  let threads = p.int(.sampleThreads) ?? Parallel.availableCores
  let sweeps = p.int(.steps) ?? EmberSession.defaultSweeps
  let session = try openSession(model)
  let m = session.model
  var named: [Int] = []
  for label in p.strings(.sampleClass) { named.append(try classIndex(label, in: session)) }
  let set: ConditionSet
  let counts: [Int]
  do throws(EmberRuntimeError) {
    set = try ConditionSet(model: m, conditions: conditions)
    counts = try session.conditionalCounts(set, count: count, classes: named, seed: seed)
  } catch {
    throw CLIError.runtime(error)
  }
  let sink = try OutputSink(path: output)
  let features = m.features.map { $0.name }
  var position = features.count
  if let t = m.metadata["target_position"].flatMap({ Int($0) }), t >= 0, t <= features.count { position = t }
  var header = features
  header.insert(m.target.isEmpty ? "label" : m.target, at: position)
  try sink.writeRow(header)
  var summary: [String] = []
  for (c, n) in counts.enumerated() where n > 0 {
    let label = session.labels[c]
    var failure: CLIError?
    let stats: ConditionalStats
    do throws(EmberRuntimeError) {
      stats = try session.sampleConditional(
        classIndex: c, count: n, seed: seed, conditions: set, sweeps: sweeps, threads: threads
      ) { block, rows in
        for r in 0..<rows {
          var fields = set.fields(of: block.baseAddress! + r * session.width, decoder: session.decoder)
          if let broken = set.violated(fields: fields, label: label) {
            failure = CLIError(.badInput, "internal error: a generated row breaks \(broken); please report it")
            return false
          }
          fields.insert(label, at: position)
          do throws(CLIError) {
            try sink.writeRow(fields)
          } catch {
            failure = error
            return false
          }
        }
        return true
      }
    } catch {
      throw CLIError.runtime(error)
    }
    if let failure { throw failure }
    let rate = stats.acceptanceRate.isNaN ? "" : ", acceptance \((stats.acceptanceRate * 1000).rounded() / 10)%"
    summary.append("  \(label): \(n) rows, conditional Gibbs/Metropolis–Hastings \(sweeps) sweeps\(rate)")
  }
  try sink.commit()
  if !p.flag(.quiet) {
    printNote(
      "ember sample: \(count) rows, seed \(seed), conditions \(conditions.map { $0.description }.joined(separator: ", "))\n"
        + summary.joined(separator: "\n"))
  }
}

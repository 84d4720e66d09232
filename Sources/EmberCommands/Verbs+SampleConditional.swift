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
  if !p.strings(.classFilter).isEmpty {
    throw CLIError(.usage, "--class-filter cannot be combined with --given/--where (conditional draws are not class-filtered)")
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
  let writer = try SampleRowWriter(session: session, output: output)
  var summary: [String] = []
  for (c, n) in counts.enumerated() where n > 0 {
    let label = session.labels[c]
    let stats: ConditionalStats
    do throws(EmberRuntimeError) {
      stats = try session.sampleConditional(
        classIndex: c, count: n, seed: seed, conditions: set, sweeps: sweeps, threads: threads
      ) { block, rows in
        writer.write(block, rows: rows, label: label, decode: { set.fields(of: $0, decoder: session.decoder) }) { fields in
          set.violated(fields: fields, label: label).map {
            CLIError(.badInput, "internal error: a generated row breaks \($0); please report it")
          }
        }
      }
    } catch {
      throw CLIError.runtime(error)
    }
    try writer.checkFailure()
    let rate = stats.acceptanceRate.isNaN ? "" : ", acceptance \((stats.acceptanceRate * 1000).rounded() / 10)%"
    summary.append("  \(label): \(n) rows, conditional Gibbs/Metropolis–Hastings \(sweeps) sweeps\(rate)")
  }
  try writer.commit()
  if !p.flag(.quiet) {
    printNote(
      "ember sample: \(count) rows, seed \(seed), conditions \(conditions.map { $0.description }.joined(separator: ", "))\n"
        + summary.joined(separator: "\n"))
  }
}

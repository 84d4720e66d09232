import EmberFormat
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Tests of the C API (`Sources/EmberC/include/ember.h`, `libCEmber.so`) from C: compiles
/// `examples/c/*.c` with the system `cc` against the built shared library and runs them on a
/// model written here through `ModelWriter`.
///
/// The library must be built first (`swift build --product CEmber`, or any `swift build` of
/// the whole package); the tests look for it next to the test executable, then in
/// `$EMBER_LIB_DIR`, then in the usual scratch directories, and skip when it is absent.
final class CAPITests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let examples = root.appendingPathComponent("examples/c")
  static let header = root.appendingPathComponent("Sources/EmberC/include")

  var work: URL!

  override func setUpWithError() throws {
    work = FileManager.default.temporaryDirectory.appendingPathComponent("ember-capi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: work)
  }

  // MARK: - Tests

  /// The committed demo model is exactly what ``DemoModel/spec`` serialises to.
  func testCommittedDemoModelIsCurrent() throws {
    let path = CAPITests.examples.appendingPathComponent("demo.ember").path
    let bytes = try ModelWriter.serialize(DemoModel.spec())
    if ProcessInfo.processInfo.environment["EMBER_WRITE_DEMO_MODEL"] == "1" {
      try ModelWriter.write(DemoModel.spec(), to: path)
    }
    let committed = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing")
    XCTAssertEqual(
      [UInt8](committed), bytes,
      "examples/c/demo.ember is stale: regenerate with EMBER_WRITE_DEMO_MODEL=1 swift test --filter CAPITests")
    XCTAssertNoThrow(try EmberModel(path: path))
  }

  /// The example opens, scores, classifies and samples; output is deterministic.
  func testExampleRunsAndIsDeterministic() throws {
    let model = try writeDemoModel()
    let exe = try compile("ember_example.c")
    let first = try run(exe, [model])
    XCTAssertEqual(first.status, 0, "stderr: \(first.stderr)")
    let out = first.stdout
    XCTAssertTrue(out.contains("classes=2 features=4 width=6 target=state"), out)
    XCTAssertTrue(out.contains("class 0: normal prior=0.700"), out)
    XCTAssertTrue(out.contains("class 1: fault prior=0.300"), out)
    // Row 0 sits at the normal class mean, row 1 at the fault mean, row 2 is far from both.
    let rows = out.split(separator: "\n").filter { $0.hasPrefix("row ") }
    XCTAssertEqual(rows.count, 3, out)
    XCTAssertTrue(rows[0].contains("label=normal") && rows[0].contains("anomaly=0"), String(rows[0]))
    XCTAssertTrue(rows[1].contains("label=fault") && rows[1].contains("anomaly=0"), String(rows[1]))
    XCTAssertTrue(rows[2].contains("anomaly=1"), String(rows[2]))
    let scores = rows.map { row -> Double in
      let field = row.split(separator: " ").first { $0.hasPrefix("score=") }!
      return Double(field.dropFirst(6))!
    }
    XCTAssertLessThan(scores[0], scores[2])
    XCTAssertLessThan(scores[1], scores[2])
    XCTAssertGreaterThan(scores[2] - scores[0], 10, "the outlier must score far higher")

    // Five sampled rows in raw units: numbers inside the training range, known categories.
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let headerAt = try XCTUnwrap(lines.firstIndex(of: "temperature,vibration,load,mode,state"), out)
    let samples = lines[(headerAt + 1)...].prefix { !$0.isEmpty && !$0.hasPrefix("stats") }
    XCTAssertEqual(samples.count, 5, out)
    for line in samples {
      let f = line.split(separator: ",").map(String.init)
      XCTAssertEqual(f.count, 5, line)
      let t = try XCTUnwrap(Double(f[0]), line)
      XCTAssertTrue((20...100).contains(t), line)
      let v = try XCTUnwrap(Double(f[1]), line)
      XCTAssertTrue((0...2).contains(v), line)
      let load = try XCTUnwrap(Int(f[2]), "load must be an integer: \(line)")
      XCTAssertTrue((0...100).contains(load), line)
      XCTAssertTrue(["idle", "run", "boost"].contains(f[3]), line)
      XCTAssertTrue(["normal", "fault"].contains(f[4]), line)
    }
    XCTAssertTrue(out.contains("stats chains=5"), out)

    let second = try run(exe, [model])
    XCTAssertEqual(second.stdout, first.stdout, "same seed must give the same output")
  }

  /// Bad inputs come back as status codes with a located message, never a crash.
  func testExampleReportsErrors() throws {
    let exe = try compile("ember_example.c")
    let missing = work.appendingPathComponent("nope.ember").path
    let r = try run(exe, [missing])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("ember_open_path"), r.stderr)
    XCTAssertTrue(r.stderr.contains(missing), r.stderr)
    XCTAssertTrue(r.stderr.contains("status 2"), r.stderr)

    let corrupt = work.appendingPathComponent("corrupt.ember")
    var bytes = try ModelWriter.serialize(DemoModel.spec())
    bytes[bytes.count / 2] ^= 0x40
    try Data(bytes).write(to: corrupt)
    let c = try run(exe, [corrupt.path])
    XCTAssertEqual(c.status, 1)
    XCTAssertTrue(["status 5", "status 7", "status 8"].contains { c.stderr.contains($0) }, c.stderr)
  }

  /// Issue 10, defects 2 and 9 from C: a FIFO is refused without hanging, and crafted models
  /// (not positive definite, empty calibration, magnitudes beyond what a writer produces) are
  /// refused by ember_open_path as EMBER_E_INVALID_MODEL naming the place.
  func testCraftedModelsAndFIFOsAreRefusedByOpen() throws {
    let exe = try compile("ember_example.c")
    let fifo = work.appendingPathComponent("model.fifo").path
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let f = try run(exe, [fifo])
    XCTAssertEqual(f.status, 1)
    XCTAssertTrue(f.stderr.contains("status 2") && f.stderr.contains("FIFO"), f.stderr)
    var cases: [(String, (inout ModelSpec) -> Void, String)] = []
    cases.append(("not-pd", { $0.classes[0].base!.precision = $0.classes[0].base!.precision.map { _ in 1 } }, "base precision"))
    cases.append(("empty-calibration", { $0.scoreCalibration = Calibration(levels: [], quantiles: [], threshold: 1, rows: 0) }, "score_calibration"))
    cases.append(("tiny-std", { $0.features[0].std = 1e-38 }, "std"))
    cases.append(("huge-scale", { $0.classes[0].networkScale = 3e38 }, "network_scale"))
    for (name, change, place) in cases {
      var spec = DemoModel.spec()
      change(&spec)
      let v = FormatVersion.current
      let path = work.appendingPathComponent(name + ".ember")
      try Data(try ModelWriter.serialize(spec, version: v, minReader: FormatVersion(major: v.major, minor: 0), validating: false))
        .write(to: path)
      let r = try run(exe, [path.path])
      XCTAssertEqual(r.status, 1, name)
      XCTAssertTrue(r.stderr.contains("status 8") && r.stderr.contains(place), "\(name): \(r.stderr)")
    }
  }

  /// API contracts from C: argument checks, buffer sizes, encoders, threads, determinism.
  func testContractChecks() throws {
    let model = try writeDemoModel()
    let exe = try compile("ember_check.c", extra: ["-pthread"])
    let r = try run(exe, [model])
    XCTAssertEqual(r.status, 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
    XCTAssertTrue(r.stdout.contains("all checks passed"), r.stdout)
    XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
  }

  /// The streaming scorer reads CSV from stdin and writes one score line per row.
  func testStreamingScorer() throws {
    let model = try writeDemoModel()
    let exe = try compile("ember_stream.c")
    var csv = "mode,temperature,extra,vibration,load\n"
    for i in 0..<600 {
      // Every 100th row is an outlier; row 50 of each hundred holds a mode never seen in
      // training: read as missing, flagged anomalous through ember_score_flagged.
      csv += i % 100 == 99 ? "idle,99,x,0.01,0\n" : i % 100 == 50 ? "turbo,60,x,0.5,50\n" : "run,\(55 + i % 10),x,0.5,50\n"
    }
    let input = work.appendingPathComponent("rows.csv")
    try csv.write(to: input, atomically: true, encoding: .utf8)
    let r = try run("/bin/sh", ["-c", "\"$0\" \"$1\" < \"$2\"", exe, model, input.path])
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = r.stdout.split(separator: "\n")
    XCTAssertEqual(lines.first, "score,anomaly")
    XCTAssertEqual(lines.count, 601)
    let flagged = lines.dropFirst().enumerated().filter { $0.element.hasSuffix(",1") }.map(\.offset)
    XCTAssertEqual(flagged, [50, 99, 150, 199, 250, 299, 350, 399, 450, 499, 550, 599])

    try "temperature,vibration,load,mode\n60,0.5,50,run\nhot,0.5,50,run\n".write(to: input, atomically: true, encoding: .utf8)
    let bad = try run("/bin/sh", ["-c", "\"$0\" \"$1\" < \"$2\"", exe, model, input.path])
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.stderr.contains("line 3") && bad.stderr.contains("temperature"), bad.stderr)
  }

  // MARK: - Helpers

  func writeDemoModel() throws -> String {
    let path = work.appendingPathComponent("demo.ember").path
    try ModelWriter.write(DemoModel.spec(), to: path)
    return path
  }

  /// The directory holding libCEmber.so, or a skip.
  func libraryDirectory() throws -> String {
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
      if dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent().deletingLastPathComponent() }
      candidates.append(dir.path)
    }
    if let env = ProcessInfo.processInfo.environment["EMBER_LIB_DIR"] { candidates.insert(env, at: 0) }
    for scratch in [".build", ".build-capi"] {
      for config in ["debug", "release"] { candidates.append(CAPITests.root.appendingPathComponent("\(scratch)/\(config)").path) }
    }
    for dir in candidates where FileManager.default.fileExists(atPath: dir + "/libCEmber.so") { return dir }
    throw XCTSkip("libCEmber.so not built (looked in \(candidates.joined(separator: ", "))); run swift build --product CEmber")
  }

  /// Compiles `examples/c/<source>` against the library into the work directory.
  func compile(_ source: String, extra: [String] = []) throws -> String {
    let lib = try libraryDirectory()
    let exe = work.appendingPathComponent((source as NSString).deletingPathExtension).path
    let args = [
      "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I", CAPITests.header.path,
      CAPITests.examples.appendingPathComponent(source).path, "-o", exe,
      "-L", lib, "-lCEmber", "-Wl,-rpath,\(lib)", "-lm",
    ] + extra
    let r = try run("/usr/bin/env", ["cc"] + args)
    XCTAssertEqual(r.status, 0, "cc failed:\n\(r.stderr)")
    guard r.status == 0 else { throw XCTSkip("cannot compile \(source)") }
    return exe
  }

  struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  func run(_ exe: String, _ args: [String]) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }
}

/// The demo model of the C and Python examples: a machine's sensor readings, two classes.
///
/// Four raw features (temperature, vibration, integer load, categorical mode; encoded width 6),
/// classes "normal" (prior 0.7: Gaussian base + small SiLU network, Langevin sampler from stored
/// starting rows) and "fault" (prior 0.3: Gaussian base + network, MALA from the base), and a
/// score calibration. Weights come from a fixed LCG, so the bytes never change.
enum DemoModel {
  static let features: [FeatureSpec] = [
    FeatureSpec(name: "temperature", kind: .numeric, imputeValue: 60, mean: 60, std: 10, min: 20, max: 100, slotOffset: 0),
    FeatureSpec(name: "vibration", kind: .numeric, imputeValue: 0.5, mean: 0.5, std: 0.2, min: 0, max: 2, slotOffset: 1),
    FeatureSpec(name: "load", kind: .integer, imputeValue: 50, mean: 50, std: 20, min: 0, max: 100, slotOffset: 2),
    FeatureSpec(
      name: "mode", kind: .categorical, imputeValue: 1, mean: 0, std: 1, min: 0, max: 0,
      categories: ["idle", "run", "boost"], slotOffset: 3, slotCount: 3),
  ]

  /// Deterministic pseudo-random weights in [-scale, scale].
  struct LCG {
    var state: UInt64
    mutating func next(_ scale: Float) -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }

  static func layer(_ i: Int, _ o: Int, _ act: Activation, _ rng: inout LCG, scale: Float) -> DenseLayerSpec {
    DenseLayerSpec(
      inputs: i, outputs: o, activation: act, weights: (0..<(i * o)).map { _ in rng.next(scale) },
      bias: (0..<o).map { _ in rng.next(0.1) })
  }

  /// Diagonal precision: 1 on numeric slots, 4 on the one-hot slots; log det S = −3·log 4.
  static func base(mean: [Float], width d: Int) -> GaussianBaseSpec {
    var p = [Float](repeating: 0, count: d * d)
    for i in 0..<d { p[i * d + i] = i < 3 ? 1 : 4 }
    return GaussianBaseSpec(means: mean, logWeights: [0], precision: p, logDetCovariance: -3 * log(4.0))
  }

  static func spec() -> ModelSpec {
    var rng = LCG(state: 2024)
    let d = 6
    let normalMean: [Float] = [0, 0, 0, 0.1, 0.8, 0.1]
    let faultMean: [Float] = [2.5, 3.0, 1.0, 0.05, 0.25, 0.7]
    var starts: [Float] = []
    for k in 0..<8 {
      let jitter = Float(k % 4) * 0.1 - 0.15
      starts += [jitter, -jitter, jitter / 2, 0, 1, 0]
    }
    let normal = ClassSpec(
      label: "normal", prior: 0.7, trainRows: 140,
      layers: [layer(d, 8, .silu, &rng, scale: 0.4), layer(8, 1, .identity, &rng, scale: 0.4)], output: .logOdds,
      base: base(mean: normalMean, width: d), networkScale: 0.5,
      sampler: SamplerDefaults(kind: .langevin, steps: 40, stepSize: 0.01, noiseScale: -1, temperature: 1, initNoise: 0.05),
      startingRows: starts)
    let fault = ClassSpec(
      label: "fault", prior: 0.3, trainRows: 60,
      layers: [layer(d, 8, .tanh, &rng, scale: 0.4), layer(8, 1, .identity, &rng, scale: 0.4)], output: .logOdds,
      base: base(mean: faultMean, width: d), networkScale: 0.5,
      sampler: SamplerDefaults(
        kind: .mala, steps: 30, stepSize: 0.005, noiseScale: -1, temperature: 1, initNoise: 0, initialization: .base))
    let calibration = Calibration(
      levels: [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1], quantiles: [2.5, 3.5, 4.2, 5.0, 6.0, 8.0, 10.0], threshold: 8.5,
      rows: 200)
    return ModelSpec(
      provenance: Provenance(producer: "CAPITests", producerVersion: "1", source: "synthetic", objective: "demo"),
      target: "state", features: features, classes: [normal, fault], temperature: 1, scoreCalibration: calibration,
      metadata: ["purpose": "C API and Python binding examples"])
  }
}

import EmberFormat
import Foundation
import XCTest

/// Result of running the built `ember` binary (a string view of ``CLIResult``).
struct EmberRun {
  let status: Int32
  let stdout: String
  let stderr: String
  /// Killed by a signal (never acceptable).
  let signaled: Bool
}

/// Runs `ember` with arguments and optional standard input through ``CLIRunner``.
func runEmber(_ args: [String], stdin: String? = nil) throws -> EmberRun {
  let r = try CLIRunner.run(args, stdin: stdin.map { Data($0.utf8) })
  return EmberRun(status: r.status, stdout: r.stdout, stderr: r.stderr, signaled: r.signal != nil)
}

/// A scratch directory removed at deinit.
final class ScratchDir {
  let path: String
  init() throws {
    path = NSTemporaryDirectory() + "ember-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
  func file(_ name: String) -> String { path + "/" + name }
  func write(_ name: String, _ text: String) throws -> String {
    try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    return file(name)
  }
}

/// Parses CSV text without quotes into a header and rows.
func parseCSV(_ text: String) -> (header: [String], rows: [[String]]) {
  let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  return (lines.first ?? [], Array(lines.dropFirst()))
}

/// Two well-separated Gaussian classes over (x numeric, n integer, color categorical), with
/// Gaussian base terms only — so expected behaviour is known analytically.
enum BlobModel {
  static func spec(withStartingRows: Bool = true) -> ModelSpec {
    let features = [
      FeatureSpec(name: "x", kind: .numeric, imputeValue: 0, mean: 0, std: 1, min: -6, max: 6, slotOffset: 0),
      FeatureSpec(name: "n", kind: .integer, imputeValue: 3, mean: 3, std: 2, min: 0, max: 9, slotOffset: 1),
      FeatureSpec(name: "color", kind: .categorical, imputeValue: 0, categories: ["red", "blue"], slotOffset: 2, slotCount: 2),
    ]
    func cls(_ label: String, _ m: [Float]) -> ClassSpec {
      ClassSpec(
        label: label, prior: 0.5, trainRows: 50,
        base: GaussianBaseSpec(means: m, logWeights: [0], precision: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4], logDetCovariance: -2.772588722239781),
        calibration: Calibration(levels: [0, 0.5, 0.99, 1], quantiles: [2, 3.5, 7, 8], threshold: 7, rows: 50),
        sampler: SamplerDefaults(kind: .langevin, steps: 50, stepSize: 0.05, temperature: 1, initNoise: 0.05),
        startingRows: withStartingRows ? m + m : nil)
    }
    return ModelSpec(
      target: "kind", features: features,
      classes: [cls("a", [-2, -1, 1, 0]), cls("b", [2, 1, 0, 1])],
      scoreCalibration: Calibration(levels: [0, 0.5, 0.99, 1], quantiles: [2, 3.5, 7, 8], threshold: 7, rows: 100),
      metadata: ["target_position": "1"])
  }

  static func write(to path: String, withStartingRows: Bool = true) throws {
    try ModelWriter.write(spec(withStartingRows: withStartingRows), to: path)
  }
}

/// A test case with a scratch directory and the two-blob model written into it (`model`), fresh
/// for every test.
class BlobModelTestCase: XCTestCase {
  var dir: ScratchDir!
  var model: String!

  override func setUpWithError() throws {
    dir = try ScratchDir()
    model = dir.file("blob.ember")
    try BlobModel.write(to: model)
  }

  override func tearDown() {
    dir = nil
  }
}

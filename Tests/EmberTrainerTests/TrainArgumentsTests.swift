import EmberCommands
import EmberTrainArguments
import EmberTrainer
import Foundation
import XCTest

/// `ember train`'s option table as the trainer C API uses it: CLI-style strings in,
/// TrainingOptions out, the scanner's own messages, and a description hosts can read.
final class TrainArgumentsTests: XCTestCase {
  func testParsesCLIStyleStrings() throws {
    let p = try TrainArguments.parse([
      "--target=y", "--hidden=64,32", "--epochs", "7", "--weight-decay=0.0001", "--keep-starting-rows", "--seed=9",
      "--categorical=a,b",
    ])
    let o = TrainArguments.trainingOptions(p, command: "ember train x.csv")
    XCTAssertEqual(o.target, "y")
    XCTAssertEqual(o.settings.hidden, [64, 32])
    XCTAssertEqual(o.settings.epochs, 7)
    XCTAssertEqual(o.settings.weightDecay, 0.0001)
    XCTAssertEqual(o.seed, 9)
    XCTAssertTrue(o.storeStartingRows)
    XCTAssertEqual(o.overrides.categorical, ["a", "b"])
    XCTAssertEqual(o.command, "ember train x.csv")
  }

  func testDefaultsAreTheTrainersOwn() throws {
    let o = TrainArguments.trainingOptions(try TrainArguments.parse(["--target", "y"]), command: "")
    let trainer = TrainingOptions(target: "y")
    XCTAssertEqual(o.settings.hidden, trainer.settings.hidden, "no --hidden: the trainer sizes the network by class")
    XCTAssertEqual(o.minClassRows, trainer.minClassRows)
    XCTAssertEqual(o.storeStartingRows, trainer.storeStartingRows)
    XCTAssertFalse(o.storeStartingRows, "no training rows in the file by default")
    XCTAssertEqual(o.settings.epochs, trainer.settings.epochs)
    XCTAssertEqual(o.settings.learningRate, trainer.settings.learningRate)
    XCTAssertEqual(o.settings.weightDecay, trainer.settings.weightDecay)
    XCTAssertEqual(o.fitReadout, trainer.fitReadout)
    XCTAssertEqual(o.stackedReadout, trainer.stackedReadout)
    XCTAssertEqual(o.threads, trainer.threads)
    XCTAssertEqual(o.settings.dequantization, trainer.settings.dequantization)
    XCTAssertTrue(o.settings.dequantization.isActive, "bases see lattice columns dequantized by default")
    let off = TrainArguments.trainingOptions(try TrainArguments.parse(["--target", "y", "--no-dequantize"]), command: "")
    XCTAssertFalse(off.settings.dequantization.isActive)
  }

  func testRefusesWithTheScannersMessage() {
    for (args, expected) in [
      (["--target=y", "--hiden=8"], "Unknown option '--hiden'"),
      (["--target=y", "--epochs=0"], "The value '0' is invalid for '--epochs <epochs>'"),
      (["--target=y", "--hidden=8,,8"], "The value '8,,8' is invalid for '--hidden <hidden>'"),
      (["--hidden=8"], "Missing expected argument '--target <target>'"),
      (["--target=y", "--activation=sigmoid"], "expected one of 'silu'"),
      (["--target=y", "--refit=true"], "The flag '--refit' takes no value"),
      (["--target=y", "data.csv"], "Unexpected argument 'data.csv'"),
      (["--target=y", "--help"], "--help"),
    ] {
      XCTAssertThrowsError(try TrainArguments.parse(args)) { e in
        let e = e as! CLIError
        XCTAssertEqual(e.kind, .usage)
        XCTAssertTrue(e.message.contains(expected), "\(args): \(e.message)")
      }
    }
  }

  func testDeclarationDescribesEveryOptionOfTheTable() throws {
    let json = try JSONSerialization.jsonObject(with: Data(TrainArguments.declarationJSON.utf8)) as! [String: Any]
    let options = json["options"] as! [[String: Any]]
    XCTAssertEqual(options.map { $0["name"] as! String }, TrainArguments.options.map(\.name))
    let byName = Dictionary(uniqueKeysWithValues: options.map { ($0["name"] as! String, $0) })
    XCTAssertTrue(byName["hidden"]?["default"] is NSNull, "the trainer picks the widths itself")
    XCTAssertEqual(byName["epochs"]?["default"] as? String, "400")
    XCTAssertEqual(byName["keep-starting-rows"]?["flag"] as? Bool, true)
    XCTAssertEqual(byName["target"]?["required"] as? Bool, true)
    XCTAssertEqual(byName["objective"]?["choices"] as? [String], ["nce", "tabebm"])
    XCTAssertNil(byName["output"], "--output belongs to the CLI verb, not to training")
    XCTAssertNil(byName["quiet"])
  }
}

import EmberTrainArguments
import EmberTrainer
import Foundation
import XCTest

/// `ember train`'s option declaration as the trainer C API uses it: CLI-style strings in,
/// TrainingOptions out, the parser's own messages, and a description hosts can read.
final class TrainArgumentsTests: XCTestCase {
  func testParsesCLIStyleStrings() throws {
    let a = try TrainArguments.parse(arguments: [
      "--target=y", "--hidden=64,32", "--epochs", "7", "--weight-decay=0.0001", "--no-starting-rows", "--seed=9",
      "--categorical=a,b",
    ])
    let o = a.trainingOptions(command: "ember train x.csv")
    XCTAssertEqual(o.target, "y")
    XCTAssertEqual(o.settings.hidden, [64, 32])
    XCTAssertEqual(o.settings.epochs, 7)
    XCTAssertEqual(o.settings.weightDecay, 0.0001)
    XCTAssertEqual(o.seed, 9)
    XCTAssertFalse(o.storeStartingRows)
    XCTAssertEqual(o.overrides.categorical, ["a", "b"])
    XCTAssertEqual(o.command, "ember train x.csv")
    let defaults = try TrainArguments.parse(arguments: ["--target", "y"]).trainingOptions(command: "")
    XCTAssertEqual(defaults.settings.hidden, [128, 128])
    XCTAssertEqual(defaults.minClassRows, 10)
  }

  func testRefusesWithTheParsersMessage() {
    for (args, expected) in [
      (["--target=y", "--hiden=8"], "Unknown option '--hiden'"), (["--target=y", "--epochs=-1"], "--epochs must be ≥ 0"),
      (["--hidden=8"], "Missing expected argument '--target <target>'"),
      (["--target=y", "--activation=sigmoid"], "unknown --activation"),
    ] {
      XCTAssertThrowsError(try TrainArguments.parse(arguments: args)) { e in
        XCTAssertTrue((e as! TrainArgumentsError).message.contains(expected), "\(args): \(e)")
      }
    }
  }

  func testDeclarationDescribesEveryOption() throws {
    let json = try JSONSerialization.jsonObject(with: Data(TrainArguments.declarationJSON.utf8)) as! [String: Any]
    let options = json["options"] as! [[String: Any]]
    let byName = Dictionary(uniqueKeysWithValues: options.map { ($0["name"] as! String, $0) })
    XCTAssertEqual(byName["hidden"]?["default"] as? String, "128,128")
    XCTAssertEqual(byName["no-starting-rows"]?["flag"] as? Bool, true)
    XCTAssertEqual(byName["target"]?["required"] as? Bool, true)
    XCTAssertNil(byName["help"])
    XCTAssertTrue(["seed", "epochs", "lr", "weight-decay", "min-class-rows", "add-to", "threads"].allSatisfy { byName[$0] != nil })
  }
}

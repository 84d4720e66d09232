import EmberText
import EmberTrainer
import Foundation

extension TrainingSummary {
  /// The summary as one JSON object (snake_case keys; non-finite numbers as null).
  var json: String {
    let classLines = classes.map { c in
      "{\"label\":\(JSONText.quoted(c.label)),\"train_rows\":\(c.trainRows),\"heldout_rows\":\(c.heldoutRows),"
        + "\"trained\":\(c.trained),\"threshold\":\(jsonNumber(c.threshold.map(Double.init)))}"
    }
    return "{\"source_rows\":\(sourceRows),\"width\":\(width),\"seconds\":\(jsonNumber(seconds)),"
      + "\"balanced_accuracy\":\(jsonNumber(balancedAccuracy)),\"raw_balanced_accuracy\":\(jsonNumber(rawBalancedAccuracy)),"
      + "\"temperature\":\(jsonNumber(temperature)),\"ood_auroc\":\(jsonNumber(oodAUROC)),\"heldout_rows\":\(heldoutRows),"
      + "\"warnings\":[\(warnings.map(JSONText.quoted).joined(separator: ","))],"
      + "\"classes\":[\(classLines.joined(separator: ","))]}"
  }
}

/// A JSON number, or null when absent or not finite.
private func jsonNumber(_ v: Double?) -> String {
  guard let v, v.isFinite else { return "null" }
  return "\(v)"
}

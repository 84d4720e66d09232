import EmberCommands
import EmberTrainer
import Foundation

/// How `ember train` shows its progress on stderr.
enum ProgressMode: String, CaseIterable {
  /// `bar` on a terminal, `lines` otherwise.
  case auto
  /// One line redrawn in place (≤ 10×/s).
  case bar
  /// Plain lines: one when a class finishes, and a status line every few seconds.
  case lines
  /// One JSON object per line (per class finished, and at most one a second otherwise).
  case json
  /// Nothing (`--quiet`).
  case none

  /// `auto` resolved for stderr.
  func resolved(stderrIsTerminal: Bool) -> ProgressMode {
    self == .auto ? (stderrIsTerminal ? .bar : .lines) : self
  }
}

/// The progress display: collects the workers' reports (thread-safe) and writes them in the
/// chosen mode. Overall progress is the mean of the classes' fractions; the ETA assumes the rest
/// goes at the pace so far.
final class ProgressDisplay: @unchecked Sendable {
  let mode: ProgressMode
  /// Seconds between two status lines (`lines`) or objects (`json`).
  let interval: Double
  private let lock = NSLock()
  private var done: [Int: Double] = [:]
  private let started = Date()
  private var lastWrite = Date.distantPast
  private var drawn = false

  init(mode: ProgressMode, interval: Double? = nil) {
    self.mode = mode
    self.interval = interval ?? (mode == .bar ? 0.1 : mode == .json ? 1 : 5)
  }

  /// Whether reports should be sent at all.
  var enabled: Bool { mode != .none }

  @Sendable func report(_ p: TrainingProgress) {
    lock.lock()
    defer { lock.unlock() }
    done[p.classIndex] = p.fraction
    let now = Date()
    guard p.finished || now.timeIntervalSince(lastWrite) >= interval else { return }
    lastWrite = now
    let fraction = done.values.reduce(0, +) / Double(max(p.classCount, 1))
    let elapsed = now.timeIntervalSince(started)
    // No estimate before 2 % (the first steps say little about the pace).
    let eta = fraction >= 0.02 ? elapsed * (1 - fraction) / fraction : Double.nan
    let where_ = "class \(p.classIndex + 1)/\(p.classCount) \"\(visible(p.label))\" phase \(p.phase)/\(p.phases)"
    let step = p.finished ? "done at step \(p.epoch)" : "step \(p.epoch)/\(p.epochs)"
    let loss = p.loss.isFinite ? String(format: " loss %.4f", p.loss) : ""
    let tail =
      String(format: " | %3.0f%% elapsed %.0fs ETA ", 100 * fraction, elapsed)
      + (eta.isFinite ? String(format: "%.0fs", eta) : "-")
    switch mode {
    case .bar:
      writeStderr("\r\u{1B}[Ktraining " + where_ + " " + step + loss + tail)
      drawn = true
    case .lines:
      writeStderr("ember train: " + where_ + " " + step + loss + tail + "\n")
    case .json:
      var fields: [(String, String)] = [
        ("event", p.finished ? "\"class_done\"" : "\"progress\""), ("class", String(p.classIndex + 1)),
        ("classes", String(p.classCount)), ("label", jsonString(p.label)), ("phase", String(p.phase)),
        ("phases", String(p.phases)), ("step", String(p.epoch)), ("steps", String(p.epochs)),
      ]
      if p.loss.isFinite { fields.append(("loss", String(format: "%.6g", p.loss))) }
      fields += [
        ("fraction", String(format: "%.4f", fraction)), ("elapsed_seconds", String(format: "%.1f", elapsed)),
        ("eta_seconds", eta.isFinite ? String(format: "%.1f", eta) : "null"),
      ]
      writeStderr("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}\n")
    case .auto, .none:
      break
    }
  }

  /// A one-off line in `lines` mode (e.g. what is being read), nothing in the others.
  func note(_ text: String) {
    guard mode == .lines else { return }
    writeStderr("ember train: " + visible(text) + "\n")
  }

  /// Clears the bar.
  func finish() {
    lock.lock()
    defer { lock.unlock() }
    if drawn { writeStderr("\r\u{1B}[K") }
    drawn = false
  }
}

func writeStderr(_ s: String) {
  FileHandle.standardError.write(s.data(using: .utf8)!)
}

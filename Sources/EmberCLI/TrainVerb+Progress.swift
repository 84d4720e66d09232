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

/// The progress display: collects the reports (thread-safe) and writes them in the chosen
/// mode. Overall progress is the mean of the classes' fractions; the ETA assumes the rest goes
/// at the pace so far. Every stage reports (reading passes, base choice, network steps, scale,
/// calibration, read-out), and a heartbeat repeats the latest status when nothing was written
/// for an interval, so a log never goes silent for longer than that.
final class ProgressDisplay: @unchecked Sendable {
  let mode: ProgressMode
  /// Seconds between two status lines (`lines`) or objects (`json`).
  let interval: Double
  private let lock = NSLock()
  private var done: [Int: Double] = [:]
  private let started = Date()
  private var lastWrite = Date.distantPast
  private var drawn = false
  private var latest: TrainingProgress?
  private var stopped = false

  init(mode: ProgressMode, interval: Double? = nil) {
    self.mode = mode
    self.interval = interval ?? (mode == .bar ? 0.1 : mode == .json ? 1 : 5)
    if mode == .lines || mode == .json || mode == .bar {
      Thread.detachNewThread { [self] in heartbeat() }
    }
  }

  /// Whether reports should be sent at all.
  var enabled: Bool { mode != .none }

  @Sendable func report(_ p: TrainingProgress) {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    if p.classIndex >= 0 { done[p.classIndex] = p.fraction }
    latest = p
    let now = Date()
    guard p.finished || now.timeIntervalSince(lastWrite) >= interval else { return }
    write(p, now: now)
  }

  /// Repeats the latest status (with the current elapsed time) after `interval` of silence
  /// (at least a second in `bar` mode, where the status line stays on screen).
  private func heartbeat() {
    let quiet = mode == .bar ? 1.0 : interval
    while true {
      Thread.sleep(forTimeInterval: min(0.25, quiet))
      lock.lock()
      defer { lock.unlock() }
      if stopped { return }
      let now = Date()
      if let p = latest, now.timeIntervalSince(lastWrite) >= quiet {
        var again = p
        again.finished = false
        write(again, now: now)
      }
    }
  }

  /// Writes one status (the lock is held).
  private func write(_ p: TrainingProgress, now: Date) {
    lastWrite = now
    let fraction = done.values.reduce(0, +) / Double(max(p.classCount, 1))
    let elapsed = now.timeIntervalSince(started)
    // No estimate before 2 % (the first steps say little about the pace), nor while reading.
    let eta = fraction >= 0.02 && p.stage != .reading ? elapsed * (1 - fraction) / fraction : Double.nan
    let status = Self.status(p)
    let tail =
      String(format: " | %3.0f%% elapsed %.0fs ETA ", 100 * fraction, elapsed)
      + (eta.isFinite ? String(format: "%.0fs", eta) : "-")
    switch mode {
    case .bar:
      writeStderr("\r\u{1B}[Ktraining " + status + tail)
      drawn = true
    case .lines:
      writeStderr("ember train: " + status + tail + "\n")
    case .json:
      var fields: [(String, String)] = [
        ("event", p.finished && p.classIndex >= 0 && p.stage == .network ? "\"class_done\"" : "\"progress\""),
        ("stage", "\"\(p.stage.rawValue)\""),
      ]
      if p.classIndex >= 0 {
        fields += [
          ("class", String(p.classIndex + 1)), ("classes", String(p.classCount)), ("label", jsonString(p.label)),
        ]
      }
      fields += [
        ("phase", String(p.phase)), ("phases", String(p.phases)), ("step", String(p.epoch)), ("steps", String(p.epochs)),
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

  /// What the report says the trainer is doing, in words.
  static func status(_ p: TrainingProgress) -> String {
    let where_ = "class \(p.classIndex + 1)/\(p.classCount) \"\(visible(p.label))\" phase \(p.phase)/\(p.phases)"
    switch p.stage {
    case .reading:
      return "reading the data, pass \(p.phase): \(p.epoch) rows" + (p.finished ? " (pass done)" : "")
    case .base:
      return where_ + " choosing the base: candidate \(p.epoch)/\(p.epochs)"
    case .scale:
      return where_ + " choosing the network scale and normaliser"
    case .calibration:
      return "calibration: held-out energies of \(p.epochs) rows"
    case .readout:
      return "read-out: fit \(p.epoch + 1)/\(p.epochs) (cross-fitted, then the shipped one)"
    case .network:
      let step = p.finished ? "done at step \(p.epoch)" : "step \(p.epoch)/\(p.epochs)"
      let loss = p.loss.isFinite ? String(format: " loss %.4f", p.loss) : ""
      return where_ + " " + step + loss
    }
  }

  /// A one-off line in `lines` mode (e.g. what is being read), nothing in the others.
  func note(_ text: String) {
    guard mode == .lines else { return }
    writeStderr("ember train: " + visible(text) + "\n")
  }

  /// Clears the bar and stops the heartbeat.
  func finish() {
    lock.lock()
    defer { lock.unlock() }
    stopped = true
    if drawn { writeStderr("\r\u{1B}[K") }
    drawn = false
  }
}

func writeStderr(_ s: String) {
  FileHandle.standardError.write(s.data(using: .utf8)!)
}

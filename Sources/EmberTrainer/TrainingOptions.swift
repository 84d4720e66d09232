import EmberFormat
import Foundation

/// Everything `ember train` can be told.
public struct TrainingOptions: Sendable {
  /// Label column.
  public var target: String
  /// Objective and network hyper-parameters.
  public var settings = ObjectiveSettings()
  /// Seed of every random draw (split, initialisation, noise, jitter).
  public var seed: UInt64 = 0
  /// Classes with fewer rows are left out.
  public var minClassRows = 10
  /// Type overrides and ignored columns.
  public var overrides = ColumnOverrides()
  /// Store the encoded rows of each class as chain starting points. Off by default: a file
  /// that ships to a device should not carry its training rows; synthesis then draws from the
  /// fitted energy alone.
  public var storeStartingRows = false
  /// Worker threads (0: one per core).
  public var threads = 0
  /// Share of each class held out for calibration and metrics.
  public var heldoutFraction = 0.2
  /// Fit the classification temperature and per-class offsets on the held-out rows (else
  /// T = 1, offsets 0: raw energies).
  public var fitReadout = true
  /// Also try a stacked read-out (C×C linear map of the energies, fitted on held-out rows);
  /// kept only when its cross-fitted balanced accuracy is higher.
  public var stackedReadout = true
  /// Most held-out rows the classification read-outs are fitted and chosen on (the same share
  /// of every class); calibration tables and metrics use every held-out row.
  public var readoutRows = 4_000
  /// Large classes (trained on one split): after choosing on the held-out rows, refit the base
  /// and network on all rows and ship those (calibration stays that of the held-out split).
  /// Small classes are cross-fitted and always refit.
  public var refit = false
  /// Time budget of the whole run in seconds (nil: none). Classes still training when their
  /// share of it runs out stop at their best held-out checkpoint so far; the summary and the
  /// file's metadata (`trainer.max_seconds`) name them. A cut run depends on the machine's
  /// speed, so it is not reproducible byte for byte.
  public var maxSeconds: Double?
  /// A model to extend with the classes of the CSV that it does not have yet.
  public var addTo: String?
  /// The command line, recorded in the provenance.
  public var command = ""
  /// Version recorded as the producer's.
  public var producerVersion = "0.1.0"
  /// When set, `created` takes this value and `trainSeconds` is 0, so that the same inputs give
  /// the same bytes. Defaults to the `SOURCE_DATE_EPOCH` environment variable.
  public var sourceDateEpoch: Int64? = TrainingOptions.environmentEpoch()

  /// Options for the label column `target`, everything else at its default.
  public init(target: String) {
    self.target = target
  }

  /// `SOURCE_DATE_EPOCH` as an integer, if set.
  public static func environmentEpoch() -> Int64? {
    ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
  }
}

/// A progress report: reading, a worker's class (phase, step and the step's loss), or the
/// read-out and calibration at the end.
public struct TrainingProgress: Sendable {
  /// What the trainer is doing.
  public enum Stage: String, Sendable, CaseIterable {
    /// A streaming pass over the CSV: `phase` is the pass (1-based), `epoch` the rows read so
    /// far in it (`epochs` 0: not known in advance). No class (`classIndex` −1).
    case reading
    /// Comparing base candidates on held-out rows (`epoch` of `epochs` candidates), then
    /// fitting the chosen base per fold (mixtures by EM).
    case base
    /// Training a residual network: `epoch` of at most `epochs` steps, in `phase` of `phases`.
    case network
    /// Choosing the network's scale and normaliser on held-out rows.
    case scale
    /// Held-out energies of every class for calibration (no class).
    case calibration
    /// Fitting and cross-fitting the classification read-out: `epoch` of `epochs` fits (no class).
    case readout
  }

  /// What the trainer is doing (``Stage/network`` for reports from the training steps).
  public var stage: Stage = .network
  /// Index of the class among those being trained.
  public var classIndex: Int
  /// Its label.
  public var label: String
  /// Step just finished in this phase (1-based).
  public var epoch: Int
  /// Most steps of this phase (it may stop earlier, at its best held-out loss).
  public var epochs: Int
  /// Loss of that step (objective + penalty).
  public var loss: Double
  /// Classes being trained.
  public var classCount: Int
  /// Training phase of the class (1-based): one per cross-fitting fold, then the final fit.
  public var phase: Int = 1
  /// Phases of the class.
  public var phases: Int = 1
  /// True on the last report of a class: its fit is done (base, network and scale chosen).
  public var finished = false

  /// Creates a report.
  public init(
    classIndex: Int, label: String, epoch: Int, epochs: Int, loss: Double, classCount: Int, phase: Int = 1,
    phases: Int = 1
  ) {
    self.classIndex = classIndex
    self.label = label
    self.epoch = epoch
    self.epochs = epochs
    self.loss = loss
    self.classCount = classCount
    self.phase = phase
    self.phases = phases
  }

  /// A report of reading pass `pass` (`rows` read so far in it).
  public init(reading pass: Int, rows: Int) {
    self.init(classIndex: -1, label: "", epoch: rows, epochs: 0, loss: .nan, classCount: 0, phase: pass, phases: 0)
    stage = .reading
  }

  /// A report of a stage after the classes (calibration, read-out): `step` of `steps`.
  public init(stage: Stage, step: Int, steps: Int, classCount: Int) {
    self.init(classIndex: -1, label: "", epoch: step, epochs: steps, loss: .nan, classCount: classCount)
    self.stage = stage
  }

  /// Progress of the class in [0, 1], phases counted equally.
  public var fraction: Double {
    if finished { return 1 }
    // Stages between the training runs count as the start of their phase.
    if stage != .network { return Double(max(phase - 1, 0)) / Double(max(phases, 1)) }
    return (Double(phase - 1) + Double(epoch) / Double(max(epochs, 1))) / Double(max(phases, 1))
  }
}

/// What a training run did, for the summary on stderr and for tests.
public struct TrainingSummary: Sendable {
  /// One trained or kept class.
  public struct ClassLine: Sendable {
    /// Label.
    public var label: String
    /// Rows trained on.
    public var trainRows: Int
    /// Held-out rows.
    public var heldoutRows: Int
    /// Whether this run trained it (false: copied from `--add-to`).
    public var trained: Bool
    /// Held-out anomaly threshold of its energy (nil when not calibrated here).
    public var threshold: Float?
  }

  /// Per class.
  public var classes: [ClassLine]
  /// Rows read from the CSV.
  public var sourceRows: Int
  /// Encoded width d.
  public var width: Int
  /// Wall-clock seconds of the whole run.
  public var seconds: Double
  /// Held-out balanced accuracy of argmax_c [−E_c/T + log π_c + offset_c] (cross-fitted when
  /// the read-out is fitted).
  public var balancedAccuracy: Double
  /// Held-out balanced accuracy with T = 1 and no offsets (raw energies).
  public var rawBalancedAccuracy: Double
  /// Classification temperature in the file.
  public var temperature: Double
  /// Held-out mean one-class-vs-rest AUROC of E_c.
  public var oodAUROC: Double
  /// Held-out rows scored.
  public var heldoutRows: Int
  /// Notes on the data (dropped classes, imputed cells, …).
  public var warnings: [String]
  /// Classes whose training the time budget (`maxSeconds`) cut short.
  public var outOfTime: [String] = []
  /// The time budget, when there was one.
  public var maxSeconds: Double? = nil

  /// A few human-readable lines.
  public var text: String {
    var lines: [String] = []
    for w in warnings { lines.append("warning: \(w)") }
    if let budget = maxSeconds, !outOfTime.isEmpty {
      lines.append(
        "note: time budget \(TrainingSummary.seconds(budget)) s: "
          + outOfTime.map { "\"\($0)\"" }.joined(separator: ", ")
          + " stopped early, at the best held-out checkpoint reached in time")
    }
    lines.append("data: \(sourceRows) rows, \(classes.count) classes, encoded width \(width)")
    for c in classes {
      let t = c.threshold.map { String(format: "%.3f", $0) } ?? "-"
      lines.append(
        c.trained
          ? "  class \"\(c.label)\": \(c.trainRows) train, \(c.heldoutRows) held out, threshold \(t)"
          : "  class \"\(c.label)\": kept from the model (\(c.trainRows) train rows there); \(c.heldoutRows) rows of the CSV scored"
      )
    }
    lines.append(
      String(
        format: "held-out (%d rows): balanced accuracy %.3f (raw energies %.3f), OOD AUROC %.3f; %.1f s",
        heldoutRows, balancedAccuracy, rawBalancedAccuracy, oodAUROC, seconds))
    return lines.joined(separator: "\n")
  }
}

extension TrainingSummary {
  /// `30` or `2.5`: a budget as it was given.
  static func seconds(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
  }
}

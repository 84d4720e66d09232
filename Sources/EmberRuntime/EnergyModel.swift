import EmberFormat
import _EmberKernels

/// The per-class energies of a loaded model, ready to evaluate in batches.
///
/// E_c(x) = s_c · term_c(x) + E_base,c(x) over the encoded row x (width ``width``). Weights are
/// packed once at construction (O(parameters)); evaluation is allocation-free given an
/// ``EnergyWorkspace``. An `EnergyModel` is immutable and safe to share across threads; each
/// thread uses its own workspace.
public final class EnergyModel: @unchecked Sendable {
  /// The loaded file (kept alive: packed data was built from it).
  public let model: EmberModel
  /// Encoded width d.
  public let width: Int
  /// Row stride of gradient buffers (d rounded up to the SIMD padding).
  public let gradientStride: Int
  let classes: [PreparedClass]
  /// log π_c.
  public let logPriors: [Float]

  /// Packs `model` for computation. Throws ``EmberRuntimeError`` (`.unusableModel`) when a base
  /// precision matrix is not positive definite.
  public init(_ model: EmberModel) throws(EmberRuntimeError) {
    self.model = model
    width = model.encodedWidth
    gradientStride = padded(model.encodedWidth)
    var prepared: [PreparedClass] = []
    for (i, c) in model.classes.enumerated() { prepared.append(try PreparedClass(c, width: model.encodedWidth, index: i)) }
    classes = prepared
    logPriors = model.classes.map { Float(Double.log($0.prior)) }
  }

  private init(_ other: EnergyModel, classes: [PreparedClass]) {
    model = other.model
    width = other.width
    gradientStride = other.gradientStride
    self.classes = classes
    logPriors = other.logPriors
  }

  /// The energies with every base's recorded lattice variance taken out of its covariance
  /// (``PreparedBase/withoutLatticeVariance(_:variance:width:)``; networks, priors and the
  /// other bases shared): the energies conditional sampling and imputation condition exact
  /// values on. `self` when no base records a lattice variance. O(C·d³) when one does.
  func withoutLatticeVariance() -> EnergyModel {
    var changed = false
    var prepared = classes
    for (c, info) in model.classes.enumerated() {
      guard let base = info.base else { continue }
      let variance = base.latticeVariance.map(Double.init)
      guard let corrected = PreparedBase.withoutLatticeVariance(base, variance: variance, width: width) else {
        continue
      }
      prepared[c] = PreparedClass(classes[c], base: corrected)
      changed = true
    }
    return changed ? EnergyModel(self, classes: prepared) : self
  }

  /// Number of classes C.
  public var classCount: Int { classes.count }

  /// Class labels in model order.
  public var labels: [String] { model.classes.map { $0.label } }

  /// Energies of `count` rows (row-major count×d at `rows`) for every class, written
  /// row-major count×C into `energies`. `count` ≤ the workspace batch. O(count · parameters).
  public func energies(
    rows: UnsafePointer<Float>, count: Int, into energies: UnsafeMutablePointer<Float>,
    workspace: EnergyWorkspace
  ) {
    for c in classes.indices {
      classes[c].evaluate(
        rows: rows, count: count, workspace: workspace.classes[c], energies: energies + c,
        stride: classes.count, gradients: nil)
    }
  }

  /// Energies of class `classIndex` for `count` rows into `energies[0..<count]`, and, when
  /// `gradients` is non-nil, ∇ₓE into rows of stride ``gradientStride``.
  public func energy(
    classIndex: Int, rows: UnsafePointer<Float>, count: Int, into energies: UnsafeMutablePointer<Float>,
    gradients: UnsafeMutablePointer<Float>?, workspace: EnergyWorkspace
  ) {
    classes[classIndex].evaluate(
      rows: rows, count: count, workspace: workspace.classes[classIndex], energies: energies,
      stride: 1, gradients: gradients)
  }

  /// Convenience: energies for rows given as a flat array (count×d), returned count×C.
  /// Allocates a workspace; prefer the pointer API in loops.
  public func energies(_ rows: [Float]) -> [Float] {
    let count = rows.count / max(width, 1)
    guard count > 0 else { return [] }
    let batch = min(count, 256)
    let ws = EnergyWorkspace(self, batch: batch)
    var out = [Float](repeating: 0, count: count * classCount)
    rows.withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer { e in
        var start = 0
        while start < count {
          let n = min(batch, count - start)
          energies(rows: x.baseAddress! + start * width, count: n, into: e.baseAddress! + start * classCount, workspace: ws)
          start += n
        }
      }
    }
    return out
  }

  /// Convenience: energies and gradients (count×d, unpadded) of one class for a flat array.
  public func energyAndGradient(classIndex: Int, rows: [Float]) -> (energies: [Float], gradients: [Float]) {
    let count = rows.count / max(width, 1)
    guard count > 0 else { return ([], []) }
    let ws = EnergyWorkspace(self, batch: count)
    var e = [Float](repeating: 0, count: count)
    var g = [Float](repeating: 0, count: count * gradientStride)
    rows.withUnsafeBufferPointer { x in
      e.withUnsafeMutableBufferPointer { ep in
        g.withUnsafeMutableBufferPointer { gp in
          energy(classIndex: classIndex, rows: x.baseAddress!, count: count, into: ep.baseAddress!, gradients: gp.baseAddress!, workspace: ws)
        }
      }
    }
    var out = [Float](repeating: 0, count: count * width)
    for r in 0..<count { for i in 0..<width { out[r * width + i] = g[r * gradientStride + i] } }
    return (e, out)
  }

  /// The SIMD level the kernels run at: "avx512", "avx2" or "baseline".
  public static var simdLevel: String {
    switch ek_simd_level() {
    case 3: "avx512"
    case 2: "avx2"
    default: "baseline"
    }
  }
}

/// Per-thread scratch memory for an ``EnergyModel`` at a maximum batch size.
public final class EnergyWorkspace: @unchecked Sendable {
  /// Largest row count one call may pass.
  public let batch: Int
  let classes: [ClassWorkspace]

  /// Allocates buffers for batches of up to `batch` rows. O(batch · widest layer · classes).
  public init(_ model: EnergyModel, batch: Int) {
    self.batch = max(batch, 1)
    classes = model.classes.map { ClassWorkspace($0, batch: max(batch, 1)) }
  }
}

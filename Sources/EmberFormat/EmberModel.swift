import _EmberFlatBuffers

/// Weight storage of one dense layer, read in place from the model bytes.
package enum WeightStorage: @unchecked Sendable {
  case float32(UnsafeBufferPointer<Float>)
  case float16(UnsafeBufferPointer<UInt16>)

  /// Number of stored values.
  package var count: Int {
    switch self {
    case .float32(let p): p.count
    case .float16(let p): p.count
    }
  }

  /// Value `i` as Float.
  package subscript(i: Int) -> Float {
    switch self {
    case .float32(let p): p[i]
    case .float16(let p): Half.value(p[i])
    }
  }

  /// All values as a new Float array.
  package func floats() -> [Float] { (0..<count).map { self[$0] } }
}

/// One dense layer of a loaded model. Its weights are read in place from the file.
public struct LayerInfo: @unchecked Sendable {
  /// Input width.
  public let inputs: Int
  /// Output width.
  public let outputs: Int
  /// Nonlinearity.
  public let activation: Activation
  /// Storage type of the weights in the file.
  public let weightType: WeightType
  /// Row-major [outputs][inputs] weights, in place.
  package let weights: WeightStorage
  /// [outputs] biases, in place.
  package let bias: UnsafeBufferPointer<Float>

  /// Parameters in this layer (weights and biases).
  public var parameterCount: Int { inputs * outputs + outputs }
}

/// The Gaussian / mixture base term of a loaded class, read in place.
public struct BaseInfo: @unchecked Sendable {
  /// Number of mixture components k.
  public let components: Int
  /// log det S of the shared covariance.
  public let logDetCovariance: Double
  /// k×d means.
  package let means: UnsafeBufferPointer<Float>
  /// k log weights.
  package let logWeights: UnsafeBufferPointer<Float>
  /// d×d precision.
  package let precision: UnsafeBufferPointer<Float>
  /// d lattice variances h²/12 carried on the covariance's diagonal, in place; empty when the
  /// file records none (format 1.3; see ``GaussianBaseSpec/latticeVariance``).
  package let latticeVariance: UnsafeBufferPointer<Float>

  /// Encoded slots whose lattice variance is positive (0 when none is recorded).
  public var latticeSlots: Int { latticeVariance.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}

/// One class of a loaded model.
public struct ClassInfo: @unchecked Sendable {
  /// Class label.
  public let label: String
  /// Prior π_c.
  public let prior: Double
  /// Rows of this class used in training.
  public let trainRows: Int
  /// Output mode of the network (nil when the class has no network).
  public let output: OutputMode?
  /// Network layers, input first.
  public let layers: [LayerInfo]
  /// Optional base energy.
  public let base: BaseInfo?
  /// Scale on the network term.
  public let networkScale: Float
  /// Held-out calibration of this class's energy.
  public let calibration: Calibration?
  /// Sampler defaults.
  public let sampler: SamplerDefaults?
  /// Stored encoded starting rows (n×d), in place; empty when omitted.
  package let startingRows: UnsafeBufferPointer<Float>
  /// Classification offset.
  public let offset: Float

  /// Number of stored starting rows.
  public func startingRowCount(width: Int) -> Int { width > 0 ? startingRows.count / width : 0 }

  /// Network parameter count.
  public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }
}

/// A verified, validated `.ember` model, read in place from a memory map or an aligned copy.
///
/// Loading runs, in order: the envelope's FlatBuffers verifier, the version check, a CRC-32
/// over the payload (detects any changed byte), the payload's verifier, and semantic validation
/// (shapes chain, widths agree, values finite, enums known). Any failure throws(EmberFormatError)
/// ``EmberFormatError``; nothing traps. Cost: O(file size), about a CRC pass.
public final class EmberModel: @unchecked Sendable {
  let storage: ModelStorage
  /// Version the file was written with.
  public let formatVersion: FormatVersion
  /// Oldest reader version the file says can read it.
  public let minimumReaderVersion: FormatVersion
  /// File size in bytes.
  public let byteCount: Int
  /// CRC-32 of the payload as stored (and checked).
  public let checksum: UInt32
  /// Who made the file.
  public let provenance: Provenance
  /// Name of the label column.
  public let target: String
  /// Input columns.
  public let features: [FeatureSpec]
  /// Encoded width d.
  public let encodedWidth: Int
  /// Classes.
  public let classes: [ClassInfo]
  /// Shared classification temperature.
  public let temperature: Float
  /// Calibration of the overall score.
  public let scoreCalibration: Calibration?
  /// Optional stacked classification read-out (format 1.1).
  public let readout: StackedReadout?
  /// Metadata key/values.
  public let metadata: [String: String]

  /// Lets the operating system drop the file's resident pages once what the caller uses often
  /// has been copied out (the runtime's packed weights); bytes read later in place (inspect,
  /// stored starting rows, gradient weights) are read again from the file. No effect on a
  /// model loaded from bytes.
  public func releaseResidentPages() { storage.releaseResidentPages() }

  /// Maps and loads the file at `path`. Errors carry the path in their location.
  public convenience init(path: String) throws(EmberFormatError) {
    do {
      try self.init(storage: try ModelStorage(path: path))
    } catch {
      throw error.location.hasPrefix(path) ? error : error.located(in: path)
    }
  }

  /// Loads a model from bytes (copied once into 64-byte-aligned memory).
  public convenience init(bytes: [UInt8]) throws(EmberFormatError) {
    let storage = bytes.withUnsafeBytes { ModelStorage(bytes: $0) }
    try self.init(storage: storage)
  }

  init(storage: ModelStorage) throws(EmberFormatError) {
    self.storage = storage
    byteCount = storage.count
    var env = embr_envelope()
    let bytes = storage.base.assumingMemoryBound(to: UInt8.self)
    switch embr_read_envelope(bytes, storage.count, &env) {
    case Int32(EMBR_OK): break
    case Int32(EMBR_TOO_SMALL), Int32(EMBR_NO_PAYLOAD):
      throw EmberFormatError(.truncated, "too short to be an .ember model (\(storage.count) bytes)")
    case Int32(EMBR_BAD_IDENTIFIER):
      throw EmberFormatError(.notAModel, "missing the EMBR file identifier: not an .ember model")
    case Int32(EMBR_TOO_LARGE):
      throw EmberFormatError(.malformed, "file larger than the 2 GiB FlatBuffers limit")
    default:
      if let end = declaredPayloadEnd(bytes, storage.count), end > storage.count {
        throw EmberFormatError(
          .truncated, "the payload runs past the end of the file (\(storage.count) bytes, payload ends at byte \(end))",
          at: "payload")
      }
      throw EmberFormatError(.malformed, "the FlatBuffers verifier rejected the file envelope (truncated or corrupted)")
    }
    guard env.has_version != 0 else {
      throw EmberFormatError(.malformed, "the envelope has no format version", at: "format_version")
    }
    let version = FormatVersion(major: env.major, minor: env.minor)
    let minReader = env.has_min_reader != 0 ? FormatVersion(major: env.min_major, minor: env.min_minor) : version
    let current = FormatVersion.current
    guard version.major == current.major else {
      throw EmberFormatError(
        .unsupportedVersion,
        "file format \(version) has major version \(version.major); this reader reads \(current) (major \(current.major))",
        at: "format_version")
    }
    guard minReader <= current else {
      throw EmberFormatError(
        .unsupportedVersion, "file format \(version) needs a reader of at least \(minReader); this reader is \(current)",
        at: "min_reader_version")
    }
    formatVersion = version
    minimumReaderVersion = minReader
    let crc = embr_crc32(0, env.payload, Int(env.payload_size))
    guard crc == env.payload_crc32 else {
      throw EmberFormatError(
        .checksumMismatch,
        "payload checksum \(hex(crc)) does not match the stored \(hex(env.payload_crc32)): the file was modified or corrupted",
        at: "payload")
    }
    checksum = crc
    guard UInt(bitPattern: env.payload) % 64 == 0 else {
      throw EmberFormatError(.malformed, "payload is not 64-byte aligned", at: "payload")
    }
    let payload = env.payload!
    guard embr_verify_model(payload, Int(env.payload_size)) == EMBR_OK else {
      throw EmberFormatError(.malformed, "the FlatBuffers verifier rejected the model payload", at: "payload")
    }
    let decoded = try PayloadDecoder(payload: payload).decode()
    provenance = decoded.provenance
    target = decoded.target
    features = decoded.features
    encodedWidth = decoded.encodedWidth
    classes = decoded.classes
    temperature = decoded.temperature
    scoreCalibration = decoded.scoreCalibration
    readout = decoded.readout
    metadata = decoded.metadata
    try ModelValidator.validate(self)
  }

  /// Index of the class labelled `label`, if any. O(classes).
  public func classIndex(of label: String) -> Int? { classes.firstIndex { $0.label == label } }

  /// A plain-value copy of the whole model (weights copied out, fp16 widened to Float).
  public func spec() -> ModelSpec {
    ModelSpec(
      provenance: provenance, target: target, features: features,
      classes: classes.indices.map(classSpec), temperature: temperature,
      scoreCalibration: scoreCalibration, metadata: metadata, readout: readout)
  }

  /// A plain-value copy of class `index`.
  public func classSpec(_ index: Int) -> ClassSpec {
    let c = classes[index]
    return ClassSpec(
      label: c.label, prior: c.prior, trainRows: c.trainRows,
      layers: c.layers.map {
        DenseLayerSpec(
          inputs: $0.inputs, outputs: $0.outputs, activation: $0.activation, weightType: $0.weightType,
          weights: $0.weights.floats(), bias: Array($0.bias))
      },
      output: c.output ?? .logOdds,
      base: c.base.map {
        GaussianBaseSpec(
          means: Array($0.means), logWeights: Array($0.logWeights), precision: Array($0.precision),
          logDetCovariance: $0.logDetCovariance, latticeVariance: Array($0.latticeVariance))
      },
      networkScale: c.networkScale, calibration: c.calibration, sampler: c.sampler,
      startingRows: c.startingRows.isEmpty ? nil : Array(c.startingRows), offset: c.offset)
  }
}

/// Where the envelope says its payload ends, read with bounds checks only (for telling a cut-off
/// file from a corrupted one after the verifier refused it); nil when the envelope is too
/// damaged to say.
func declaredPayloadEnd(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
  func u32(_ at: Int) -> Int? {
    guard at >= 0, at + 4 <= count else { return nil }
    return Int(p[at]) | Int(p[at + 1]) << 8 | Int(p[at + 2]) << 16 | Int(p[at + 3]) << 24
  }
  func u16(_ at: Int) -> Int? {
    guard at >= 0, at + 2 <= count else { return nil }
    return Int(p[at]) | Int(p[at + 1]) << 8
  }
  guard let table = u32(0), let soffset = u32(table) else { return nil }
  let vtable = table - Int(Int32(truncatingIfNeeded: UInt32(soffset)))
  // ModelFile.payload is field 3: vtable slot 4 + 2·3.
  guard let vtableSize = u16(vtable), vtableSize >= 12, let fieldOffset = u16(vtable + 10), fieldOffset != 0 else { return nil }
  let field = table + fieldOffset
  guard let rel = u32(field) else { return nil }
  let vector = field + rel
  guard let length = u32(vector) else { return vector + 4 }
  return vector + 4 + length
}

func hex(_ v: UInt32) -> String {
  let s = String(v, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}

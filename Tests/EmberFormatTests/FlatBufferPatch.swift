import EmberFormat

/// Finds fields inside a `Model` payload by walking FlatBuffers tables by hand, so tests can
/// patch single values (unknown enum values, inconsistent counts) that no valid writer emits.
///
/// Field ids are the declaration order in `schema/ember.fbs`.
struct PayloadPatcher {
  var bytes: [UInt8]

  func u32(_ at: Int) -> Int {
    Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
  }
  func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }

  /// Offset of the root `Model` table.
  var root: Int { u32(0) }

  /// Absolute position of field `id` of the table at `table`, or nil when absent.
  func field(_ table: Int, _ id: Int) -> Int? {
    let vtable = table - Int(Int32(truncatingIfNeeded: u32(table)))
    let vtableSize = u16(vtable)
    let slot = 4 + 2 * id
    guard slot + 2 <= vtableSize else { return nil }
    let off = u16(vtable + slot)
    return off == 0 ? nil : table + off
  }

  /// The table or vector a reference field points to.
  func deref(_ table: Int, _ id: Int) -> Int? {
    guard let at = field(table, id) else { return nil }
    return at + u32(at)
  }

  /// Element `i` (a table) of the vector of tables at field `id`.
  func element(_ table: Int, _ id: Int, _ i: Int) -> Int? {
    guard let vector = deref(table, id) else { return nil }
    let at = vector + 4 + 4 * i
    return at + u32(at)
  }

  mutating func setByte(_ at: Int, _ value: UInt8) { bytes[at] = value }
  mutating func setU32(_ at: Int, _ value: UInt32) {
    for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
  }

  // Schema field ids.
  enum Model { static let features = 2, encodedWidth = 3, classes = 4 }
  enum Feature { static let kind = 1, slotCount = 9 }
  enum ClassModel { static let network = 3, base = 4, sampler = 7 }
  enum Network { static let layers = 0, output = 1 }
  enum Layer { static let inputs = 0, outputs = 1, activation = 2, weightType = 3 }
  enum Base { static let components = 4 }
  enum Sampler { static let kind = 0, initialization = 7 }

  func feature(_ i: Int) -> Int { element(root, Model.features, i)! }
  func classTable(_ i: Int) -> Int { element(root, Model.classes, i)! }
  func network(_ c: Int) -> Int { deref(classTable(c), ClassModel.network)! }
  func layer(_ c: Int, _ l: Int) -> Int { element(network(c), Network.layers, l)! }
  func base(_ c: Int) -> Int { deref(classTable(c), ClassModel.base)! }
  func sampler(_ c: Int) -> Int { deref(classTable(c), ClassModel.sampler)! }
}

extension PayloadPatcher {
  /// The payload of `spec` (written without semantic checks), patched by `edit`, inside a
  /// valid envelope with a correct checksum.
  static func file(_ spec: ModelSpec, _ edit: (inout PayloadPatcher) -> Void) throws -> [UInt8] {
    var p = PayloadPatcher(bytes: ModelWriter.payloadBytes(spec))
    edit(&p)
    return try ModelWriter.envelope(payload: p.bytes, version: .current, minReader: FormatVersion(major: FormatVersion.current.major, minor: 0))
  }
}

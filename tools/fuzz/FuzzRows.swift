// libFuzzer entry point for the CSV reader and the runtime's row encoder (the first steps of
// the one path a raw row takes). Compiled by tools/fuzz/run.sh into one module with
// EmberFormat, EmberText (the CSV reader and number parser) and the encoder's sources.
//
// The input is a CSV file. Its first record is the header; every record with as many fields
// as the header is encoded with a fixed model of three features (x numeric, n integer,
// color categorical). The first input byte's low bit picks the unknown-category policy.
// Invariants (a violation traps and libFuzzer reports it):
//   - reading never fails except with a CSV error that names the input and a line;
//   - encoding either throws an EmberRuntimeError with a message (and, for a cell, the
//     field index within the record), or writes d finite values within ±1e6 whose one-hot
//     slots hold exactly one 1;
//   - an unknown category is flagged only under the missing policy.

import EmberText

let fuzzModel: EmberModel = {
  let features = [
    FeatureSpec(name: "x", kind: .numeric, imputeValue: 0.5, mean: 0.5, std: 1e-3, min: -1e30, max: 1e30, slotOffset: 0),
    FeatureSpec(name: "n", kind: .integer, imputeValue: 3, mean: 3, std: 2, min: 0, max: 9, slotOffset: 1),
    FeatureSpec(name: "color", kind: .categorical, imputeValue: 1, categories: ["red", "blue", "g\"r,een"], slotOffset: 2, slotCount: 3),
  ]
  let precision: [Float] = (0..<25).map { $0 % 6 == 0 ? 1 : 0 }
  let spec = ModelSpec(
    target: "kind", features: features,
    classes: [ClassSpec(label: "a", prior: 1, base: GaussianBaseSpec(means: [0, 0, 0, 0, 0], logWeights: [0], precision: precision, logDetCovariance: 0))])
  return try! EmberModel(bytes: try! ModelWriter.serialize(spec))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func emberFuzzRows(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let policy: UnknownCategoryPolicy = size > 0 && data![0] & 1 == 1 ? .error : .missing
  // Small records and chunks, so that the limits and the chunk boundaries are reached too.
  let reader = CSVReader(
    bytes: UnsafeRawBufferPointer(start: data, count: size), name: "fuzz.csv", maxRecordBytes: 4096, maxFields: 64)
  do throws(TextError) {
    guard let header = try reader.next()?.strings() else { return 0 }
    let encoder: RowEncoder
    do {
      encoder = try RowEncoder(model: fuzzModel, header: header, unknownCategories: policy)
    } catch {
      precondition(!error.message.isEmpty && [.missingColumns].contains(error.code), "bad header error \(error.code)")
      return 0
    }
    var out = [Float](repeating: .nan, count: fuzzModel.encodedWidth)
    while let fields = try reader.next() {
      precondition(fields.line >= 2, "record line \(fields.line)")
      guard fields.count == header.count else { continue }
      do {
        let flags = try out.withUnsafeMutableBufferPointer { (p) throws(EmberRuntimeError) in try encoder.encode(fields, into: p.baseAddress!) }
        precondition(out.allSatisfy { $0.isFinite && abs($0) <= ModelLimits.encodedMagnitude }, "encoded \(out)")
        precondition(out[2] + out[3] + out[4] == 1, "one-hot \(out)")
        precondition(policy == .missing || flags.isEmpty, "flagged under the strict policy")
      } catch {
        precondition(!error.message.isEmpty, "empty message")
        precondition(error.column.map { $0 >= 0 && $0 < fields.count } ?? false, "error without its field: \(error)")
        precondition(error.code == .badValue || (error.code == .unknownCategory && policy == .error), "code \(error.code)")
      }
    }
  } catch {
    precondition(!error.message.isEmpty && (error.line >= 1 || error.code == TextError.Code.invalidUTF8), "CSV error without a line: \(error.description)")
  }
  return 0
}

// `ember-text-bench score MODEL CSV --output OUT [--threads N]`: the fastest end-to-end
// scoring this machine allows with EmberText + EmberRuntime (numeric features only): batches
// of records, parse + standardise + energies + output text per block of rows on every thread,
// blocks written in order. A floor for the CLI's row pipeline, not a replacement for it.
import EmberFormat
import EmberRuntime
import EmberText
import Foundation

final class BlockBuffer: @unchecked Sendable {
  let bytes: UnsafeMutablePointer<UInt8>
  var count = 0
  let capacity: Int
  init(capacity: Int) {
    self.capacity = capacity
    bytes = .allocate(capacity: capacity)
  }
  @inline(__always) func append(byte b: UInt8) {
    bytes[count] = b
    count += 1
  }
  @inline(__always) func append(_ v: Float) { count += FloatText.write(v, into: bytes + count) }
  func append(_ s: String) {
    var s = s
    s.withUTF8 { p in
      (bytes + count).update(from: p.baseAddress!, count: p.count)
      count += p.count
    }
  }
}

func scoreFloor(model path: String, csv: String, output: String, threads: Int) throws {
  let model = try EmberModel(path: path)
  let session = try EmberSession(model)
  let energy = session.energy
  let labels = model.classes.map { $0.label }
  let reader = try CSVReader(path: csv)
  guard let headerRecord = try reader.next() else { throw TextError(.read, "empty", file: csv) }
  let header = try headerRecord.strings()
  let features = model.features
  let d = energy.width
  let c = energy.classCount
  let columns = features.map { f in header.firstIndex(of: f.name)! }
  let means = features.map { $0.mean }
  let stds = features.map { $0.std }
  let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  let out = TextOutput(fileDescriptor: fd, name: output)
  try out.append("score,percentile,anomaly,nearest_class\n")
  let block = 64
  let maxBlocks = 64
  let workspaces = (0..<threads).map { _ in EnergyWorkspace(energy, batch: block) }
  let xs = (0..<maxBlocks).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: block * d) }
  let es = (0..<maxBlocks).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: block * c) }
  let probs = (0..<maxBlocks).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: c) }
  let texts = (0..<maxBlocks).map { _ in BlockBuffer(capacity: block * (64 + 16 * c)) }
  while let batch = try reader.nextBatch(maxRecords: block * maxBlocks) {
    let n = batch.count
    let pieces = (n + block - 1) / block
    Parallel.forEach(pieces, threads: threads) { p in
      let start = p * block
      let m = min(block, n - start)
      let x = xs[p]
      for r in 0..<m {
        let record = batch[start + r]
        for f in 0..<d {
          guard case .number(let v) = DecimalParser.parseDouble(record[columns[f]]) else { fatalError("bad cell") }
          x[r * d + f] = Float((v - means[f]) / stds[f])
        }
      }
      energy.energies(rows: x, count: m, into: es[p], workspace: workspaces[p % threads])
      let text = texts[p]
      text.count = 0
      for r in 0..<m {
        let e = es[p] + r * c
        let s = session.score(e)
        let best = session.classify(e, row: x + r * d, probabilities: probs[p])
        text.append(s)
        text.append(byte: 0x2C)
        if let percentile = session.percentile(ofScore: s) { text.append(percentile) }
        text.append(byte: 0x2C)
        if let anomaly = session.isAnomaly(score: s) { text.append(byte: anomaly ? 0x31 : 0x30) }
        text.append(byte: 0x2C)
        text.append(labels[best])
        text.append(byte: 0x0A)
      }
    }
    for p in 0..<pieces { try out.append(UnsafeBufferPointer(start: texts[p].bytes, count: texts[p].count)) }
  }
  try out.flush()
  close(fd)
}

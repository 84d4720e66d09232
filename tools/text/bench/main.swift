// ember-text-bench: throughput of the EmberText layer, and a long differential check of the
// decimal parser against the C library (Float(String) / Double(String)).
//
//   swift run -c release ember-text-bench [FILE.csv] [--rows N] [--cols N] [--repeat N]
//   swift run -c release ember-text-bench --verify N      # N random inputs per kind
//
// Without FILE, writes a numeric CSV (numpy savetxt's default "%.18e" format, and Python's
// shortest repr) to a temporary file first. Prints MB/s and rows/s for: reading records only,
// reading + Float parsing of every field, reading + Double parsing, and writing floats.
import EmberRuntime
import EmberText
import Foundation

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = ContinuousClock.now
  try body()
  let d = ContinuousClock.now - start
  return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

struct Rng {
  var s: UInt64
  mutating func next() -> UInt64 {
    s &+= 0x9E37_79B9_7F4A_7C15
    var z = s
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func normal() -> Double {
    let u = Double(next() >> 11) * 0x1p-53 + 0x1p-54
    let v = Double(next() >> 11) * 0x1p-53
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
  }
}

/// A CSV of standard-normal values: format "%.6f" (the 27 MB file of the end-to-end
/// benchmark), "%.18e" (numpy savetxt's default) or "repr" (Python's shortest repr).
func writeNumericCSV(rows: Int, cols: Int, format: String) -> String {
  let path = NSTemporaryDirectory() + "ember-text-bench-\(format.filter { $0.isLetter || $0.isNumber })-\(rows)x\(cols).csv"
  if FileManager.default.fileExists(atPath: path) { return path }
  var rng = Rng(s: 1)
  var text = (0..<cols).map { "f\($0)" }.joined(separator: ",") + "\n"
  for _ in 0..<rows {
    text += (0..<cols).map { _ in
      let v = rng.normal()
      return format == "repr" ? v.description : String(format: format, v)
    }.joined(separator: ",") + "\n"
  }
  try! text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

/// ns per parse of a few typical cells, parsed over and over.
func benchCells() {
  let cells = ["-0.8219743637621047", "-8.219743637621047252e-01", "5.1", "123", "0.000123", "1.23456789"]
  for cell in cells {
    let bytes = Array(cell.utf8)
    var sum: Float = 0
    let n = 5_000_000
    let t = bytes.withUnsafeBufferPointer { p in
      seconds { for _ in 0..<n { if case .number(let v) = DecimalParser.parseFloat(p) { sum += v } } }
    }
    let tc = cell.withCString { p in seconds { for _ in 0..<n { sum += strtof(p, nil) } } }
    let ts = seconds { for _ in 0..<n { sum += Float(cell) ?? 0 } }
    print(
      String(format: "  %-28@ parseFloat %6.1f ns   strtof %6.1f ns   Float(String) %6.1f ns", cell as NSString, t * 1e9 / Double(n), tc * 1e9 / Double(n), ts * 1e9 / Double(n)),
      sum == 1 ? "" : "")
  }
}

/// Runs one kind of pass once (for `perf stat`): records, float or double.
func benchOnly(_ kind: String, path: String) throws {
  let r = try CSVReader(path: path)
  var rows = 0
  var sum = 0.0
  while let rec = try r.next() {
    rows += 1
    switch kind {
    case "float": for i in 0..<rec.count { if case .number(let v) = DecimalParser.parseFloat(rec[i]) { sum += Double(v) } }
    case "double": for i in 0..<rec.count { if case .number(let v) = DecimalParser.parseDouble(rec[i]) { sum += v } }
    default: break
    }
  }
  print("\(kind): \(rows) records, checksum \(sum)")
}

func bench(path: String, repeats: Int) throws {
  let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  print("file: \(path) (\(bytes) bytes)")
  var best = [Double](repeating: .infinity, count: 3)
  var rows = 0
  var checksum = 0.0
  for _ in 0..<repeats {
    best[0] = min(best[0], try seconds {
      let r = try CSVReader(path: path)
      rows = 0
      while let rec = try r.next() { rows += rec.count > 0 ? 1 : 0 }
    })
    best[1] = min(best[1], try seconds {
      let r = try CSVReader(path: path)
      _ = try r.next()
      var sum: Float = 0
      while let rec = try r.next() {
        for i in 0..<rec.count { if case .number(let v) = DecimalParser.parseFloat(rec[i]) { sum += v } }
      }
      checksum = Double(sum)
    })
    best[2] = min(best[2], try seconds {
      let r = try CSVReader(path: path)
      _ = try r.next()
      var sum = 0.0
      while let rec = try r.next() {
        for i in 0..<rec.count { if case .number(let v) = DecimalParser.parseDouble(rec[i]) { sum += v } }
      }
      checksum += sum
    })
  }
  let mb = Double(bytes) / 1e6
  for (name, t) in zip(["records only", "records + parseFloat", "records + parseDouble"], best) {
    print(String(format: "  %-24@ %7.1f ms  %7.0f MB/s  %10.0f rows/s", name as NSString, t * 1e3, mb / t, Double(rows) / t))
  }
  _ = checksum
}

func benchWriter() throws {
  var rng = Rng(s: 5)
  let n = Int(ProcessInfo.processInfo.environment["WRITER_COUNT"] ?? "") ?? 1_000_000
  let values = (0..<n).map { _ in Float(rng.normal()) }
  let out = TextOutput(fileDescriptor: open("/dev/null", O_WRONLY), name: "/dev/null")
  let useDescription = ProcessInfo.processInfo.environment["WRITER_DESCRIPTION"] != nil
  let t = try seconds {
    for v in values {
      if useDescription { try out.append(v.description) } else { try out.append(v) }
      try out.append(byte: 0x2C)
    }
    try out.flush()
  }
  print(String(format: "  FloatText.write          %7.1f ns per float (%d normal values)", t * 1e9 / Double(n), n))
}

func verify(_ n: Int) {
  var rng = Rng(s: 99)
  var failures = 0
  func check(_ s: String) {
    let f = DecimalParser.parseFloat(s)
    let wantF: ParsedNumber<Float> = Float(s).map { $0.isFinite ? .number($0) : .outOfRange } ?? .text
    let d = DecimalParser.parseDouble(s)
    let wantD: ParsedNumber<Double> = Double(s).map { $0.isFinite && Float($0).isFinite ? .number($0) : .outOfRange } ?? .text
    var ok = true
    if case .number(let a) = f, case .number(let b) = wantF { ok = ok && a.bitPattern == b.bitPattern } else { ok = ok && f == wantF }
    if case .number(let a) = d, case .number(let b) = wantD { ok = ok && a.bitPattern == b.bitPattern } else { ok = ok && d == wantD }
    if !ok {
      failures += 1
      if failures < 20 { print("MISMATCH \(s): float \(f) vs \(wantF), double \(d) vs \(wantD)") }
    }
  }
  let t = seconds {
    for i in 0..<n {
      // 1) a random float bit pattern, shortest and 9/17 digits
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      if f.isFinite {
        check(f.description)
        check(String(format: "%.8e", Double(f)))
      }
      // 2) a random decimal of 1–20 digits, exponent across the float range and beyond
      var s = rng.next() & 1 == 0 ? "-" : ""
      let digits = 1 + Int(rng.next() % 20)
      for _ in 0..<digits { s += String(rng.next() % 10) }
      s += "e\(Int(rng.next() % 110) - 70)"
      check(s)
      // 3) an exact float midpoint
      if i % 4 == 0, f.isFinite, f.magnitude < .greatestFiniteMagnitude {
        let m = (Double(f.magnitude) + Double(f.magnitude.nextUp)) / 2
        check(String(format: "%.120g", m))
      }
    }
  }
  print("verify: \(n) rounds, \(failures) mismatches, \(String(format: "%.1f", t)) s")
  if failures > 0 { exit(1) }
}

var args = Array(CommandLine.arguments.dropFirst())
@MainActor func take(_ name: String) -> Int? {
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  defer { args.removeSubrange(i...(i + 1)) }
  return Int(args[i + 1])
}
if let n = take("--verify") {
  verify(n)
  exit(0)
}
if args.first == "score", args.count >= 3 {
  let threads = take("--threads") ?? Parallel.availableCores
  let output = args.firstIndex(of: "--output").map { args[$0 + 1] } ?? "/dev/stdout"
  do {
    try scoreFloor(model: args[1], csv: args[2], output: output, threads: threads)
  } catch {
    print("ember-text-bench: \(error)")
    exit(1)
  }
  exit(0)
}
if args.first == "--writer" {
  try benchWriter()
  exit(0)
}
if args.first == "--cells" {
  benchCells()
  exit(0)
}
if let i = args.firstIndex(of: "--only"), i + 2 < args.count {
  try benchOnly(args[i + 1], path: args[i + 2])
  exit(0)
}
let rows = take("--rows") ?? 100_000
let cols = take("--cols") ?? 30
let repeats = take("--repeat") ?? 5
do {
  if let path = args.first {
    try bench(path: path, repeats: repeats)
  } else {
    for format in ["%.6f", "%.18e", "repr"] {
      try bench(path: writeNumericCSV(rows: rows, cols: cols, format: format), repeats: repeats)
    }
  }
  try benchWriter()
} catch {
  print("ember-text-bench: \(error)")
  exit(1)
}

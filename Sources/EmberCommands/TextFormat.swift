import _EmberSystem

/// Number and date formatting without Foundation (the device binary must not link it).
enum TextFormat {
  /// `printf("%.<digits>g", v)` in the C locale (what `String(format:)` gives for finite values).
  static func g(_ v: Double, digits: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBufferPointer { ember_sys_format_g(v, Int32(digits), $0.baseAddress!, $0.count) }
    guard n >= 0 else { return v.description }
    return buffer.withUnsafeBufferPointer { p in
      String(decoding: UnsafeRawBufferPointer(start: p.baseAddress!, count: min(Int(n), p.count - 1)).bindMemory(to: UInt8.self), as: UTF8.self)
    }
  }

  /// Seconds since 1970-01-01T00:00:00Z as `YYYY-MM-DDTHH:MM:SSZ` (UTC, the form
  /// `ISO8601DateFormatter` gives by default). Proleptic Gregorian calendar.
  static func iso8601(_ seconds: Int64) -> String {
    let days = floorDiv(seconds, 86_400)
    let secondOfDay = seconds - days * 86_400
    let (y, m, d) = civil(fromDays: days)
    let hh = secondOfDay / 3600
    let mm = (secondOfDay % 3600) / 60
    let ss = secondOfDay % 60
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(hh, 2)):\(pad(mm, 2)):\(pad(ss, 2))Z"
  }

  /// Year, month (1–12), day (1–31) of a day count since 1970-01-01 (H. Hinnant's algorithm).
  static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = floorDiv(z, 146_097)
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    return (y, m, d)
  }

  private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  private static func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v.magnitude)
    return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
  }
}

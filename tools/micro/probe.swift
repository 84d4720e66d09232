// A probe of the Embedded Swift toolchain (tools/micro/build.sh --probe): EmberText alone.
// Reads CSV from standard input and writes every numeric cell back in shortest form.
import EmberText
import _EmberSystem

@main
enum Probe {
  static func main() {
    let out = TextOutput(fileDescriptor: 1, name: "<stdout>")
    do throws(TextError) {
      let reader = CSVReader(fileDescriptor: 0, name: "<stdin>")
      while let record = try reader.next() {
        for i in 0..<record.count {
          if i > 0 { try out.append(byte: 0x2C) }
          switch DecimalParser.parseFloat(record[i]) {
          case .number(let v): try out.append(v)
          default: try out.appendField(record[i])
          }
        }
        try out.endLine()
      }
      try out.flush()
    } catch {
      let text = "probe: error: \(error.description)\n"
      var t = text
      t.withUTF8 { _ = ember_sys_write_all(2, $0.baseAddress, $0.count) }
      ember_sys_exit(1)
    }
  }
}

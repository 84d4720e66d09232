// Interim ember-micro entry point (until the shared command layer builds in Embedded Swift):
// `verify MODEL` and `--version`, with the same output and exit statuses as `ember`.
import EmberFormat
import EmberRuntime
import _EmberSystem

func write(_ fd: Int32, _ text: String) {
  var t = text
  t.withUTF8 { _ = ember_sys_write_all(fd, $0.baseAddress, $0.count) }
}

@main
enum Micro {
  static func main() {
    var args: [String] = []
    let argc = Int(ember_sys_argument_count())
    if argc > 1 { for i in 1..<argc { args.append(String(cString: ember_sys_argument(Int32(i))!)) } }
    guard args.count == 2, args[0] == "verify" else {
      if args == ["--version"] {
        write(1, "0.1.0\n")
        ember_sys_exit(0)
      }
      write(2, "ember: error: this interim ember-micro knows only 'verify MODEL'\n")
      ember_sys_exit(64)
    }
    let path = args[1]
    do throws(EmberFormatError) {
      let m = try EmberModel(path: path)
      do throws(EmberRuntimeError) {
        _ = try EnergyModel(m)
      } catch {
        write(2, "ember: error: \(path): \(error.description)\n")
        ember_sys_exit(3)
      }
      write(1, "OK \(path) (\(m.classes.count) classes, \(m.features.count) features, \(m.byteCount) bytes)\n")
    } catch {
      write(2, "ember: error: \(error.description)\n")
      ember_sys_exit(3)
    }
  }
}

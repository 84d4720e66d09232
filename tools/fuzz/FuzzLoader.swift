// libFuzzer entry point for the .ember loader. Compiled into the EmberFormat module itself by
// tools/fuzz/run.sh (so it sees `package` hooks), in one of two modes:
//   default          the input is a whole file: envelope, version, checksum, payload, values.
//   -D FUZZ_PAYLOAD  the input is a `Model` payload, wrapped in an envelope with a correct
//                    CRC-32, so mutations reach the FlatBuffers verifier and semantic checks
//                    (in file mode nearly every mutation stops at the checksum).
// Any input must either throw EmberFormatError or load to a model that the checked writer
// re-serialises and that loads back identical; anything else traps and libFuzzer reports it.

@_cdecl("LLVMFuzzerTestOneInput")
public func emberFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let input = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
  #if FUZZ_PAYLOAD
    guard let bytes = try? ModelWriter.envelope(payload: input, version: .current, minReader: FormatVersion(major: FormatVersion.current.major, minor: 0)) else {
      return 0
    }
  #else
    let bytes = input
  #endif
  let model: EmberModel
  do {
    model = try EmberModel(bytes: bytes)
  } catch let error as EmberFormatError {
    precondition(!error.message.isEmpty, "empty error message")
    return 0
  } catch {
    fatalError("non-format error from the loader: \(error)")
  }
  // Loaded: every view must be readable and the model must survive a checked round trip.
  let spec = model.spec()
  let again: [UInt8]
  do {
    again = try ModelWriter.serialize(spec)
  } catch {
    fatalError("the loader accepted a model the writer refuses: \(error)")
  }
  guard let reloaded = try? EmberModel(bytes: again), reloaded.spec() == spec else {
    fatalError("a loaded model does not round-trip")
  }
  return 0
}

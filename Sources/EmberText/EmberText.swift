/// # EmberText — Ember's text I/O, without Foundation
///
/// The one layer through which every Ember front end (the `ember` and `ember-edge` CLIs,
/// `ember-micro`, the trainer's CSV ingest) reads CSV and writes numbers. It imports neither
/// Foundation nor Glibc (OS calls go through the `_EmberSystem` C module) and compiles in
/// Embedded Swift: typed throws only, no existentials, no reflection.
///
/// | type | what it provides |
/// | --- | --- |
/// | ``CSVReader`` / ``CSVRecord`` | streaming RFC 4180 reader over a path, `-` (stdin), a descriptor or bytes: zero-copy byte-slice fields, 1-based record lines, CRLF/LF/CR, BOM skipped, blank lines skipped, limits of 1 MiB per record and 65,536 fields (configurable), NUL / unterminated-quote / stray-quote errors with file:line:field |
/// | ``DecimalParser`` | decimal text → `Float` / `Double`, correctly rounded (all digits count), classified as number / empty / NaN word / infinity word / other text / out of `Float` range; no hex; spaces and tabs around the number are ignored |
/// | ``FloatText`` | shortest round-trip `Float` text (Swift's `description` format) into a byte buffer |
/// | ``TextOutput`` | buffered writer to a descriptor: CSV fields quoted when needed, floats, integers |
/// | ``RowText`` | CSV lines built in memory (one buffer per thread, written out in order by ``TextOutput``) |
/// | ``CSVBatchCopy`` | a reader's batch moved out of it (``CSVBatch/move(into:)``), valid while the reader reads on |
/// | ``TextError`` | the one error type: a ``TextError/Code``, a message, file, line, field |
/// | ``TextSnippet`` / ``ByteText`` / ``ByteTokenSet`` | short escaped excerpts for messages; trimming and comparing byte slices; exact token sets (the runtime's missing-value list) |
///
/// Exit-code mapping (done by the front ends, in one place): every ``TextError/Code`` is bad
/// input data (exit 1) except ``TextError/Code/write`` (exit 4).
///
/// Speed (release build, `swift run -c release ember-text-bench`): records are split at
/// several hundred MB/s; a typical numeric cell parses in 10–40 ns (1.5–3× faster than the C
/// library's `strtof` measured in the same run). The parser is checked against
/// `Float(String)`/`Double(String)` on about a million inputs by `swift test`
/// (`DecimalParserTests`) and on any number with `ember-text-bench --verify N`.
public enum EmberText {}

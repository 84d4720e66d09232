#!/usr/bin/env bash
# Builds the libFuzzer targets (with AddressSanitizer) and runs them:
#   file, payload  the .ember loader (FuzzLoader.swift)
#   rows           the CSV reader and the runtime's row encoder (FuzzRows.swift)
#   tools/fuzz/run.sh [SECONDS] [file|payload|rows|all]     default: 60 s per target, all targets
#   tools/fuzz/run.sh --build-only
# Seeds: tools/fuzz/corpus/{file,payload,rows}/ (committed, read-only here). New inputs go to
# .build-fuzz/corpus-*/, crashes to tools/fuzz/crashes/. Exit status is non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
which=${2:-all}
out=.build-fuzz
mkdir -p "$out/module" tools/fuzz/crashes

SWIFTC=${SWIFTC:-swiftc}
CLANGXX=${CLANGXX:-$(dirname "$(command -v "$SWIFTC")")/clang++}
[[ -x "$CLANGXX" ]] || CLANGXX=clang++
CLANG=${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}
[[ -x "$CLANG" ]] || CLANG=clang

# The row target: EmberText (the CSV reader and number parser, built as its own module, with
# the _EmberSystem C files for its OS calls) and the runtime's encoder, compiled into the
# EmberFormat module (so its `import EmberFormat` is the module itself).
TEXT_SOURCES=(Sources/EmberText/*.swift)
ROW_SOURCES=(Sources/EmberRuntime/RowEncoder.swift Sources/EmberRuntime/EmberRuntimeError.swift tools/fuzz/FuzzRows.swift)

build() {
  local stamp="$out/.stamp"
  local newest
  newest=$(ls -t Sources/EmberFormat/*.swift Sources/_EmberFlatBuffers/*.cpp Sources/_EmberFlatBuffers/include/*.h \
    Sources/_EmberFlatBuffers/generated/*.h tools/fuzz/FuzzLoader.swift tools/fuzz/run.sh "${ROW_SOURCES[@]}" "${TEXT_SOURCES[@]}" Sources/_EmberSystem/*.c | head -1)
  if [[ -f "$stamp" && "$stamp" -nt "$newest" && -x "$out/fuzz-file" && -x "$out/fuzz-payload" && -x "$out/fuzz-rows" ]]; then return; fi
  echo "building fuzz targets in $out" >&2
  "$CLANGXX" -std=c++17 -w -O1 -g -fsanitize=fuzzer-no-link,address -DFLATBUFFERS_MAX_ALIGNMENT=64 -DNDEBUG \
    -I Sources/_EmberFlatBuffers/include -I Sources/_EmberSystem/include -c Sources/_EmberFlatBuffers/ember_fb.cpp -o "$out/ember_fb.o"
  cat > "$out/module/module.modulemap" <<MAP
module _EmberFlatBuffers {
  header "$PWD/Sources/_EmberFlatBuffers/include/ember_fb.h"
  export *
}
MAP
  local system_objects=()
  for c in Sources/_EmberSystem/*.c; do
    "$CLANG" -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/_EmberSystem/include -c "$c" \
      -o "$out/system-$(basename "$c" .c).o"
    system_objects+=("$out/system-$(basename "$c" .c).o")
  done
  for mode in file payload; do
    local defs=()
    [[ $mode == payload ]] && defs=(-D FUZZ_PAYLOAD)
    "$SWIFTC" -parse-as-library -module-name EmberFormat -package-name ember -O -g \
      -sanitize=fuzzer,address -use-ld=lld -D EMBER_CHECKS "${defs[@]}" -I "$out/module" \
      -I Sources/_EmberSystem/include Sources/EmberFormat/*.swift tools/fuzz/FuzzLoader.swift "$out/ember_fb.o" \
      "${system_objects[@]}" -lstdc++ \
      -o "$out/fuzz-$mode"
  done
  mkdir -p "$out/text"
  (cd "$out/text" && "$SWIFTC" -parse-as-library -module-name EmberText -package-name ember -O -g \
    -sanitize=fuzzer,address -I "$OLDPWD/Sources/_EmberSystem/include" -emit-library -static -emit-module \
    "${TEXT_SOURCES[@]/#/$OLDPWD/}" -o libEmberText.a)
  "$SWIFTC" -parse-as-library -module-name EmberFormat -package-name ember -O -g \
    -sanitize=fuzzer,address -use-ld=lld -D EMBER_CHECKS -I "$out/module" -I "$out/text" -I Sources/_EmberSystem/include \
    -suppress-warnings Sources/EmberFormat/*.swift "${ROW_SOURCES[@]}" "$out/ember_fb.o" "$out/text/libEmberText.a" \
    "${system_objects[@]}" -lstdc++ -o "$out/fuzz-rows"
  touch "$stamp"
}

build
[[ "$seconds" == "--build-only" ]] && exit 0

status=0
for mode in file payload rows; do
  [[ "$which" == all || "$which" == "$mode" ]] || continue
  work="$out/corpus-$mode"
  mkdir -p "$work"
  echo "fuzzing $([[ $mode == rows ]] && echo "the CSV reader and row encoder" || echo "the loader ($mode mode)") for ${seconds}s" >&2
  log="$out/fuzz-$mode.log"
  rc=0
  "$out/fuzz-$mode" "$work" "tools/fuzz/corpus/$mode" -max_total_time="$seconds" -max_len=16384 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="tools/fuzz/crashes/$mode-" >"$log" 2>&1 || rc=$?
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|ERROR|SUMMARY|Test unit written" "$log" >&2 || true
  if [[ $rc -ne 0 ]]; then
    echo "FAILED: $mode target exited $rc; see $log and tools/fuzz/crashes/" >&2
    status=1
  fi
done
exit $status

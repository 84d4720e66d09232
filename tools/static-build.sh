#!/usr/bin/env bash
# Builds the deployable artefacts into dist/ (see docs/DEPLOYMENT.md):
#
#   dist/ember                  the device CLI: the `ember-edge` product (every verb but train,
#                               no Foundation, no ArgumentParser) linked with -static-executable
#                               (no shared libraries at all: glibc, libstdc++ and the Swift
#                               runtime inside), stripped; must stay <= 8 MB
#   dist/ember-full             only with --full: the development CLI (`ember` product, with
#                               train; Foundation + ArgumentParser), fully static, ~60 MB
#   dist/lib/libCEmberStatic.a  C API static library; link line in dist/lib/cember-static.flags
#   dist/lib/libCEmber.so       self-contained C API shared library (Swift runtime linked in,
#                               only the ember_* symbols exported), stripped; needs only libc,
#                               libm, libstdc++, libgcc_s — load it from Python with EMBER_LIB
#   dist/include/ember.h        the C header
#   dist/ember_example_static   examples/c/ember_example.c linked against libCEmberStatic.a,
#                               run once on examples/c/demo.ember as a smoke test
#   dist/ember_stream           examples/c/ember_stream.c (streaming CSV scorer) linked fully
#                               static (cc -static): the runtime alone, within every budget
#
# Usage: tools/static-build.sh [--stdlib-only] [--full] [--scratch DIR]
#   --stdlib-only   link the CLIs with --static-swift-stdlib instead (glibc stays dynamic)
#   --full          also build dist/ember-full (about 2 more minutes on 2 cores)
# Environment: SWIFT (default swift), CC (default cc), SCRATCH (default .build-static; the C
# library builds in $SCRATCH-lib so that neither build invalidates the other).
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
CC=${CC:-cc}
SCRATCH=${SCRATCH:-.build-static}
STDLIB_ONLY=0
FULL=0
MAX_EMBER_BYTES=${MAX_EMBER_BYTES:-8000000}
while [ $# -gt 0 ]; do
  case "$1" in
    --stdlib-only) STDLIB_ONLY=1 ;;
    --full) FULL=1 ;;
    --scratch) SCRATCH=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "static-build: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

DIST=dist
mkdir -p "$DIST/lib" "$DIST/include"
SWIFT_STATIC="$(dirname "$(dirname "$(readlink -f "$(command -v "$SWIFT")")")")/lib/swift_static/linux"
ARCH=$(uname -m)
SWIFT_LIBS="-L$SWIFT_STATIC -lswiftCore -lswift_RegexParser -lswift_StringProcessing -lswiftGlibc -lswiftDispatch -ldispatch -lBlocksRuntime -lstdc++ -lm -ldl -lpthread"

step() { printf '\n== %s\n' "$*"; }

if [ "$STDLIB_ONLY" = 1 ]; then
  LINK=(--static-swift-stdlib)
  LINK_NAME="--static-swift-stdlib"
else
  LINK=(-Xswiftc -static-executable)
  LINK_NAME="-static-executable"
fi

# The device CLI is linked by lld with identical-code folding (--icf=all): Swift's generic
# specialisations repeat a lot of identical code, and folding it keeps dist/ember under 8 MB
# (GNU ld / gold: +180 KB). lld ships with the Swift toolchain; without it, the default linker.
EDGE_LINK=()
if [ -x "$(dirname "$(readlink -f "$(command -v "$SWIFT")")")/ld.lld" ] || command -v ld.lld >/dev/null; then
  EDGE_LINK=(-Xswiftc -use-ld=lld -Xlinker --icf=all)
else
  echo "static-build: ld.lld not found; linking dist/ember without code folding" >&2
fi

step "device CLI (ember-edge -> dist/ember): release, $LINK_NAME, stripped"
"$SWIFT" build -c release --scratch-path "$SCRATCH" "${LINK[@]}" "${EDGE_LINK[@]}" -Xlinker -s --product ember-edge
install -m 755 "$SCRATCH/release/ember-edge" "$DIST/ember"
"$DIST/ember" --version >/dev/null
printf 'temperature,vibration,load,mode\n99,0.01,0,idle\n' | "$DIST/ember" score examples/c/demo.ember | grep -q ',1,'
size=$(stat -c %s "$DIST/ember")
if [ "$size" -gt "$MAX_EMBER_BYTES" ]; then
  echo "static-build: dist/ember is $size bytes, over the $MAX_EMBER_BYTES-byte budget" >&2
  exit 1
fi

if [ "$FULL" = 1 ]; then
  step "development CLI (ember -> dist/ember-full): release, $LINK_NAME, stripped"
  "$SWIFT" build -c release --scratch-path "$SCRATCH-full" "${LINK[@]}" -Xlinker -s --product ember
  install -m 755 "$SCRATCH-full/release/ember" "$DIST/ember-full"
  "$DIST/ember-full" --version >/dev/null
else
  rm -f "$DIST/ember-full"
fi

step "C API: static library"
"$SWIFT" build -c release --scratch-path "$SCRATCH-lib" --product CEmberStatic
install -m 644 "$SCRATCH-lib/release/libCEmberStatic.a" "$DIST/lib/libCEmberStatic.a"
strip --strip-debug "$DIST/lib/libCEmberStatic.a"
install -m 644 Sources/EmberC/include/ember.h "$DIST/include/ember.h"

# What a C host adds to its link line for libCEmberStatic.a: swiftrt.o registers the Swift
# metadata sections and must be linked once into the final binary; then the Swift runtime's
# static archives (PIC, so they also go into shared objects).
echo "$SWIFT_STATIC/$ARCH/swiftrt.o -L\$EMBER_DIST/lib -lCEmberStatic $SWIFT_LIBS" > "$DIST/lib/cember-static.flags"

step "C API: self-contained shared library"
printf '{ global: ember_*; local: *; };\n' > "$DIST/lib/cember.map"
# shellcheck disable=SC2086
"$CC" -shared -o "$DIST/lib/libCEmber.so" "$SWIFT_STATIC/$ARCH/swiftrt.o" \
  -Wl,--whole-archive "$DIST/lib/libCEmberStatic.a" -Wl,--no-whole-archive $SWIFT_LIBS \
  -Wl,--version-script="$DIST/lib/cember.map" -Wl,-soname,libCEmber.so -Wl,-s 2> >(grep -v "mktemp" >&2)

step "smoke test: C example linked statically against libCEmberStatic.a"
# shellcheck disable=SC2046
"$CC" -std=c11 -O2 -I"$DIST/include" examples/c/ember_example.c -o "$DIST/ember_example_static" \
  $(sed "s|\$EMBER_DIST|$DIST|g" "$DIST/lib/cember-static.flags") 2> >(grep -v "mktemp" >&2)
strip "$DIST/ember_example_static"
"$DIST/ember_example_static" examples/c/demo.ember > "$DIST/ember_example_static.out"
grep -q "label=normal" "$DIST/ember_example_static.out"
# shellcheck disable=SC2046
"$CC" -static -std=c11 -O2 -I"$DIST/include" examples/c/ember_stream.c -o "$DIST/ember_stream" \
  $(sed "s|\$EMBER_DIST|$DIST|g" "$DIST/lib/cember-static.flags") -Wl,-s 2> >(grep -v "mktemp\|dlopen\|LibPrespecialized" >&2)
printf 'temperature,vibration,load,mode\n99,0.01,0,idle\n' | "$DIST/ember_stream" examples/c/demo.ember | grep -q ',1$'
exported=$(nm -D --defined-only "$DIST/lib/libCEmber.so" | awk '{print $3}' | grep -vc '^ember_' || true)
[ "$exported" = 0 ] || { echo "static-build: libCEmber.so exports $exported non-ember symbols" >&2; exit 1; }

step "sizes (bytes)"
for f in "$DIST/ember" $([ "$FULL" = 1 ] && echo "$DIST/ember-full") "$DIST/lib/libCEmber.so" "$DIST/lib/libCEmberStatic.a" "$DIST/ember_example_static" "$DIST/ember_stream"; do
  kind=$(file -b "$f" | grep -o 'statically linked\|dynamically linked\|shared object\|ar archive' | head -1)
  printf '%-30s %10d  %s%s\n' "$f" "$(stat -c %s "$f")" "$kind" "$(file -b "$f" | grep -q ', stripped' && echo ', stripped')"
done
echo
echo "dist/ember needs: $(ldd "$DIST/ember" 2>&1 | tr -s ' \t\n' ' ')"

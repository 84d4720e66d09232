#!/usr/bin/env bash
# Builds ember-micro: the device CLI compiled as Embedded Swift, fully static.
#
#   tools/micro/build.sh [--arch x86_64|aarch64|armv7|all] [--probe]
#
#   dist/ember-micro          x86_64, static, musl (Debian musl-tools), stripped
#   dist/ember-micro-aarch64  aarch64 Linux, static-pie, glibc (gcc-aarch64-linux-gnu), stripped
#   dist/ember-micro-armv7    32-bit ARM Linux (ARMv7-A, VFPv4/NEON), static, glibc (armel ABI)
#   dist/lib/libember-micro.a the C API (ember.h) as Embedded Swift, x86_64, for musl static links
#                             (with the x86_64 build; checked by linking and running
#                             examples/c/ember_check.c and ember_example.c against it)
#
# Swift modules are compiled with `swiftc -enable-experimental-feature Embedded -wmo` (no
# Swift runtime library, no Foundation/Glibc/Dispatch: OS calls go through _EmberSystem); the
# C modules (_EmberSystem, _EmberKernels) with the target's C compiler; the FlatBuffers C++
# shim without exceptions/RTTI, with our operator new/delete (tools/micro/new_delete.cpp)
# instead of libstdc++. --probe builds tools/micro/probe.swift (EmberText only) instead of
# the CLI. Objects go to .build-micro/<arch>/.
# Environment: SWIFTC (default swiftc), MAX_MICRO_BYTES (default 1048576: fail above it),
# SPEED_MODULES (Swift modules built -O instead of -Osize; default "EmberText EmberRuntime").
set -euo pipefail
cd "$(dirname "$0")/../.."

ARCHES=(x86_64)
PROBE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) case "$2" in all) ARCHES=(x86_64 aarch64 armv7) ;; *) ARCHES=("$2") ;; esac; shift ;;
    --probe) PROBE=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "micro: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

SWIFTC=${SWIFTC:-swiftc}
TOOLCHAIN=$(dirname "$(dirname "$(readlink -f "$(command -v "$SWIFTC")")")")
MAX_MICRO_BYTES=${MAX_MICRO_BYTES:-1048576}
SPEED_MODULES=${SPEED_MODULES-EmberText EmberRuntime}
mkdir -p dist

# Swift modules in dependency order: NAME:PATH[!EXCLUDED,…] (a directory of sources or one
# file); the last one is the entry point.
if [ "$PROBE" = 1 ]; then
  MODULES=("EmberText:Sources/EmberText" "Probe:tools/micro/probe.swift")
  PRODUCT=ember-micro-probe
else
  # Interim: verify only, until the shared command layer builds in Embedded Swift.
  MODULES=("EmberText:Sources/EmberText" "EmberFormat:Sources/EmberFormat"
    "EmberRuntime:Sources/EmberRuntime" "EmberCommands:Sources/EmberCommands" "EmberEdge:Sources/EmberEdge")
  PRODUCT=ember-micro
fi

build_arch() {
  local arch=$1
  local out=.build-micro/$arch
  local swift_target cc cxx link strip suffix
  local swift_extra=()
  # C is compiled by the toolchain's clang (as SwiftPM does; the kernels use clang builtins),
  # against musl's headers for x86_64 and the cross glibc's for aarch64.
  local clang="$TOOLCHAIN/bin/clang"
  case "$arch" in
    x86_64)
      swift_target=x86_64-unknown-linux-gnu
      cc=("$clang" --target=x86_64-linux-musl -nostdinc -isystem "$("$clang" -print-resource-dir)/include"
        -isystem /usr/include/x86_64-linux-musl)
      cxx=("$clang++" --target=x86_64-linux-gnu); link=(musl-gcc -static); strip=strip; suffix="" ;;
    aarch64)
      swift_target=aarch64-none-none-elf
      cc=("$clang" --target=aarch64-linux-gnu); cxx=("$clang++" --target=aarch64-linux-gnu)
      link=(aarch64-linux-gnu-gcc -static-pie); strip=aarch64-linux-gnu-strip; suffix=-aarch64 ;;
    armv7)
      # 32-bit ARM (Raspberry Pi class): soft-float ABI (armel) inside a static binary, which
      # runs on armhf systems too; the Swift target is the bare-metal EABI one.
      swift_target=armv7-none-none-eabi
      cc=("$clang" --target=arm-linux-gnueabi -march=armv7-a -mfloat-abi=softfp -mfpu=neon-vfpv4)
      cxx=("$clang++" --target=arm-linux-gnueabi -march=armv7-a -mfloat-abi=softfp -mfpu=neon-vfpv4)
      link=(arm-linux-gnueabi-gcc -static); strip=arm-linux-gnueabi-strip; suffix=-armv7
      swift_extra=(-Xcc -march=armv7-a -Xcc -mfloat-abi=softfp -Xcc -mfpu=neon-vfpv4) ;;
    *) echo "micro: unknown arch $arch" >&2; exit 2 ;;
  esac
  local product="dist/$PRODUCT$suffix"
  # Up to date: the product is newer than every source it is built from (and this script).
  if [ -f "$product" ] && { [ "$arch" != x86_64 ] || [ "$PROBE" = 1 ] || [ -f dist/lib/libember-micro.a ]; } \
    && [ -z "$(find Sources tools/micro -newer "$product" \( -name '*.swift' -o -name '*.c' \
      -o -name '*.cpp' -o -name '*.h' -o -name '*.modulemap' -o -name '*.sh' \) -print -quit)" ]; then
    echo "== ember-micro for $arch: $product is up to date"
    check_product "$arch" "$product"
    return
  fi
  rm -rf "$out"; mkdir -p "$out/cmods"
  echo "== ember-micro for $arch ($swift_target)"

  # C module maps for the Swift compiler (the SwiftPM build generates its own).
  cat > "$out/cmods/module.modulemap" <<MAP
module _EmberFlatBuffers {
  header "$PWD/Sources/_EmberFlatBuffers/include/ember_fb.h"
  export *
}
module _EmberKernels {
  header "$PWD/Sources/_EmberKernels/include/ember_kernels.h"
  export *
}
module _EmberCAPITypes {
  header "$PWD/Sources/_EmberCAPITypes/include/ember_capi_types.h"
  export *
}
MAP

  local cflags=(-O2 -fPIC -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables)
  local objects=()
  for f in Sources/_EmberSystem/*.c tools/micro/libc_shims.c tools/micro/malloc.c tools/micro/memcpy.c tools/micro/main.c; do
    [ "$arch" != x86_64 ] && [ "$f" = tools/micro/libc_shims.c ] && continue  # glibc has arc4random_buf
    [ "$arch" != x86_64 ] && [ "$f" = tools/micro/malloc.c ] && continue  # glibc's malloc is kept
    [ "$arch" != x86_64 ] && [ "$f" = tools/micro/memcpy.c ] && continue  # and glibc's memcpy
    local fileflags=()
    [ "$f" = tools/micro/memcpy.c ] && fileflags=(-fno-builtin)
    "${cc[@]}" "${cflags[@]}" ${fileflags[@]+"${fileflags[@]}"} -ISources/_EmberSystem/include -c "$f" -o "$out/$(basename "$f").o"
    objects+=("$out/$(basename "$f").o")
  done
  for f in Sources/_EmberKernels/*.c; do
    "${cc[@]}" "${cflags[@]}" -O3 -fno-math-errno -ffp-contract=off -Wno-psabi -ISources/_EmberKernels/include -ISources/_EmberSystem/include \
      -c "$f" -o "$out/$(basename "$f").o"
    objects+=("$out/$(basename "$f").o")
  done
  local cxxflags=(-std=c++17 -Os -fPIC -fno-exceptions -fno-rtti -fno-asynchronous-unwind-tables
    -ffunction-sections -fdata-sections -DNDEBUG -DFLATBUFFERS_MAX_ALIGNMENT=64)
  "${cxx[@]}" "${cxxflags[@]}" -w -ISources/_EmberFlatBuffers/include -ISources/_EmberSystem/include -c Sources/_EmberFlatBuffers/ember_fb.cpp -o "$out/ember_fb.o"
  "${cxx[@]}" "${cxxflags[@]}" -c tools/micro/new_delete.cpp -o "$out/new_delete.o"
  objects+=("$out/ember_fb.o" "$out/new_delete.o")

  local swiftflags=(-enable-experimental-feature Embedded -wmo -parse-as-library -package-name Ember
    -target "$swift_target" -I "$out" -I "$out/cmods" -I Sources/_EmberSystem/include -Xcc -fPIC
    -Xfrontend -function-sections ${swift_extra[@]+"${swift_extra[@]}"})
  local last=${MODULES[${#MODULES[@]}-1]}
  for entry in "${MODULES[@]}"; do
    local name=${entry%%:*} rest=${entry#*:}
    local path=${rest%%!*} excluded=""
    [ "$rest" != "$path" ] && excluded=",${rest#*!},"
    local sources=() entryflags=()
    if [ -d "$path" ]; then
      for f in "$path"/*.swift; do
        case "$excluded" in *",$(basename "$f"),"*) ;; *) sources+=("$f") ;; esac
      done
    else
      sources=("$path")
    fi
    # The entry point is renamed: tools/micro/main.c is the C main (it records argv).
    [ "$entry" = "$last" ] && entryflags=(-Xfrontend -entry-point-function-name -Xfrontend ember_swift_main)
    # The per-row code (CSV scanning, number parsing, encoding, the energies' glue) is built
    # for speed; the rest (verbs, reports, argument scanning) for size.
    local opt=-Osize
    case " $SPEED_MODULES " in *" $name "*) opt=-O ;; esac
    "$SWIFTC" "${swiftflags[@]}" "$opt" ${entryflags[@]+"${entryflags[@]}"} -module-name "$name" -emit-module \
      -emit-module-path "$out/$name.swiftmodule" -c "${sources[@]}" -o "$out/$name.o"
    objects+=("$out/$name.o")
  done

  "${link[@]}" -o "$product" "${objects[@]}" -L "$TOOLCHAIN/lib/swift/embedded/$swift_target" \
    -lswiftUnicodeDataTables -lm -Wl,--gc-sections -Wl,-z,noexecstack
  # An unstripped copy beside the objects, for profiles (perf report needs the symbols).
  cp "$product" "$out/$(basename "$product").symbols"
  "$strip" "$product"
  check_product "$arch" "$product"
  if [ "$arch" = x86_64 ]; then
    # The binary's allocator (tools/micro/malloc.c), under four threads of random use.
    musl-gcc -static -O2 -o "$out/malloc_check" tools/micro/malloc_check.c tools/micro/malloc.c -lpthread
    "$out/malloc_check" | grep -qx ok
    # Its memcpy and memmove (the object linked above): every size and offset, overlapping moves.
    musl-gcc -static -O2 -o "$out/memcpy_check" tools/micro/memcpy_check.c "$out/memcpy.c.o"
    "$out/memcpy_check" | grep -qx ok
  fi
  if [ "$arch" = x86_64 ] && [ "$PROBE" = 0 ]; then build_library "$out" "${cc[@]}"; fi
}

# build_library OBJDIR CC…: dist/lib/libember-micro.a — the C API module (Sources/EmberC, but
# CAPI+Hosts.swift, the trainer's entry points) compiled as Embedded Swift on top of the
# modules already built in OBJDIR, with the C modules, the FlatBuffers shim and the toolchain's
# Unicode tables in one archive; then links examples/c/ember_check.c (the C API's contract
# checks) and ember_example.c against it, statically with musl, and runs them.
build_library() {
  local out=$1
  shift
  local cc=("$@")
  local lib=dist/lib/libember-micro.a
  echo "== libember-micro.a (x86_64, Embedded Swift C API)"
  local sources=()
  for f in Sources/EmberC/*.swift; do [ "$(basename "$f")" = CAPI+Hosts.swift ] || sources+=("$f"); done
  "$SWIFTC" -enable-experimental-feature Embedded -wmo -parse-as-library -Osize -package-name Ember \
    -target x86_64-unknown-linux-gnu -I "$out" -I "$out/cmods" -I Sources/_EmberSystem/include -Xcc -fPIC \
    -Xfrontend -function-sections -module-name EmberC -c "${sources[@]}" -o "$out/EmberC.o"
  "${cc[@]}" -O2 -fPIC -ffunction-sections -fdata-sections -ISources/_EmberCAPITypes/include \
    -c Sources/_EmberCAPITypes/types.c -o "$out/capi_types.o"
  local members=()
  for o in "$out"/*.o; do
    case "$(basename "$o")" in main.c.o|malloc.c.o|memcpy.c.o|EmberCommands.o|EmberEdge.o) ;; *) members+=("$o") ;; esac
  done
  rm -rf "$out/unicode" && mkdir -p "$out/unicode" dist/lib
  (cd "$out/unicode" && ar x "$TOOLCHAIN/lib/swift/embedded/x86_64-unknown-linux-gnu/libswiftUnicodeDataTables.a")
  rm -f "$lib"
  ar rcs "$lib" "${members[@]}" "$out"/unicode/*.o
  printf '%-28s %8d bytes  archive x86_64 (musl)\n' "$lib" "$(stat -c %s "$lib")"
  for example in ember_check ember_example; do
    musl-gcc -static -std=c11 -O2 -ISources/EmberC/include "examples/c/$example.c" -o "$out/$example" \
      "$lib" -lm -Wl,--gc-sections
  done
  strip "$out/ember_example"
  printf '%-28s %8d bytes  static  examples/c/ember_example.c + libember-micro.a\n' "$out/ember_example" \
    "$(stat -c %s "$out/ember_example")"
  "$out/ember_check" examples/c/demo.ember | tail -1
  "$out/ember_example" examples/c/demo.ember > "$out/ember_example.out"
  grep -q "label=normal" "$out/ember_example.out"
}

# check_product ARCH PATH: static (no interpreter, no shared libraries) and, for the x86_64
# CLI, within MAX_MICRO_BYTES; prints the size either way.
check_product() {
  local arch=$1 product=$2 bytes
  bytes=$(stat -c %s "$product")
  if readelf -l "$product" | grep -q INTERP || readelf -d "$product" | grep -q NEEDED; then
    echo "micro: $product is not statically linked:" >&2
    readelf -l -d "$product" | grep -E 'INTERP|NEEDED' >&2
    exit 1
  fi
  printf '%-28s %8d bytes  static  %s\n' "$product" "$bytes" "$arch"
  if [ "$arch" = x86_64 ] && [ "$PROBE" = 0 ]; then
    if [ "$bytes" -gt "$MAX_MICRO_BYTES" ]; then
      echo "micro: $product is $bytes bytes, OVER the $MAX_MICRO_BYTES-byte budget" >&2
      exit 1
    fi
    echo "micro: $product is $bytes bytes, within the $MAX_MICRO_BYTES-byte (1 MiB) budget"
  fi
}

for arch in "${ARCHES[@]}"; do build_arch "$arch"; done

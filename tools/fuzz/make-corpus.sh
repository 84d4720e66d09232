#!/usr/bin/env bash
# Rebuilds the fuzz seed corpus from the golden fixtures (Tests/EmberFormatTests/Fixtures):
#   corpus/file/     whole files: every fixture plus edge cases (empty, header only, truncated,
#                    one flipped payload byte, newer major version)
#   corpus/payload/  the fixtures' `Model` payloads alone (for the payload-mode target)
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf tools/fuzz/corpus && mkdir -p tools/fuzz/corpus/file tools/fuzz/corpus/payload
python3 - <<'PY'
import glob, os, struct
fixtures = sorted(glob.glob("Tests/EmberFormatTests/Fixtures/*.ember"))
u32 = lambda b, i: struct.unpack_from("<I", b, i)[0]
u16 = lambda b, i: struct.unpack_from("<H", b, i)[0]

def field(b, table, fid):
    vt = table - struct.unpack_from("<i", b, table)[0]
    slot = 4 + 2 * fid
    if slot + 2 > u16(b, vt): return None
    off = u16(b, vt + slot)
    return table + off if off else None

def payload_span(b):
    root = u32(b, 0)
    at = field(b, root, 3)          # ModelFile.payload
    vec = at + u32(b, at)
    return vec + 4, u32(b, vec)

def put(kind, name, data):
    with open(f"tools/fuzz/corpus/{kind}/{name}", "wb") as f: f.write(bytes(data))

for path in fixtures:
    name = os.path.basename(path)[:-len(".ember")]
    b = open(path, "rb").read()
    put("file", name + ".ember", b)
    start, size = payload_span(b)
    put("payload", name + ".payload", b[start:start + size])
    if name == "tiny":
        put("file", "tiny-truncated.ember", b[: len(b) // 2])
        flipped = bytearray(b); flipped[start + size // 2] ^= 1
        put("file", "tiny-flipped.ember", flipped)
        future = bytearray(b)
        ver = field(b, u32(b, 0), 0)    # ModelFile.format_version (struct Version)
        struct.pack_into("<H", future, ver, u16(b, ver) + 1)
        put("file", "tiny-major-plus-one.ember", future)
put("file", "empty", b"")
put("file", "header-only", struct.pack("<I", 8) + b"EMBR" + bytes(8))
put("payload", "empty", b"")
PY
ls -l tools/fuzz/corpus/*

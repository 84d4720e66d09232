#!/usr/bin/env bash
# Rebuilds the fuzz seed corpus:
#   corpus/file/     whole files: every golden fixture (Tests/EmberFormatTests/Fixtures) plus edge
#                    cases (empty, header only, truncated, one flipped payload byte, newer major)
#   corpus/payload/  the fixtures' `Model` payloads alone (for the payload-mode target)
#   corpus/rows/     CSV inputs for the reader + encoder target (FuzzRows.swift: columns x, n,
#                    color): BOM, quotes, CRLF, NUL, huge and tiny numbers, unseen categories
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf tools/fuzz/corpus && mkdir -p tools/fuzz/corpus/file tools/fuzz/corpus/payload tools/fuzz/corpus/rows
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

# Rows. The first byte's low bit picks the unknown-category policy (odd: strict), so each
# seed exists in both parities where it matters.
rows = {
    "plain": b"x,n,color\n1.5,2,red\n-3,7,blue\n",
    "bom": b"\xef\xbb\xbfx,n,color\n1,2,red\n",
    "quotes": b'x,n,color,note\n"1.5",2,"g""r,een","a, \"\"quoted\"\"\nnote"\n2,"3",red,""\n',
    "crlf": b"x,n,color\r\n1,2,red\r\n\r\n3,4,blue\r\n",
    "nul": b"x,n,color\n5.1\x009999garbage,1,red\n1,2,re\x00d\n",
    "huge-tiny": b"x,n,color\n1e39,1,red\n3e38,1,red\n-1e308,1,blue\n1e-45,1e-400,red\n0x10,1,red\ninf,-nan,red\n"
                 b"340282346638528859811704183484516925440,1,red\n.5e+3,5.,blue\n",
    "unseen": b"x,n,color\n1,2,green\n,,\nNA,nan,?\nNaN,N/A,na\n1,2,RED\n",
    "strict-unseen": b"y,color,n,x\n0,purple,2,1\n",
    "duplicate-header": b"x,n,color,x\n1,2,red,3\n",
    "ragged": b"x,n,color\n1,2\n1,2,red,extra\n\"unterminated,2,red\n",
    "spaces": b"x , n,color\n 1 , 2 , red \n",
}
for name, data in rows.items():
    put("rows", name + ".csv", data)
PY
ls -l tools/fuzz/corpus/*

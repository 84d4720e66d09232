#!/usr/bin/env bash
# Regenerates the committed FlatBuffers code from schema/ember.fbs.
#   tools/gen-schema.sh          rewrite the generated files
#   tools/gen-schema.sh --check  exit 1 when the committed files are stale
set -euo pipefail
cd "$(dirname "$0")/.."
command -v flatc >/dev/null || { echo "flatc not found: apt-get install flatbuffers-compiler" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
flatc --cpp --scoped-enums -o "$tmp/cpp" schema/ember.fbs
flatc --python -o "$tmp/py" schema/ember.fbs
declare -A targets=(
  ["$tmp/cpp/ember_generated.h"]="Sources/_EmberFlatBuffers/generated/ember_generated.h"
)
status=0
if [[ "${1:-}" == "--check" ]]; then
  for src in "${!targets[@]}"; do
    cmp -s "$src" "${targets[$src]}" || { echo "stale: ${targets[$src]} (run tools/gen-schema.sh)" >&2; status=1; }
  done
  diff -r -q -x __pycache__ "$tmp/py/ember/fb" tools/python/ember/fb >/dev/null 2>&1 || { echo "stale: tools/python/ember/fb (run tools/gen-schema.sh)" >&2; status=1; }
  exit $status
fi
for src in "${!targets[@]}"; do cp "$src" "${targets[$src]}"; done
# The generated Python is the subpackage ember.fb of the Python package (flatc's empty
# ember/__init__.py is not copied: the package has its own).
rm -rf tools/python/ember/fb && cp -r "$tmp/py/ember/fb" tools/python/ember/fb
echo "regenerated from schema/ember.fbs"

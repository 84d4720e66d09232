#!/usr/bin/env bash
# Regenerates models/: exports the public data sets to models/data/*.csv (scikit-learn's bundled
# iris, wine and breast_cancer; palmerpenguins) and trains one model each with a fixed seed.
# SOURCE_DATE_EPOCH makes the files byte-identical from run to run (created = that value,
# trainSeconds = 0). Usage: tools/make-models.sh [path/to/ember]   (default: release build)
set -euo pipefail
cd "$(dirname "$0")/.."
EMBER=${1:-.build/release/ember}
VENV=tools/.venv
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}   # 2026-01-01T00:00:00Z

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c "import sklearn, palmerpenguins" 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check scikit-learn palmerpenguins
fi
if [ ! -x "$EMBER" ]; then swift build -c release --product ember; fi

mkdir -p models/data
"$VENV/bin/python" - <<'PY'
import sklearn.datasets as ds
import palmerpenguins

def export(bunch, target, path):
    df = bunch.frame.copy()
    names = list(bunch.target_names)
    df[target] = [names[int(i)] for i in df.pop("target")]
    df.to_csv(path, index=False, na_rep="NA", lineterminator="\n")

export(ds.load_iris(as_frame=True), "species", "models/data/iris.csv")
export(ds.load_wine(as_frame=True), "cultivar", "models/data/wine.csv")
export(ds.load_breast_cancer(as_frame=True), "diagnosis", "models/data/breast_cancer.csv")
pg = palmerpenguins.load_penguins()
pg.to_csv("models/data/penguins.csv", index=False, na_rep="NA", lineterminator="\n")
PY

train() {  # name target [extra options]
  local name=$1 target=$2
  shift 2
  "$EMBER" train "models/data/$name.csv" --target "$target" --output "models/$name.ember" --seed 1 "$@" 2>&1 | sed "s|^|  |"
  echo "models/$name.ember"
}
train iris species
train wine cultivar
train breast_cancer diagnosis
train penguins species

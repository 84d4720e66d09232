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

# card NAME TARGET "title" "source" "licence" "notes" COMMAND-OPTIONS...: trains models/NAME.ember and
# writes its data card models/NAME.md with the exact command and the held-out metrics.
card() {
  local name=$1 target=$2 title=$3 source=$4 licence=$5 notes=$6
  shift 6
  local cmd=(train "models/data/$name.csv" --target "$target" --output "models/$name.ember" --seed 1 "$@")
  local summary
  summary=$("$EMBER" "${cmd[@]}" 2>&1) || { echo "$summary" >&2; exit 1; }
  local held=${summary##*held-out }
  held=${held%%;*}
  local rows=${held%%)*}
  rows=${rows#(}
  held=${held#*: }
  {
    echo "# $title (\`models/$name.ember\`)"
    echo
    echo "- **Data**: \`models/data/$name.csv\` — $source"
    echo "- **Licence**: $licence"
    echo "- **Target**: \`$target\`. $notes"
    echo "- **Command** (run by \`tools/make-models.sh\` with \`SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH\`):"
    echo "  \`ember ${cmd[*]}\`"
    echo "- **Held-out metrics** ($rows, each scored by a fit that never saw it: cross-fitting, docs/TRAINING.md §2): $held."
    echo "- Recipe: this build's defaults (docs/TRAINING.md §2–4). Per class:"
    "$EMBER" inspect "models/$name.ember" | awk '/^  [^ ].*: prior/ {c=$1} /^    (network|base) / && c {sub(/^ +/, ""); gsub(/  +/, " "); print "  - " c " " $0}'
    echo "- Training rows: $("$EMBER" inspect "models/$name.ember" | sed -n "s/^  training rows *//p")."
    echo
    echo "Training summary:"
    echo
    echo '```'
    echo "$summary" | grep -v "^wrote " | sed -E 's/; [0-9.]+ s$//'
    echo '```'
  } > "models/$name.md"
  echo "models/$name.ember ($rows held out): $held"
}

SK="scikit-learn's bundled copy (\`sklearn.datasets\`, scikit-learn $("$VENV/bin/python" -c 'import sklearn; print(sklearn.__version__)'))"
card iris species "Iris" "Fisher's iris data (150 flowers, 4 measurements, 3 species), $SK of the UCI Machine Learning Repository data set." \
  "UCI data set under CC BY 4.0; scikit-learn is BSD-3-Clause." "Labels are scikit-learn's target names."
card wine cultivar "Wine" "UCI wine recognition data (178 wines, 13 chemical measurements, 3 cultivars), $SK." \
  "UCI data set under CC BY 4.0; scikit-learn is BSD-3-Clause." "Labels are scikit-learn's target names (class_0…class_2)."
card breast_cancer diagnosis "Breast cancer Wisconsin (diagnostic)" "UCI breast cancer Wisconsin diagnostic data (569 tumours, 30 features), $SK." \
  "UCI data set under CC BY 4.0; scikit-learn is BSD-3-Clause." "Labels: malignant, benign."
card penguins species "Palmer penguins" "palmerpenguins (PyPI package $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("palmerpenguins"))')): 344 penguins from Palmer Station, Antarctica (Gorman, Williams & Fraser 2014; Horst, Hill & Gorman 2020)." \
  "CC0 1.0 (public domain dedication)." "Categorical columns (island, sex) and missing values (NA) exercise inference and imputation; year is an integer column."

#!/usr/bin/env bash
# Runs the same command lines with a reference Ember CLI and a candidate (ember-micro, native
# or under qemu) and fails on the first difference in stdout, stderr or exit status.
#
#   tools/micro/parity.sh REFERENCE CANDIDATE [RUNNER...]
#
# e.g. tools/micro/parity.sh .build/debug/ember dist/ember-micro
#      tools/micro/parity.sh .build/debug/ember dist/ember-micro-aarch64 qemu-aarch64-static
# Cases: every shipped model (models/*.ember with models/data/NAME.csv): verify, inspect
# (text, JSON), score (all threads, 1 thread, --energies, --stream from stdin, --output),
# classify, sample (3 seeds/samplers, --given), energy --gradient, score --explain, impute; then bad inputs: a missing file, a
# corrupted model, a FIFO-free directory, CSV with NUL / bad numbers / out-of-range values /
# unterminated quotes / missing columns / too-long lines, and usage errors.
set -uo pipefail
cd "$(dirname "$0")/../.."
REF=$1; shift
CAND=$1; shift
RUNNER=("$@")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cases=0
failures=0

# check NAME STDIN-FILE ARGS... : run both, compare.
check() {
  local name=$1 stdin=$2; shift 2
  "$REF" "$@" < "$stdin" > "$WORK/ref.out" 2> "$WORK/ref.err"; local rs=$?
  ${RUNNER[@]+"${RUNNER[@]}"} "$CAND" "$@" < "$stdin" > "$WORK/cand.out" 2> "$WORK/cand.err"; local cs=$?
  cases=$((cases + 1))
  if [ $rs != $cs ] || ! cmp -s "$WORK/ref.out" "$WORK/cand.out" || ! cmp -s "$WORK/ref.err" "$WORK/cand.err"; then
    failures=$((failures + 1))
    echo "DIFFERS: $name: $* (exit $rs vs $cs)"
    diff <(head -c 2000 "$WORK/ref.out") <(head -c 2000 "$WORK/cand.out") | head -5
    diff "$WORK/ref.err" "$WORK/cand.err" | head -5
  fi
}

# check_output NAME ARGS... : both write --output FILE; compare the files and exit statuses.
check_output() {
  local name=$1; shift
  rm -f "$WORK/ref.csv" "$WORK/cand.csv"
  "$REF" "$@" --output "$WORK/ref.csv" > /dev/null 2>&1; local rs=$?
  ${RUNNER[@]+"${RUNNER[@]}"} "$CAND" "$@" --output "$WORK/cand.csv" > /dev/null 2>&1; local cs=$?
  cases=$((cases + 1))
  if [ $rs != $cs ] || ! cmp -s "$WORK/ref.csv" "$WORK/cand.csv"; then
    failures=$((failures + 1))
    echo "DIFFERS: $name: $* --output (exit $rs vs $cs)"
  fi
}

NULL=/dev/null
for model in models/*.ember; do
  name=$(basename "$model" .ember)
  csv=models/data/$name.csv
  [ -f "$csv" ] || continue
  check "$name" $NULL verify "$model"
  check "$name" $NULL inspect "$model"
  check "$name" $NULL inspect "$model" --json
  check "$name" $NULL score "$model" "$csv"
  check "$name" $NULL score "$model" "$csv" --threads 1 --energies
  check "$name" "$csv" score "$model" - --stream
  check "$name" $NULL classify "$model" "$csv"
  check "$name" $NULL classify "$model" "$csv" --label-only --threads 2
  check "$name" $NULL sample "$model" --count 60 --seed 3
  check "$name" $NULL sample "$model" --count 40 --seed 11 --sampler mala --steps 20 --threads 2
  check "$name" $NULL sample "$model" --count 30 --seed 5 --init-from base --temperature 0.5
  head -21 "$csv" > "$WORK/head.csv"
  check "$name" $NULL energy "$model" "$WORK/head.csv" --gradient
  check "$name" $NULL score "$model" "$WORK/head.csv" --explain 2
  check "$name" $NULL sample "$model" --count 20 --seed 4 --given "$(head -1 "$csv" | cut -d, -f1)=$(sed -n 2p "$csv" | cut -d, -f1)"
  # impute: the first 20 rows with their second column blanked.
  awk -F, 'BEGIN { OFS = "," } NR > 1 { $2 = "" } { print }' "$WORK/head.csv" > "$WORK/holes.csv"
  check "$name" $NULL impute "$model" "$WORK/holes.csv" --seed 6
  check_output "$name" score "$model" "$csv"
  check_output "$name" sample "$model" --count 25 --seed 9
done

# Bad inputs: the same message and exit status.
model=models/iris.ember
header="sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)"
printf '%s\n5.1,3.5,1.4,0.2\n5.0,3\0006,1.4,0.2\n' "$header" > "$WORK/nul.csv"
printf '%s\n5.1,3.5,1.4,0.2\n5.0,abc,1.4,0.2\n' "$header" > "$WORK/text.csv"
printf '%s\n5.1,3.5,1e39,0.2\n' "$header" > "$WORK/range.csv"
printf '%s\n5.1,3.5,0x10,0.2\n' "$header" > "$WORK/hex.csv"
printf '%s\n5.1,"3.5,1.4,0.2\n' "$header" > "$WORK/quote.csv"
printf 'a,b\n1,2\n' > "$WORK/columns.csv"
{ printf '%s\n' "$header"; head -c 2000000 /dev/zero | tr '\0' '7'; printf '\n'; } > "$WORK/long.csv"
printf '\xef\xbb\xbf%s\r\n5.1,3.5,1.4,0.2\r\n' "$header" > "$WORK/bom.csv"
head -c 1000 "$model" > "$WORK/truncated.ember"
cp "$model" "$WORK/flipped.ember"
printf '\x55' | dd of="$WORK/flipped.ember" bs=1 seek=2000 conv=notrunc 2> /dev/null
for f in nul text range hex quote columns long bom; do
  check "$f" $NULL score "$model" "$WORK/$f.csv"
  check "$f" $NULL score "$model" "$WORK/$f.csv" --on-error skip
done
check missing $NULL score "$model" "$WORK/nothing.csv"
check directory $NULL score "$model" "$WORK"
check missing-model $NULL verify "$WORK/nothing.ember"
check truncated $NULL verify "$WORK/truncated.ember"
check flipped $NULL verify "$WORK/flipped.ember"
check flipped $NULL score "$WORK/flipped.ember" models/data/iris.csv
check usage $NULL score
check usage $NULL score "$model" --threads 0
check usage $NULL score "$model" --no-such-option
check usage $NULL sample "$model" --count -1
check usage $NULL frobnicate
check help $NULL help score
check help $NULL score --help
check version $NULL --version
check class $NULL sample "$model" --count 3 --class zebra

echo "parity: $cases cases, $failures differ ($REF vs ${RUNNER[*]:-} $CAND)"
[ $failures = 0 ]

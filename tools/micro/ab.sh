#!/bin/bash
# Alternated end-to-end runs of Ember binaries on the same input: each binary in turn, N rounds,
# then per binary the minimum, first quartile and median wall time. For comparing two builds on
# a machine whose speed drifts (a best-of-few run of each, one after the other, mostly measures
# the drift).
#
#   tools/micro/ab.sh [-n ROUNDS] [-t THREADS] [-m MODEL] [-i INPUT] BIN...
#
# Defaults: 31 rounds, 2 threads, the bench_e2e.py model and input in /tmp/ember-bench-e2e
# (run tools/micro/bench_e2e.py once to write them). Output goes to a temporary file.
set -euo pipefail
rounds=31 threads=2 model=/tmp/ember-bench-e2e/bench-30-128.ember input=/tmp/ember-bench-e2e/rows-100000x30.csv
while getopts "n:t:m:i:" o; do
  case $o in
    n) rounds=$OPTARG ;; t) threads=$OPTARG ;; m) model=$OPTARG ;; i) input=$OPTARG ;;
    *) echo "usage: $0 [-n ROUNDS] [-t THREADS] [-m MODEL] [-i INPUT] BIN..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n ROUNDS] [-t THREADS] [-m MODEL] [-i INPUT] BIN..." >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
declare -A times
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    start=$(date +%s%N)
    "$bin" score "$model" "$input" --output "$out" --threads "$threads"
    end=$(date +%s%N)
    times[$bin]+="$(( (end - start) / 1000 )) "
  done
done
printf '%-40s %10s %10s %10s   (%s rounds, %s threads, seconds)\n' binary min q1 median "$rounds" "$threads"
for bin in "$@"; do
  sorted=($(printf '%s\n' ${times[$bin]} | sort -n))
  awk -v b="$bin" -v a="${sorted[0]}" -v q="${sorted[$((rounds / 4))]}" -v m="${sorted[$((rounds / 2))]}" \
    'BEGIN { printf "%-40s %10.4f %10.4f %10.4f\n", b, a / 1e6, q / 1e6, m / 1e6 }'
done

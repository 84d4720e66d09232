#!/usr/bin/env bash
# Regenerates the golden .ember fixtures and the fuzz seed corpus from the specs in
# Tests/EmberFormatTests/TestModels.swift. Run only after an intended format change, then
# commit the new files together with the version bump (see docs/FORMAT.md).
#   tools/make-fixtures.sh [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=(--scratch-path "${EMBER_SCRATCH:-.build}")
[[ "${1:-}" == "--scratch-path" ]] && scratch=(--scratch-path "$2")
EMBER_REGENERATE_FIXTURES=1 swift test "${scratch[@]}" --filter GoldenFixtureTests.testRegenerateFixturesWhenAsked
tools/fuzz/make-corpus.sh
ls -l Tests/EmberFormatTests/Fixtures/*.ember

#!/usr/bin/env bash
# Compares this tree's stackc with another build of it, in interleaved pairs, on the
# reference stack and on 500 generated apps: the way to tell whether a change made
# stackc faster on a machine whose speed drifts more than the change (see
# bench/README.md, "Comparing two builds").
#
#   bench/compare.sh BASELINE_BINARY        # e.g. a release build of main
#   BENCH_PAIRS=40 bench/compare.sh /tmp/stackc-main
#
# Prints a markdown table; A is this tree's release build, B the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: bench/compare.sh BASELINE_BINARY (an executable stackc to compare with)" >&2
  exit 2
fi
BASE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PAIRS=${BENCH_PAIRS:-30}
WORK=$ROOT/target/bench-compare
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 2; }

cargo build --release --locked --bin stackc --example genstack >&2
NEW=$ROOT/target/release/stackc
GEN=$ROOT/target/release/examples/genstack

# The previous comparison's files are deleted at the end, not now: on this VM's ext4,
# creating files within a minute of deleting thousands scans every freed inode for each
# new one (see bench/README.md), which would time the cold renders below at 3-5x.
OLD=
if [ -e "$WORK" ]; then
  OLD=$WORK.old.$$
  mv "$WORK" "$OLD"
fi
mkdir -p "$WORK/ref"
cp -r stack.toml environments "$WORK/ref/"
[ -d modules ] && cp -r modules "$WORK/ref/"
"$GEN" 500 "$WORK/n500" >/dev/null
# Both binaries must agree on what the rendered tree is before they are timed.
for dir in "$WORK/ref" "$WORK/n500/stack"; do
  "$NEW" -C "$dir" render >/dev/null
  "$BASE" -C "$dir" render --check >/dev/null || {
    echo "the baseline renders $dir differently: timing them side by side would compare different work" >&2
    exit 1
  }
done

pairs() { python3 "$ROOT/bench/pairs.py" --runs "$PAIRS" "$@"; }
pairs --header --label "reference, render --check" --cwd "$WORK/ref" \
  -a "'$NEW' render --check" -b "'$BASE' render --check"
pairs --label "500 apps, render --check" --cwd "$WORK/n500/stack" \
  -a "'$NEW' render --check" -b "'$BASE' render --check"
pairs --label "500 apps, check" --cwd "$WORK/n500/stack" \
  -a "'$NEW' check" -b "'$BASE' check"
# A cold render into an empty rendered/: the previous one is moved aside, not deleted
# (see run.sh, TRASH), and written back to disk before the run.
mkdir -p "$WORK/trash"
aside="mv rendered \"\$(mktemp -d '$WORK/trash/r.XXXXXX')/\" && sync"
pairs --label "reference, render (cold)" --cwd "$WORK/ref" --prepare "$aside" \
  -a "'$NEW' render" -b "'$BASE' render"
pairs --label "500 apps, render (cold)" --cwd "$WORK/n500/stack" --prepare "$aside" \
  -a "'$NEW' render" -b "'$BASE' render"
rm -rf "$WORK/trash" ${OLD:+"$OLD"}

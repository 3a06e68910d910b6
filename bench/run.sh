#!/usr/bin/env bash
# The stackc benchmark: whole-process timings of stackc on generated stacks of N apps
# × 3 environments and on the reference stack, side by side with `kubectl kustomize` on
# the equivalent kustomize tree. Writes bench/results.md (see bench/README.md).
#
#   bench/run.sh                          # the full run, ~10 minutes after the build
#   BENCH_SIZES="1 20 100" bench/run.sh   # a quick one
#
# Raw hyperfine exports (JSON and markdown) and the generated stacks stay in
# target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=${BENCH_SIZES:-"1 20 100 500 1000"}
KUSTOMIZE_SIZES=${BENCH_KUSTOMIZE_SIZES:-"1 20 100 500"}
# Skip a kustomize size whose single run is estimated (from the two sizes below it) to
# take longer than this many seconds.
KUSTOMIZE_LIMIT=${BENCH_KUSTOMIZE_LIMIT:-120}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results.md}
OUT=$ROOT/target/bench
WORK=$OUT/work
DATA=$OUT/data
export LC_ALL=C

step() { printf '\n== %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null 2>&1
}
command -v hyperfine >/dev/null || { step "installing hyperfine"; apt_install hyperfine; }
[ -x /usr/bin/time ] || { step "installing time"; apt_install time; }
command -v python3 >/dev/null || { step "installing python3"; apt_install python3; }
if ! command -v kubectl >/dev/null; then
  step "installing kubectl"
  apt_install kubectl || apt_install kubernetes-client \
    || echo "kubectl could not be installed: the kustomize comparison is skipped" >&2
fi
command -v hyperfine >/dev/null || { echo "hyperfine is required" >&2; exit 2; }

step "building stackc and genstack (release)"
cargo build --release --locked --bin stackc --example genstack >&2
BIN=$ROOT/target/release/stackc
GEN=$ROOT/target/release/examples/genstack

# The previous run's files are deleted at the end, not now (see TRASH below).
OLD=
if [ -e "$OUT" ]; then
  OLD=$OUT.old.$$
  mv "$OUT" "$OLD"
fi
mkdir -p "$WORK" "$DATA"

# Before a cold render, the previous run's rendered/ is moved into $TRASH, not deleted:
# on ext4 without a journal (this machine's disk), creating files within a minute of
# deleting thousands scans past every recently deleted inode for each new one
# (`recently_deleted` in ext4's inode allocator; perf: over 70% of a slow run's CPU, 2.3 s
# instead of 0.23 s at 500 apps). That is the cost of the benchmark's own `rm -rf`, not
# of the render: the trash is deleted once every measurement is done.
TRASH=$WORK/trash
mkdir -p "$TRASH"
# set_aside PATH: the prepare command that moves PATH (if any) into the trash, then syncs.
set_aside() {
  echo "{ [ ! -e '$1' ] || mv '$1' \"\$(mktemp -d '$TRASH/r.XXXXXX')/\"; } && sync"
}

# Machine and versions, for the report.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo '+dirty')"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "hyperfine=$(hyperfine --version | cut -d' ' -f2)"
  echo "kubectl=$(kubectl version --client 2>/dev/null | tr '\n' ' ' || echo none)"
  echo "rustc=$(rustc --version)"
} >"$DATA/machine.txt"

# hyperfine options by stack size: fewer runs for the big ones.
runs_for() {
  case "$1" in
    ref | 1 | 20 | 100) echo "--warmup 3 --min-runs 10" ;;
    500) echo "--warmup 2 --runs 11" ;;
    *) echo "--warmup 1 --runs 5" ;;
  esac
}

# bench NAME LABEL RUNS PREPARE COMMAND: one hyperfine benchmark into $DATA/NAME.{json,md}.
# RUNS is a list of hyperfine options (split on spaces); PREPARE may be empty.
bench() {
  local name=$1 label=$2 runs=$3 prepare=$4 cmd=$5
  local -a args
  read -r -a args <<<"$runs"
  [ -n "$prepare" ] && args+=(--prepare "$prepare")
  hyperfine --style basic "${args[@]}" --command-name "$label" \
    --export-json "$DATA/$name.json" --export-markdown "$DATA/$name.md" "$cmd" >&2
}

# rss NAME PREPARE COMMAND: peak resident set size (KiB), via /usr/bin/time -v: the
# median of five runs (one run's peak moves by ±10% with how the threads interleave),
# with every run's figure kept in NAME.rss-runs.
rss() {
  local name=$1 prepare=$2 cmd=$3 i
  : >"$DATA/$name.rss-runs"
  for i in 1 2 3 4 5; do
    sh -c "$prepare"
    /usr/bin/time -v -o "$DATA/$name.time" sh -c "exec $cmd >/dev/null 2>&1" || true
    awk -F': ' '/Maximum resident set size/ {print $2}' "$DATA/$name.time" >>"$DATA/$name.rss-runs"
  done
  sort -n "$DATA/$name.rss-runs" | sed -n 3p >"$DATA/$name.rss"
}

# bench_stack KEY DIR FLIP_FILE FROM TO: every stackc measurement on the stack in DIR.
# The re-render flips FROM <-> TO in FLIP_FILE before each run: one app changes.
bench_stack() {
  local key=$1 dir=$2 flip_file=$3 from=$4 to=$5
  local opts stackc flip
  opts=$(runs_for "$key")
  stackc="'$BIN' -C '$dir'"
  flip="sed -i -e 's|$from|@FLIP@|; s|$to|$from|; s|@FLIP@|$to|' '$flip_file'"
  step "stackc: $key"

  # `sync` first, so that no run pays for the write-back of the previous run's files.
  bench "$key-cold" "render (cold)" "$opts" "$(set_aside "$dir/rendered")" "$stackc render"
  "$BIN" -C "$dir" render >/dev/null
  # The last cold run's 11,000 files are still being written back: let the kernel
  # finish before the next measurement, which would share the cores with it.
  sync
  find "$dir/rendered" -type f -name '*.yaml' ! -name kustomization.yaml | wc -l >"$DATA/$key.objects"
  find "$dir/rendered" -type f | wc -l >"$DATA/$key.files"
  bench "$key-check-clean" "render --check" "$opts" "" "$stackc render --check"
  bench "$key-rerender" "render, one app changed" "$opts" "$flip" "$stackc render"
  "$BIN" -C "$dir" render >/dev/null
  bench "$key-check" "check" "$opts" "" "$stackc check"

  rss "$key-cold" "$(set_aside "$dir/rendered")" "$stackc render"
  rss "$key-check-clean" "true" "$stackc render --check"
  rss "$key-rerender" "$flip" "$stackc render"
  rss "$key-check" "true" "$stackc check"
  "$BIN" -C "$dir" render >/dev/null
  "$BIN" -C "$dir" render --check >/dev/null

  # The cold render again on tmpfs: what it costs without this machine's disk.
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    local shm=/dev/shm/stackc-bench-$$/$key
    mkdir -p "$shm"
    cp -r "$dir/." "$shm/"
    bench "$key-cold-tmpfs" "render (cold, tmpfs)" "$opts" "rm -rf '$shm/rendered'" "'$BIN' -C '$shm' render"
    rm -rf "/dev/shm/stackc-bench-$$"
  fi
}

# --- the reference stack ------------------------------------------------------------
step "copying the reference stack"
mkdir -p "$WORK/ref/stack"
cp stack.toml "$WORK/ref/stack/"
cp -r environments "$WORK/ref/stack/"
[ -d modules ] && cp -r modules "$WORK/ref/stack/"
bench_stack ref "$WORK/ref/stack" "$WORK/ref/stack/environments/prod.toml" \
  "conveyor-producer:1.3.9" "conveyor-producer:1.3.8"

# --- generated stacks ---------------------------------------------------------------
for n in $SIZES; do
  step "generating N=$n"
  "$GEN" "$n" "$WORK/n$n" >&2
  bench_stack "$n" "$WORK/n$n/stack" "$WORK/n$n/stack/environments/prod.toml" \
    "app-0000:9.9.0" "app-0000:9.9.1"
done

# --- kustomize, one overlay (prod), against stackc rendering the same environment -----
if command -v kubectl >/dev/null; then
  prev_n= prev_t= last_n= last_t=
  for n in $KUSTOMIZE_SIZES; do
    [ -d "$WORK/n$n" ] || "$GEN" "$n" "$WORK/n$n" >&2
    dir=$WORK/n$n/stack
    if [ -n "$prev_t" ] && [ -n "$last_t" ]; then
      # Extrapolate with the growth exponent measured between the previous two sizes,
      # but at least quadratic: every patch scans every resource, so kustomize is
      # O(N²) once its start-up cost no longer dominates (a measured run at N=500 took
      # 202 s where the measured exponent alone predicted 99 s).
      estimate=$(python3 -c "import math; a,ta,b,tb,c=$prev_n,$prev_t,$last_n,$last_t,$n; k=max(2.0, math.log(tb/ta)/math.log(b/a)); print(f'{tb*(c/b)**k:.1f}')")
      if python3 -c "import sys; sys.exit(0 if $estimate > $KUSTOMIZE_LIMIT else 1)"; then
        step "kustomize: N=$n skipped (estimated ${estimate}s a run > ${KUSTOMIZE_LIMIT}s)"
        echo "$estimate" >"$DATA/kustomize-$n.skipped"
        continue
      fi
    fi
    case "$n" in
      1 | 20) kopts="--warmup 1 --runs 5" ;;
      100) kopts="--warmup 1 --runs 3" ;;
      *) kopts="--runs 1" ;;
    esac
    step "kustomize: N=$n"
    bench "kustomize-$n" "kubectl kustomize overlays/prod" "$kopts" "" \
      "kubectl kustomize '$WORK/n$n/kustomize/overlays/prod' >/dev/null"
    bench "$n-env-cold" "render --env prod (cold)" "$(runs_for "$n")" "$(set_aside "$dir/rendered/prod")" \
      "'$BIN' -C '$dir' render --env prod"
    "$BIN" -C "$dir" render >/dev/null
    prev_n=$last_n prev_t=$last_t
    last_n=$n
    last_t=$(python3 -c "import json; print(json.load(open('$DATA/kustomize-$n.json'))['results'][0]['median'])")
  done
fi

step "deleting the renders set aside"
rm -rf "$TRASH" ${OLD:+"$OLD"}

step "writing $RESULTS"
python3 bench/report.py "$DATA" "$SIZES" "$KUSTOMIZE_SIZES" >"$RESULTS"
cat "$RESULTS"

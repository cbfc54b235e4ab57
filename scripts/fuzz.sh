#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang under ASan+UBSan in build-fuzz and
# runs each for a while, two at a time. Every run starts from a scratch copy of the
# target's committed corpus (new inputs never land in tests/fuzz/corpus) and uses its
# dictionary. A crash, a leak, an input slower than 10 s or a run over 2 GiB fails it: the
# script then says which target failed, where its log is and where the input that did it
# was written, and exits non-zero. docs/FUZZING.md says more.
#
# usage: scripts/fuzz.sh [--seconds N] [--jobs N] [--no-build] [TARGET...]
#   --seconds N  how long each target runs (default 60)
#   --jobs N     targets run at the same time (default 2)
#   --no-build   use build-fuzz as it is
#   TARGET       only these (e.g. fuzz_request); default: every tests/fuzz/fuzz_*.cpp
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
jobs=2
build=1
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

if [[ $build -eq 1 ]]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPORTICO_FUZZ=ON -DPORTICO_TESTS=OFF "${launcher[@]}" >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
fi

runs=build-fuzz/fuzz-runs
rm -rf "$runs"
mkdir -p "$runs"

# One target: runs in $runs/<target>/ (corpus/, crash-*/leak-*/timeout-* files, log).
run_one() {
  local t="$1"
  local dir="$runs/$t"
  mkdir -p "$dir/corpus"
  if [[ -d tests/fuzz/corpus/$t ]]; then cp -r "tests/fuzz/corpus/$t/." "$dir/corpus/"; fi
  local dict=()
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/tests/fuzz/$t" "$dir/corpus" "${dict[@]}" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$dir/" >"$dir/log" 2>&1
}

failed=()
echo "fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  [[ -x build-fuzz/tests/fuzz/$t ]] || { echo "no such fuzz target: $t" >&2; exit 2; }
done
# In batches of $jobs: start them, then wait for each by its pid.
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  batch=("${targets[@]:i:jobs}")
  pids=()
  for t in "${batch[@]}"; do
    run_one "$t" &
    pids+=($!)
  done
  for k in "${!batch[@]}"; do
    t=${batch[$k]}
    if wait "${pids[$k]}"; then
      echo "ok: $t ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$runs/$t/log" |
        grep -o '[0-9]*$') runs)"
    else
      failed+=("$t")
      echo "FAILED: $t (log: $runs/$t/log)"
    fi
  done
done

if [[ ${#failed[@]} -gt 0 ]]; then
  for t in "${failed[@]}"; do
    echo "---- $t: $runs/$t/log"
    grep -a -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|invariant broken|SUMMARY' \
      "$runs/$t/log" || tail -n 20 "$runs/$t/log"
    for a in "$runs/$t"/crash-* "$runs/$t"/leak-* "$runs/$t"/timeout-* "$runs/$t"/oom-*; do
      [[ -e $a ]] && echo "input: $a (reproduce: build-fuzz/tests/fuzz/$t $a)"
    done
  done
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing passed: ${targets[*]}"

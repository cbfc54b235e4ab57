#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the unit and integration suites
# (ctest) in a Release build, then again under AddressSanitizer + UndefinedBehaviorSanitizer, and
# both again under ThreadSanitizer; then every fuzz target for 60 s (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --tests
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPORTICO_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPORTICO_SANITIZE=address,undefined \
  -DPORTICO_TESTS=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# The threaded parts under ThreadSanitizer: the integration suite drives workers, reloads,
# health checks and shutdown through the real binary; unit tests hammer the state workers
# share (pool state, rate-limit buckets) from several threads.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DPORTICO_SANITIZE=thread -DPORTICO_TESTS=ON \
  >/dev/null
cmake --build build-tsan -j"$jobs" --target portico portico_integration portico_unit
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -j"$jobs"

# Every libFuzzer target for 60 s under ASan+UBSan (clang, build-fuzz): a crash, leak or
# timeout fails the run.
scripts/fuzz.sh --seconds 60

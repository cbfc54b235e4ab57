#!/usr/bin/env bash
# Installs what is missing, builds, and runs Portico with config/portico.yaml in front of
# two demo upstreams (127.0.0.1:9001 and :9002), so that `curl localhost:8080/` is answered
# through the proxy. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPORTICO_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target portico portico-demo-upstream

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
build/portico-demo-upstream --listen 127.0.0.1:9001 --name one & pids+=($!)
build/portico-demo-upstream --listen 127.0.0.1:9002 --name two & pids+=($!)

echo "portico: try  curl localhost:8080/  (Ctrl-C to stop)"
build/portico --config config/portico.yaml

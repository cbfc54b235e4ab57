#!/usr/bin/env bash
# Installs the Debian packages Portico needs to build and test, and only those that are
# missing (apt-get update runs only when something has to be installed).
# usage: scripts/install-deps.sh [--tests]
set -euo pipefail

packages=(build-essential cmake pkg-config libuv1-dev node-llhttp libssl-dev libyaml-cpp-dev
          libspdlog-dev libfmt-dev libpcre2-dev libsystemd-dev libhiredis-dev curl)
if [[ "${1:-}" == "--tests" ]]; then
  # systemd: the tests run `systemd-analyze verify` on the unit file. redis-server: the
  # fleet-wide rate limit tests share their buckets through a real one. openssl (s_client)
  # and nginx: the TLS tests' client and TLS upstream. clang and libclang-rt-14-dev: the
  # libFuzzer targets (scripts/fuzz.sh) need clang's -fsanitize=fuzzer and its runtime.
  packages+=(libgtest-dev systemd redis-server openssl nginx clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
# Debian starts nginx and redis-server as system services when they are installed, and
# nginx's package fails to install when that start fails (no IPv6 for its default site,
# port 80 taken). Nothing here wants those services (the tests start their own servers on
# their own ports), so service starts are refused for the install, as in container images.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# portico install-deps.sh: no service starts during the install\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

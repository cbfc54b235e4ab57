#!/usr/bin/env bash
# The cache benchmark: what a cache hit costs next to a proxied request, and Portico's
# cache next to nginx's proxy_cache, on one upstream whose answer says
# "Cache-Control: max-age=3600". Four servers, one worker each, measured in interleaved
# rounds with wrk -t1 (medians): nginx proxying, nginx from its proxy_cache, Portico
# proxying, Portico from its cache; and the upstream itself, for the floor. Reports req/s, p50/p99 and CPU microseconds per request
# (utime+stime of the server's process tree from /proc), then the ratios the cache issue
# asks about: Portico's hit CPU / Portico's proxied CPU, and Portico's cached req/s /
# nginx's cached req/s.
#
# usage: perf/cache.sh [--portico BIN] [--rounds N] [--secs S] [--conns C] [--keep]
set -u
set -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3 SECS=5 CONNS=64 PORTICO_ARG=""
while (($#)); do
  case $1 in
    --portico) PORTICO_ARG=${2:?--portico needs a path}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --secs) SECS=${2:?}; shift 2 ;;
    --conns) CONNS=${2:?}; shift 2 ;;
    --keep) KEEP_WORK=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--portico BIN] [--rounds N] [--secs S] [--conns C] [--keep]" >&2; exit 2 ;;
  esac
done
for v in ROUNDS SECS CONNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} wants a whole number, got '${!v}'"
done
((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be 1..50"
((SECS >= 1 && SECS <= 120)) || die "--secs must be 1..120"

need nginx wrk awk sed sort timeout
pick_portico "$PORTICO_ARG" 0
[[ -n $PORTICO_BIN ]] || die "no Portico binary: build it, or pass --portico"
perf_init

# check_cached NAME HEADER VALUE: a second request must come back from the cache.
check_cached() {
  local name=$1 field=$2 want=$3 port=${SPORT[$1]} fd reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" || die "$name: cannot connect to 127.0.0.1:$port"
  printf 'GET /check HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n' >&"$fd"
  reply=$(timeout --foreground 5 cat <&"$fd" | tr -d '\r')
  exec {fd}>&-
  if ! grep -qi "^$field: $want\$" <<<"$reply"; then
    log "$name: the second request was not answered from the cache ($field: $want). Reply:"
    printf '%s\n' "${reply:0:400}" >&2
    exit 2
  fi
}

render "$PERF_DIR/configs/nginx-upstream-cacheable.conf" "$WORK/nginx-upstream.conf"
start upstream "$UP_PORT" nginx -e "$WORK/upstream.err" -p "$WORK" -c "$WORK/nginx-upstream.conf"
start_nginx
render "$PERF_DIR/configs/nginx-cache.conf" "$WORK/nginx-cache.conf"
start nginx-cache "$NC_PORT" nginx -e "$WORK/nginx-cache.err" -p "$WORK" -c "$WORK/nginx-cache.conf"
http_check nginx-cache
check_cached nginx-cache x-cache HIT
start_portico "$PORTICO_BIN"
render "$PERF_DIR/configs/portico-cache.yaml" "$WORK/portico-cache.yaml"
"$PORTICO_BIN" --validate "$WORK/portico-cache.yaml" >/dev/null || die "portico-cache.yaml rejected"
start portico-cache "$PC_PORT" "$PORTICO_BIN" --config "$WORK/portico-cache.yaml"
http_check portico-cache
check_cached portico-cache x-cache HIT

# The upstream itself (nginx answering from memory with `return 200`) is the floor: what
# any answer without an upstream costs here, mostly the kernel's loopback TCP.
SERVERS=(upstream nginx nginx-cache portico portico-cache)
declare -A RPS=() P50=() P99=() CPU=() ERRS=()
for s in "${SERVERS[@]}"; do run_wrk "${SPORT[$s]}" 1 "$CONNS" "$WORK/warmup-$s.txt"; done
hz=$(getconf CLK_TCK)
for ((r = 1; r <= ROUNDS; r++)); do
  for s in "${SERVERS[@]}"; do
    pid=${SPID[$s]}
    c0=$(cpu_ticks "$pid")
    run_wrk "${SPORT[$s]}" "$SECS" "$CONNS" "$WORK/wrk-$s-$r.txt"
    c1=$(cpu_ticks "$pid")
    read -r rps p50 p99 errs reqs < <(parse_wrk "$WORK/wrk-$s-$r.txt")
    RPS[$s]+="$rps " P50[$s]+="$p50 " P99[$s]+="$p99 "
    ERRS[$s]=$((${ERRS[$s]:-0} + errs))
    CPU[$s]+="$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (n ? n : 1) }') "
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo "one worker each, wrk -t1 -c$CONNS, ${ROUNDS}x${SECS}s interleaved rounds (medians)"
printf '%-14s %9s %8s %8s %11s %7s\n' server req/s "p50 us" "p99 us" "cpu us/req" errors
declare -A M_RPS=() M_CPU=()
for s in "${SERVERS[@]}"; do
  M_RPS[$s]=$(med "${RPS[$s]}") M_CPU[$s]=$(med "${CPU[$s]}")
  printf '%-14s %9.0f %8.0f %8.0f %11.2f %7d\n' "$s" "${M_RPS[$s]}" "$(med "${P50[$s]}")" \
    "$(med "${P99[$s]}")" "${M_CPU[$s]}" "${ERRS[$s]}"
done
awk -v hit="${M_CPU[portico-cache]}" -v proxied="${M_CPU[portico]}" \
  'BEGIN { printf "portico hit cpu / portico proxied cpu: %.2f (the issue asks <= 0.50)\n", hit / proxied }'
awk -v p="${M_RPS[portico-cache]}" -v n="${M_RPS[nginx-cache]}" \
  'BEGIN { printf "portico cached req/s / nginx proxy_cache req/s: %.2f (the issue asks > 1)\n", p / n }'

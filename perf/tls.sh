#!/usr/bin/env bash
# The TLS benchmark: nginx and Portico terminating TLS with the same certificate, key
# type, protocols and ciphers (TLS 1.3, TLS_AES_128_GCM_SHA256), one worker each, in front
# of one plain upstream. Two loads, measured in interleaved rounds with wrk -t1 (medians):
#   keep-alive  HTTPS requests on --conns connections kept open: the cost of encryption;
#   handshakes  every request on a new connection (Connection: close): req/s are full
#               handshakes per second (both servers have resumption off for this).
# Reports req/s, p50/p99 and CPU microseconds per request (utime+stime of the server's
# process tree from /proc), then Portico / nginx for each load.
#
# usage: perf/tls.sh [--portico BIN] [--key ecdsa|rsa] [--rounds N] [--secs S] [--conns C] [--keep]
set -u
set -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3 SECS=5 CONNS=64 KEY=ecdsa PORTICO_ARG=""
while (($#)); do
  case $1 in
    --portico) PORTICO_ARG=${2:?--portico needs a path}; shift 2 ;;
    --key) KEY=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --secs) SECS=${2:?}; shift 2 ;;
    --conns) CONNS=${2:?}; shift 2 ;;
    --keep) KEEP_WORK=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--portico BIN] [--key ecdsa|rsa] [--rounds N] [--secs S] [--conns C] [--keep]" >&2; exit 2 ;;
  esac
done
for v in ROUNDS SECS CONNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} wants a whole number, got '${!v}'"
done
((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be 1..50"
((SECS >= 1 && SECS <= 120)) || die "--secs must be 1..120"
[[ $KEY == ecdsa || $KEY == rsa ]] || die "--key is ecdsa or rsa"

need nginx wrk openssl awk sed sort timeout
pick_portico "$PORTICO_ARG" 0
[[ -n $PORTICO_BIN ]] || die "no Portico binary: build it, or pass --portico"
perf_init

# One self-signed certificate for both servers.
if [[ $KEY == ecdsa ]]; then
  keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  TLS_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256
else
  keyopt=(-newkey rsa:2048)
  TLS_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256
fi
openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=bench -addext subjectAltName=DNS:bench \
  -keyout "$WORK/bench.key" -out "$WORK/bench.pem" >"$WORK/openssl.log" 2>&1 ||
  die "openssl could not make the certificate: $(cat "$WORK/openssl.log")"

# https_check NAME: one request through the server must reach the upstream; prints the
# protocol and cipher negotiated.
https_check() {
  local name=$1 port=${SPORT[$1]} out
  out=$(printf 'GET /check HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n' |
    timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername bench -ign_eof 2>/dev/null)
  if [[ $out != *"hello from upstream"* ]]; then
    log "$name: an HTTPS request through 127.0.0.1:$port did not reach the upstream. Output:"
    printf '%s\n' "${out: -600}" >&2
    exit 2
  fi
  log "$name: $(grep -m1 -o 'New, TLSv[0-9.]*, Cipher is [A-Z0-9_-]*' <<<"$out")"
}

start_upstream
render "$PERF_DIR/configs/nginx-tls.conf" "$WORK/nginx-tls.conf"
start nginx-tls "$NT_PORT" nginx -e "$WORK/nginx-tls.err" -p "$WORK" -c "$WORK/nginx-tls.conf"
https_check nginx-tls
render "$PERF_DIR/configs/portico-tls.yaml" "$WORK/portico-tls.yaml"
"$PORTICO_BIN" --validate "$WORK/portico-tls.yaml" >/dev/null || die "portico-tls.yaml rejected"
start portico-tls "$PT_PORT" "$PORTICO_BIN" --config "$WORK/portico-tls.yaml"
https_check portico-tls

SERVERS=(nginx-tls portico-tls)
LOADS=(keepalive handshake)
SCHEME=https
declare -A RPS=() P50=() P99=() CPU=() ERRS=()
hz=$(getconf CLK_TCK)
measure() {  # measure SERVER LOAD ROUND
  local s=$1 load=$2 r=$3 pid=${SPID[$1]} c0 c1 rps p50 p99 errs reqs
  if [[ $load == handshake ]]; then WRK_ARGS=(-H "Connection: close"); else WRK_ARGS=(); fi
  c0=$(cpu_ticks "$pid")
  run_wrk "${SPORT[$s]}" "$SECS" "$CONNS" "$WORK/wrk-$s-$load-$r.txt"
  c1=$(cpu_ticks "$pid")
  read -r rps p50 p99 errs reqs < <(parse_wrk "$WORK/wrk-$s-$load-$r.txt")
  RPS[$s/$load]+="$rps " P50[$s/$load]+="$p50 " P99[$s/$load]+="$p99 "
  ERRS[$s/$load]=$((${ERRS[$s/$load]:-0} + errs))
  CPU[$s/$load]+="$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (n ? n : 1) }') "
}
for s in "${SERVERS[@]}"; do WRK_ARGS=(); run_wrk "${SPORT[$s]}" 1 "$CONNS" "$WORK/warmup-$s.txt"; done
for ((r = 1; r <= ROUNDS; r++)); do
  for load in "${LOADS[@]}"; do
    for s in "${SERVERS[@]}"; do measure "$s" "$load" "$r"; done
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo "one worker each, $KEY key, wrk -t1 -c$CONNS, ${ROUNDS}x${SECS}s interleaved rounds (medians)"
printf '%-12s %-10s %9s %8s %8s %11s %7s\n' server load req/s "p50 us" "p99 us" "cpu us/req" errors
declare -A M_RPS=() M_CPU=()
for load in "${LOADS[@]}"; do
  for s in "${SERVERS[@]}"; do
    k=$s/$load
    M_RPS[$k]=$(med "${RPS[$k]}") M_CPU[$k]=$(med "${CPU[$k]}")
    printf '%-12s %-10s %9.0f %8.0f %8.0f %11.2f %7d\n' "$s" "$load" "${M_RPS[$k]}" \
      "$(med "${P50[$k]}")" "$(med "${P99[$k]}")" "${M_CPU[$k]}" "${ERRS[$k]}"
  done
done
for load in "${LOADS[@]}"; do
  awk -v p="${M_RPS[portico-tls/$load]}" -v n="${M_RPS[nginx-tls/$load]}" \
      -v pc="${M_CPU[portico-tls/$load]}" -v nc="${M_CPU[nginx-tls/$load]}" -v l="$load" \
    'BEGIN { printf "%s: portico/nginx req/s %.2f, cpu/req %.2f (the issue asks req/s >= 0.90)\n", l, p / n, pc / nc }'
done

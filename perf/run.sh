#!/usr/bin/env bash
# Side-by-side reverse-proxy benchmark: Portico vs nginx vs HAProxy on loopback.
#
# One upstream (nginx, one process) answers every request with a 20-byte body. nginx,
# HAProxy and Portico each proxy to it with ONE worker and keep-alive upstream
# connections. wrk (-t1) drives each proxy in interleaved rounds; per proxy the median
# over rounds is printed: req/s, p50/p99 latency, and the proxy's CPU time per request
# (utime+stime from /proc/PID/stat of the proxy's process tree, before/after each run),
# which moves far less than req/s on a shared or noisy machine.
#
# See perf/README.md. Everything runs from a temp dir; every process started here is
# stopped on exit, including Ctrl-C.
set -u
set -o pipefail

usage() {
  cat <<EOF
usage: perf/run.sh [options]
  --portico BIN          Portico binary (default: build/portico if it exists)
  --portico-config FILE  Portico config template (default: perf/configs/portico.yaml;
                         @UP_PORT@ / @PO_PORT@ / @DIR@ are substituted)
  --no-portico           benchmark nginx and HAProxy only
  --rounds N             interleaved rounds, median reported (default 3)
  --secs S               seconds per wrk run (default 5)
  --conns C              wrk connections (default 64; wrk uses one thread)
  --idle N               also open N idle keep-alive connections to each proxy and
                         report the RSS each adds (needs python3; try 10000)
  --idle-serial          with --idle: open the connections and send their requests one
                         at a time, instead of all N requests at once (see perf/README.md)
  --only LIST            comma-separated subset of nginx,haproxy,portico
  --keep                 keep the temp dir (configs, logs, raw wrk output)
environment: PORTICO_PERF_BASE_PORT (default 28000): ports are base+1 (upstream),
             +81 (nginx), +82 (HAProxy), +83 (Portico), all on 127.0.0.1.
EOF
}

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3 SECS=5 CONNS=64 IDLE=0 IDLE_SERIAL=0 NO_PORTICO=0 PORTICO_ARG="" PORTICO_CFG="" ONLY="nginx,haproxy,portico"
while (($#)); do
  case $1 in
    --portico) PORTICO_ARG=${2:?--portico needs a path}; shift 2 ;;
    --portico-config) PORTICO_CFG=${2:?--portico-config needs a file}; shift 2 ;;
    --no-portico) NO_PORTICO=1; shift ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --secs) SECS=${2:?}; shift 2 ;;
    --conns) CONNS=${2:?}; shift 2 ;;
    --idle) IDLE=${2:?}; shift 2 ;;
    --idle-serial) IDLE_SERIAL=1; shift ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --keep) KEEP_WORK=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for v in ROUNDS SECS CONNS IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} wants a whole number, got '${!v}'"
done
((ROUNDS >= 1 && ROUNDS <= 100)) || die "--rounds must be 1..100"
((SECS >= 1 && SECS <= 600)) || die "--secs must be 1..600"
((CONNS >= 1 && CONNS <= 10000)) || die "--conns must be 1..10000"
((IDLE <= 200000)) || die "--idle must be at most 200000"
[[ -z $PORTICO_CFG || -r $PORTICO_CFG ]] || die "cannot read $PORTICO_CFG"

need nginx haproxy wrk awk sed sort timeout
((IDLE > 0)) && need python3
[[ ,$ONLY, == *,portico,* ]] || NO_PORTICO=1
pick_portico "$PORTICO_ARG" "$NO_PORTICO"

perf_init
HZ=$(getconf CLK_TCK)

start_upstream
PROXIES=()
[[ ,$ONLY, == *,nginx,* ]] && { start_nginx; PROXIES+=(nginx); }
[[ ,$ONLY, == *,haproxy,* ]] && { start_haproxy; PROXIES+=(haproxy); }
[[ -n $PORTICO_BIN ]] && { start_portico "$PORTICO_BIN" "$PORTICO_CFG"; PROXIES+=(portico); }
((${#PROXIES[@]})) || die "nothing to benchmark (check --only)"

log "$(nproc) CPUs, $(uname -sr); $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(haproxy -v | awk 'NR==1{print "HAProxy " $3}')${PORTICO_BIN:+, portico $PORTICO_BIN}"
log "wrk -t1 -c$CONNS, $ROUNDS round(s) of ${SECS}s per proxy, interleaved; upstream 127.0.0.1:$UP_PORT"

for p in "${PROXIES[@]}"; do  # warm-up: connections, pools, caches, page faults
  run_wrk "${SPORT[$p]}" 1 "$CONNS" "$WORK/warmup-$p.txt" || log "warning: warm-up of $p failed"
done

for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PROXIES[@]}"; do
    pid=${SPID[$p]}
    kill -0 "$pid" 2>/dev/null || die "$p (pid $pid) has exited; see $WORK/$p.log (rerun with --keep)"
    out="$WORK/wrk-$p-$r.txt"
    c0=$(cpu_ticks "$pid")
    run_wrk "${SPORT[$p]}" "$SECS" "$CONNS" "$out"
    c1=$(cpu_ticks "$pid")
    read -r rps p50 p99 errs reqs < <(parse_wrk "$out")
    if ((reqs == 0)); then
      log "warning: $p round $r: wrk completed no requests:"
      tail -n 5 "$out" >&2
    fi
    cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v n="$reqs" 'BEGIN { printf "%.2f", (n > 0) ? d / hz * 1e6 / n : 0 }')
    echo "$rps $p50 $p99 $cpu $errs $reqs" >>"$WORK/res-$p.txt"
    log "  round $r $p: $rps req/s, p99 ${p99} us, ${cpu} us CPU/req, $errs errors"
  done
done

run_wrk "$UP_PORT" "$SECS" "$CONNS" "$WORK/wrk-upstream.txt"
read -r up_rps _ up_p99 _ _ < <(parse_wrk "$WORK/wrk-upstream.txt")

echo
echo "upstream direct: $up_rps req/s, p99 $up_p99 us   (wrk -t1 -c$CONNS, median of $ROUNDS x ${SECS}s rounds below)"
printf '%-8s %9s %8s %8s %11s %7s %7s\n' proxy req/s "p50 us" "p99 us" "cpu us/req" errors "rss MB"
declare -A MED_RPS=() MED_CPU=()
for p in "${PROXIES[@]}"; do
  f="$WORK/res-$p.txt"
  MED_RPS[$p]=$(awk '{print $1}' "$f" | median)
  MED_CPU[$p]=$(awk '{print $4}' "$f" | median)
  p50=$(awk '{print $2}' "$f" | median)
  p99=$(awk '{print $3}' "$f" | median)
  errs=$(awk '{ s += $5 } END { print s + 0 }' "$f")
  rss=$(rss_kb "${SPID[$p]}")
  printf '%-8s %9.0f %8.0f %8.0f %11.2f %7d %7.1f\n' "$p" "${MED_RPS[$p]}" "$p50" "$p99" "${MED_CPU[$p]}" "$errs" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
done

if [[ -n ${MED_RPS[portico]:-} ]]; then
  for o in nginx haproxy; do
    [[ -n ${MED_RPS[$o]:-} ]] || continue
    awk -v a="${MED_RPS[portico]}" -v b="${MED_RPS[$o]}" -v c="${MED_CPU[portico]}" -v d="${MED_CPU[$o]}" -v o="$o" \
      'BEGIN { printf "portico/%s: req/s x%.2f, cpu/req x%.2f\n", o, (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
  done
fi

if ((IDLE > 0)); then
  echo
  idle_args=(--burst) how="all $IDLE requests sent at once"
  ((IDLE_SERIAL)) && { idle_args=(); how="one request at a time"; }
  echo "idle keep-alive connections ($IDLE per proxy, each served one request, $how):"
  for p in "${PROXIES[@]}"; do
    pid=${SPID[$p]}
    r0=$(rss_kb "$pid")
    python3 "$PERF_DIR/idle_conns.py" "${SPORT[$p]}" "$IDLE" --hold 120 "${idle_args[@]}" >"$WORK/idle-$p.txt" 2>&1 &
    hp=$!
    PIDS+=("$hp")
    ready=0
    for ((i = 0; i < 1200; i++)); do         # at most 120 s to open them all
      grep -q '^ready' "$WORK/idle-$p.txt" 2>/dev/null && { ready=1; break; }
      kill -0 "$hp" 2>/dev/null || break
      sleep 0.1
    done
    if ((ready)); then
      sleep 0.5
      r1=$(rss_kb "$pid")
      awk -v p="$p" -v a="$r0" -v b="$r1" -v n="$IDLE" \
        'BEGIN { printf "  %-8s RSS %.1f -> %.1f MB: %.0f bytes per idle connection\n", p, a / 1024, b / 1024, (b - a) * 1024 / n }'
    else
      echo "  $p: could not open $IDLE connections: $(tail -n 1 "$WORK/idle-$p.txt")"
    fi
    kill -TERM "$hp" 2>/dev/null
    wait "$hp" 2>/dev/null
    sleep 0.5                                 # let the proxy see the closes before the next one
  done
fi

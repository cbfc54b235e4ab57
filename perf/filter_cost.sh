#!/usr/bin/env bash
# What the filter chain costs per request: Portico proxying to the nginx upstream with
# perf/configs/portico.yaml (no filters) and with perf/configs/portico-filters.yaml (a
# rate limit never reached and a closed circuit breaker), alternating, one worker, wrk
# -t1. Reports CPU microseconds per request (utime+stime from /proc) and, when `perf` can
# count them, user-space instructions per request: a count, steady on a noisy machine.
#
# usage: perf/filter_cost.sh [--portico BIN] [--rounds N] [--secs S] [--conns C]
#                            [--config-b TEMPLATE]
set -u
set -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=3 SECS=6 CONNS=64 PORTICO_ARG="" CONFIG_B="$PERF_DIR/configs/portico-filters.yaml"
while (($#)); do
  case $1 in
    --portico) PORTICO_ARG=${2:?--portico needs a path}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --secs) SECS=${2:?}; shift 2 ;;
    --conns) CONNS=${2:?}; shift 2 ;;
    --config-b) CONFIG_B=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--portico BIN] [--rounds N] [--secs S] [--conns C] [--config-b TEMPLATE]" >&2; exit 2 ;;
  esac
done
for v in ROUNDS SECS CONNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} wants a whole number, got '${!v}'"
done
((ROUNDS >= 1 && ROUNDS <= 50)) || die "--rounds must be 1..50"
((SECS >= 1 && SECS <= 120)) || die "--secs must be 1..120"
[[ -r $CONFIG_B ]] || die "cannot read $CONFIG_B"

need nginx wrk awk sed sort timeout
pick_portico "$PORTICO_ARG" 0
[[ -n $PORTICO_BIN ]] || die "no Portico binary: build it, or pass --portico"
perf_init
COUNT_INSTRUCTIONS=0
# Virtual machines often have no hardware counters: perf then says "<not supported>".
if command -v perf >/dev/null 2>&1 &&
  perf stat -e instructions:u -x, true 2>&1 >/dev/null | grep -q '^[0-9]'; then
  COUNT_INSTRUCTIONS=1
fi

start_upstream
declare -A CPU=() INS=() RPS=()
for ((r = 1; r <= ROUNDS; r++)); do
  for variant in bare filters; do
    tmpl=$PERF_DIR/configs/portico.yaml
    [[ $variant == filters ]] && tmpl=$CONFIG_B
    start_portico "$PORTICO_BIN" "$tmpl"
    pid=${SPID[portico]}
    run_wrk "$PO_PORT" 1 "$CONNS" "$WORK/warmup.txt" || log "warning: warm-up failed"
    if ((COUNT_INSTRUCTIONS)); then
      perf stat -e instructions:u -x, -o "$WORK/perf-$variant-$r.txt" -p "$pid" &
      ppid=$!
      PIDS+=("$ppid")
      sleep 0.2                                 # let perf attach
    fi
    c0=$(cpu_ticks "$pid")
    run_wrk "$PO_PORT" "$SECS" "$CONNS" "$WORK/wrk-$variant-$r.txt"
    c1=$(cpu_ticks "$pid")
    if ((COUNT_INSTRUCTIONS)); then
      kill -INT "$ppid"; wait "$ppid" 2>/dev/null
    fi
    read -r rps _ _ errs reqs < <(parse_wrk "$WORK/wrk-$variant-$r.txt")
    ((errs == 0)) || log "warning: $variant round $r: $errs errors"
    CPU[$variant]+="$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }') "
    RPS[$variant]+="$rps "
    if ((COUNT_INSTRUCTIONS)); then
      ins=$(awk -F, '/instructions/ { print $1 }' "$WORK/perf-$variant-$r.txt")
      INS[$variant]+="$(awk -v i="$ins" -v n="$reqs" 'BEGIN { printf "%.0f", i / n }') "
    fi
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
    unset 'SPID[portico]'
  done
done

echo "Portico, one worker, wrk -t1 -c$CONNS, ${ROUNDS}x${SECS}s per variant, alternating (medians)"
printf '%-8s %9s %11s %14s\n' variant req/s "cpu us/req" "instr/req (u)"
for variant in bare filters; do
  rps=$(tr ' ' '\n' <<<"${RPS[$variant]}" | grep . | median)
  cpu=$(tr ' ' '\n' <<<"${CPU[$variant]}" | grep . | median)
  ins=-
  ((COUNT_INSTRUCTIONS)) && ins=$(tr ' ' '\n' <<<"${INS[$variant]}" | grep . | median)
  printf '%-8s %9.0f %11.2f %14s\n' "$variant" "$rps" "$cpu" "$ins"
  eval "M_CPU_$variant=$cpu M_INS_$variant=${ins/-/0}"
done
awk -v a="$M_CPU_bare" -v b="$M_CPU_filters" 'BEGIN { printf "filters/bare: cpu/req %.3f", b / a }'
if ((COUNT_INSTRUCTIONS)); then
  awk -v a="$M_INS_bare" -v b="$M_INS_filters" 'BEGIN { printf ", instructions/req %.3f", b / a }'
fi
echo

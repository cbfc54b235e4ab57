#!/usr/bin/env bash
# System calls per proxied request, for nginx, HAProxy and Portico: the same servers as
# perf/run.sh (one worker each, one nginx upstream, keep-alive), one wrk -t1 run per proxy
# while `strace -c -f` counts the proxy's system calls. A count, not a time, so it hardly
# moves on a noisy machine (strace slows the proxy down a lot; req/s here mean nothing).
# The floor for a keep-alive request is 4 (a read and a write on each side) plus a share
# of epoll_wait.
#
# usage: perf/syscalls.sh [--portico BIN] [--portico-config FILE] [--no-portico]
#                         [--secs S] [--conns C] [--top K] [--keep]
set -u
set -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECS=3 CONNS=64 TOP=6 NO_PORTICO=0 PORTICO_ARG="" PORTICO_CFG=""
while (($#)); do
  case $1 in
    --portico) PORTICO_ARG=${2:?--portico needs a path}; shift 2 ;;
    --portico-config) PORTICO_CFG=${2:?--portico-config needs a file}; shift 2 ;;
    --no-portico) NO_PORTICO=1; shift ;;
    --secs) SECS=${2:?}; shift 2 ;;
    --conns) CONNS=${2:?}; shift 2 ;;
    --top) TOP=${2:?}; shift 2 ;;
    --keep) KEEP_WORK=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--portico BIN] [--portico-config FILE] [--no-portico] [--secs S] [--conns C] [--top K] [--keep]" >&2; exit 2 ;;
  esac
done
for v in SECS CONNS TOP; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} wants a whole number, got '${!v}'"
done
((SECS >= 1 && SECS <= 60)) || die "--secs must be 1..60"
((CONNS >= 1 && CONNS <= 10000)) || die "--conns must be 1..10000"
[[ -z $PORTICO_CFG || -r $PORTICO_CFG ]] || die "cannot read $PORTICO_CFG"

need nginx haproxy wrk strace awk sed sort timeout
pick_portico "$PORTICO_ARG" "$NO_PORTICO"
perf_init

start_upstream
start_nginx
start_haproxy
PROXIES=(nginx haproxy)
[[ -n $PORTICO_BIN ]] && { start_portico "$PORTICO_BIN" "$PORTICO_CFG"; PROXIES+=(portico); }

echo "wrk -t1 -c$CONNS for ${SECS}s per proxy under strace -c -f (system calls of the proxy only)"
printf '%-8s %9s %10s %8s  %s\n' proxy requests syscalls per_req "largest, per request"
for p in "${PROXIES[@]}"; do
  pid=${SPID[$p]}
  port=${SPORT[$p]}
  st="$WORK/strace-$p.txt"
  run_wrk "$port" 1 "$CONNS" "$WORK/warmup-$p.txt" || log "warning: warm-up of $p failed"
  # -f with -p attaches to every thread of the process (Portico's workers included).
  timeout --foreground $((SECS + 30)) strace -c -f -p "$pid" -o "$st" 2>"$WORK/strace-$p.err" &
  spid=$!
  PIDS+=("$spid")
  sleep 0.5                                   # let strace attach to every thread
  run_wrk "$port" "$SECS" "$CONNS" "$WORK/wrk-$p.txt"
  kill -INT "$spid" 2>/dev/null               # detach and write the summary
  wait "$spid" 2>/dev/null
  read -r _ _ _ errs reqs < <(parse_wrk "$WORK/wrk-$p.txt")
  if ((reqs == 0)) || [[ ! -s $st ]]; then
    printf '%-8s  no measurement (wrk requests: %s; strace: %s)\n' "$p" "$reqs" "$(head -c 200 "$WORK/strace-$p.err")"
    continue
  fi
  # strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall; the last is "total".
  total=$(awk '$NF == "total" { print $4 }' "$st")
  top=$(awk -v r="$reqs" '$NF != "total" && $4 ~ /^[0-9]+$/ && $1 ~ /^[0-9.]+$/ { printf "%s %.2f\n", $NF, $4 / r }' "$st" |
        sort -k2,2 -g -r | head -n "$TOP" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
  printf '%-8s %9d %10d %8.2f  %s\n' "$p" "$reqs" "${total:-0}" "$(awk -v t="${total:-0}" -v r="$reqs" 'BEGIN { print t / r }')" "$top"
  if ((errs > 0)); then log "  note: $p had $errs wrk errors / non-2xx answers"; fi
done
exit 0

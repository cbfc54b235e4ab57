# shellcheck shell=bash
# Shared helpers for perf/run.sh and perf/syscalls.sh: ports, config rendering, starting
# the servers in the foreground of this shell (never as system services), reading CPU
# time and RSS from /proc, and cleaning up every process we started, also on Ctrl-C.
# Sourced, not run.

PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$PERF_DIR")

# Ports: all on 127.0.0.1, offsets from one base so a second copy can run with another base.
BASE_PORT=${PORTICO_PERF_BASE_PORT:-28000}
set_ports() {
  UP_PORT=$((BASE_PORT + 1))
  NG_PORT=$((BASE_PORT + 81))
  HA_PORT=$((BASE_PORT + 82))
  PO_PORT=$((BASE_PORT + 83))
  PC_PORT=$((BASE_PORT + 84))  # Portico with its cache (perf/cache.sh)
  NC_PORT=$((BASE_PORT + 85))  # nginx with proxy_cache (perf/cache.sh)
  NT_PORT=$((BASE_PORT + 86))  # nginx terminating TLS (perf/tls.sh)
  PT_PORT=$((BASE_PORT + 87))  # Portico terminating TLS (perf/tls.sh)
}
set_ports

PIDS=()              # every process we started, in start order
declare -A SPID=()   # server name -> pid
declare -A SPORT=()  # server name -> port
WORK=""
KEEP_WORK=0

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || die "needs '$t' on PATH (e.g. apt-get install $t)"
  done
}

perf_cleanup() {
  local rc=$? pid i alive
  trap - EXIT INT TERM
  if ((${#PIDS[@]})); then
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do            # up to 5 s for a clean exit
      alive=0
      for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if ((KEEP_WORK)); then log "logs and configs kept in $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}

# Make the temp dir, install the traps, raise the open-file limit as far as allowed.
perf_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-perf.XXXXXX") || die "mktemp failed"
  trap perf_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT
  trap 'exit 143' TERM
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  NOFILE=$(ulimit -n)
  [[ $NOFILE == unlimited ]] && NOFILE=1048576
  MAXCONN=$(( (NOFILE - 100) / 2 ))          # each proxied connection may need two fds
  ((MAXCONN > 100000)) && MAXCONN=100000
}

# Fill the @NAME@ placeholders of a config template.
render() {
  local src=$1 dst=$2
  sed -e "s|@DIR@|$WORK|g" -e "s|@UP_PORT@|$UP_PORT|g" -e "s|@NG_PORT@|$NG_PORT|g" \
      -e "s|@HA_PORT@|$HA_PORT|g" -e "s|@PO_PORT@|$PO_PORT|g" \
      -e "s|@PC_PORT@|$PC_PORT|g" -e "s|@NC_PORT@|$NC_PORT|g" \
      -e "s|@NT_PORT@|$NT_PORT|g" -e "s|@PT_PORT@|$PT_PORT|g" -e "s|@CIPHERS@|${TLS_CIPHERS:-}|g" \
      -e "s|@NOFILE@|$NOFILE|g" -e "s|@MAXCONN@|$MAXCONN|g" "$src" >"$dst" || die "cannot write $dst"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT CMD...: run CMD in the background, logging to $WORK/NAME.log, and wait
# (at most 10 s) until it accepts connections on 127.0.0.1:PORT.
start() {
  local name=$1 port=$2 pid i
  shift 2
  port_open "$port" && die "something already listens on 127.0.0.1:$port (set PORTICO_PERF_BASE_PORT to move all ports)"
  "$@" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  SPID[$name]=$pid
  SPORT[$name]=$port
  for ((i = 0; i < 100; i++)); do
    port_open "$port" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not start listening on 127.0.0.1:$port; its output:"
  tail -n 20 "$WORK/$name.log" "$WORK/$name.err" 2>/dev/null >&2
  exit 2
}

# http_check NAME: one request with Connection: close; the answer must be a 200 carrying
# the upstream's body, i.e. the proxy really forwards.
http_check() {
  local name=$1 port=${SPORT[$1]} fd reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" || die "$name: cannot connect to 127.0.0.1:$port"
  printf 'GET /check HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n' >&"$fd"
  reply=$(timeout --foreground 5 cat <&"$fd" | tr -d '\r')
  exec {fd}>&-
  if [[ $reply != "HTTP/1.1 200"* || $reply != *"hello from upstream"* ]]; then
    log "$name: a request through 127.0.0.1:$port did not come back as the upstream's 200. Reply:"
    printf '%s\n' "${reply:0:400}" >&2
    exit 2
  fi
}

start_upstream() {
  render "$PERF_DIR/configs/nginx-upstream.conf" "$WORK/nginx-upstream.conf"
  start upstream "$UP_PORT" nginx -e "$WORK/upstream.err" -p "$WORK" -c "$WORK/nginx-upstream.conf"
}
start_nginx() {
  render "$PERF_DIR/configs/nginx-proxy.conf" "$WORK/nginx-proxy.conf"
  start nginx "$NG_PORT" nginx -e "$WORK/nginx.err" -p "$WORK" -c "$WORK/nginx-proxy.conf"
  http_check nginx
}
start_haproxy() {
  render "$PERF_DIR/configs/haproxy.cfg" "$WORK/haproxy.cfg"
  start haproxy "$HA_PORT" haproxy -db -f "$WORK/haproxy.cfg"
  http_check haproxy
}
# start_portico BIN [TEMPLATE]: the template defaults to perf/configs/portico.yaml.
start_portico() {
  local bin=$1 tmpl=${2:-$PERF_DIR/configs/portico.yaml} out
  render "$tmpl" "$WORK/portico.yaml"
  if ! out=$("$bin" --validate "$WORK/portico.yaml" 2>&1); then
    log "portico --validate rejected $WORK/portico.yaml:"
    printf '%s\n' "$out" >&2
    KEEP_WORK=1
    exit 2
  fi
  start portico "$PO_PORT" "$bin" --config "$WORK/portico.yaml"
  http_check portico
}

# Resolve which Portico binary to use. Sets PORTICO_BIN (empty: skip Portico).
# $1: the --portico value ("" if not given), $2: 1 if --no-portico.
pick_portico() {
  local given=$1 skip=$2
  PORTICO_BIN=""
  ((skip)) && return 0
  if [[ -n $given ]]; then
    [[ -x $given ]] || die "--portico $given: not an executable file"
    PORTICO_BIN=$given
  elif [[ -x $REPO_DIR/build/portico ]]; then
    PORTICO_BIN=$REPO_DIR/build/portico
  else
    log "note: $REPO_DIR/build/portico not found; benchmarking nginx and HAProxy only"
  fi
}

# The pid of every process in the tree rooted at $1 (the proxy and any children).
tree_pids() {
  local root=$1 f line rest pid ppid p
  local -A kids=()
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}
    rest=${line##*) }
    read -r _ ppid _ <<<"$rest"
    kids[$ppid]+=" $pid"
  done
  local -a queue=("$root") found=()
  while ((${#queue[@]})); do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    found+=("$p")
    # shellcheck disable=SC2206
    queue+=(${kids[$p]:-})
  done
  echo "${found[@]}"
}

# utime + stime, in clock ticks, of every thread of every process in the tree at $1.
cpu_ticks() {
  local total=0 p line rest
  local -a stat_fields
  for p in $(tree_pids "$1"); do
    { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
    rest=${line##*) }
    read -r -a stat_fields <<<"$rest"
    total=$((total + stat_fields[11] + stat_fields[12]))   # fields 14 and 15 of /proc/PID/stat
  done
  echo "$total"
}

# Resident set size, in kB, of the tree at $1.
rss_kb() {
  local total=0 p k v
  for p in $(tree_pids "$1"); do
    while read -r k v _; do
      [[ $k == VmRSS: ]] && total=$((total + v))
    done 2>/dev/null <"/proc/$p/status"
  done
  echo "$total"
}

# run_wrk PORT SECS CONNS OUT: one wrk run (bounded by timeout); its output goes to OUT.
# SCHEME (default http) and extra wrk arguments in WRK_ARGS (an array) apply when set.
run_wrk() {
  local port=$1 secs=$2 conns=$3 out=$4
  timeout --foreground $((secs + 20)) wrk -t1 -c"$conns" -d"${secs}s" --latency \
    "${WRK_ARGS[@]}" "${SCHEME:-http}://127.0.0.1:$port/" >"$out" 2>&1
}
WRK_ARGS=()

# parse_wrk OUT: prints "rps p50_us p99_us errors requests".
parse_wrk() {
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return v * 1000
      if (v ~ /s$/)  return v * 1000000
      if (v ~ /m$/)  return v * 60000000
      return v + 0
    }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    / requests in / { reqs = $1 }
    /Socket errors:/ { gsub(",", ""); errs += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%.0f %.0f %.0f %d %d\n", rps, p50, p99, errs, reqs }' "$1"
}

# median of the numbers on stdin
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

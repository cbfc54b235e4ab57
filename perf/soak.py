#!/usr/bin/env python3
"""Soak: mixed load through Portico for a long while, with reloads and upstream restarts.

Runs Portico (two workers) in front of two portico-demo-upstream instances and drives it
with a mix of clients until the time is up, while the config is reloaded every
--reload-every seconds (alternately by SIGHUP and POST /-/reload, alternately between two
configs that differ in a rate and a route) and upstream "b" is restarted every
--restart-every seconds (SIGTERM, which drains as nginx's `quit` does, then a new process
on the same port).

The clients, each a thread with its own connections:
  keepalive  GET /api/...  on long-lived keep-alive connections
  newconn    GET /api/...  with Connection: close, a new connection per request
  upload     POST /upload  chunked bodies of 0..256 KiB in chunks of random size; the
             upstream's answer must count the same number of bytes
  cache      GET /cached/hot/N (hits) and /cached/cold/N (misses) through the cache filter
  limited    GET /limited  on a route with a rate limit: 429 is an expected answer there

Every answer is checked (status, and the body the upstream must have produced). Failed
requests are every other outcome: a connection error, a timeout, another status, a wrong
body. The report gives them by client and kind, Portico's RSS after the warm-up and at the
end, the reloads that failed, and any sanitizer report in Portico's output (run it with a
sanitizer build: --portico build-asan/portico). Exit status 0 only when there were no
failed requests, no failed reloads, no sanitizer report, and RSS at the end is within
--rss-tolerance of RSS after the warm-up.

usage: perf/soak.py [--portico BIN] [--upstream BIN] [--minutes M] [--reload-every S]
                    [--restart-every S] [--base-port P] [--keep]
Everything listens on 127.0.0.1 only.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANITIZER_PATTERNS = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:")

CONFIG = """\
workers: 2
drain_timeout: 10s
log: {{ level: warn, access_log: off }}
admin: {{ address: 127.0.0.1:{admin} }}
reload: {{ watch: false }}
listeners:
  - name: soak
    address: 127.0.0.1:{port}
    limits: {{ header_timeout: 10s, idle_timeout: 60s }}
    routes:
      - name: limited
        match: {{ path_prefix: /limited }}
        filters:
          - rate_limit: {{ key: client_ip, rate: {rate}/s, burst: {rate} }}
        upstream: pool
      - name: cached
        match: {{ path_prefix: /cached }}
        filters:
          - cache: {{ zone: soak, max_bytes: 1MiB, default_ttl: 2s }}
        upstream: pool
      - name: {variant_route}
        match: {{ path_prefix: /{variant_path} }}
        respond: {{ status: 200, body: "variant {variant}\\n" }}
      - name: rest
        match: {{ path_prefix: / }}
        filters:
          - circuit_breaker: {{ max_pending: 4096, failure_ratio: 0.5, min_requests: 50, window: 10s, open_for: 5s }}
        upstream: pool
upstreams:
  - name: pool
    balance: round_robin
    endpoints: [ 127.0.0.1:{up_a}, 127.0.0.1:{up_b} ]
    timeouts: {{ connect: 1s, response: 10s }}
    health_check: {{ path: /health, interval: 1s, timeout: 500ms, healthy: 1, unhealthy: 1 }}
    retries: {{ attempts: 2, on: [connect_failure, reset] }}
"""


class Tally:
    """Outcomes by client and kind, shared by every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = collections.Counter()
        self.expected = collections.Counter()  # answers the config asks for (429)
        self.failed = collections.Counter()
        self.examples = []
        self.notes = collections.Counter()  # cache HIT / MISS and such

    def success(self, client):
        with self.lock:
            self.ok[client] += 1

    def answer_expected(self, client, what):
        with self.lock:
            self.expected[(client, what)] += 1

    def note(self, what):
        with self.lock:
            self.notes[what] += 1

    def failure(self, client, kind, detail):
        with self.lock:
            self.failed[(client, kind)] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{time.strftime('%H:%M:%S')} {client}: {kind}: {detail}")


class Process:
    def __init__(self, name, argv, log_path, env=None):
        self.name, self.argv, self.log_path, self.env = name, argv, log_path, env
        self.proc = None

    def start(self, port):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     env=self.env)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"{self.name} did not listen on 127.0.0.1:{port}; see {self.log_path}")

    def stop(self, timeout=15):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def expect_body(body, client, tally, want_prefix):
    if not body.startswith(want_prefix):
        tally.failure(client, "wrong body", body[:120])
        return False
    return True


class Clients:
    def __init__(self, port, deadline, tally, seed):
        self.port, self.deadline, self.tally = port, deadline, tally
        self.seed = seed
        self.counter = 0
        self.counter_lock = threading.Lock()

    def next_id(self):
        with self.counter_lock:
            self.counter += 1
            return self.counter

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, client, c, method, path, headers=None, body=None, chunked=False):
        """One exchange; returns (status, headers, body) or None after recording a failure."""
        try:
            c.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            r = c.getresponse()
            data = r.read()
            return r.status, r, data.decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.tally.failure(client, type(e).__name__, f"{method} {path}: {e}")
            c.close()
            return None

    def keepalive(self, n):
        rng = random.Random(self.seed * 100 + n)
        c = self.conn()
        while time.monotonic() < self.deadline:
            path = f"/api/{rng.randrange(1000)}?k={self.next_id()}"
            got = self.request("keepalive", c, "GET", path)
            if not got:
                c = self.conn()
                continue
            status, _, body = got
            if status != 200:
                self.tally.failure("keepalive", f"status {status}", f"{path}: {body[:100]}")
            elif expect_body(body, "keepalive", self.tally, "hello from demo upstream"):
                self.tally.success("keepalive")
        c.close()

    def newconn(self, n):
        rng = random.Random(self.seed * 200 + n)
        while time.monotonic() < self.deadline:
            c = self.conn()
            path = f"/api/new/{rng.randrange(1000)}"
            got = self.request("newconn", c, "GET", path, {"Connection": "close"})
            c.close()
            if not got:
                continue
            status, _, body = got
            if status != 200:
                self.tally.failure("newconn", f"status {status}", f"{path}: {body[:100]}")
            elif expect_body(body, "newconn", self.tally, "hello from demo upstream"):
                self.tally.success("newconn")

    def upload(self, n):
        rng = random.Random(self.seed * 300 + n)
        c = self.conn()
        while time.monotonic() < self.deadline:
            size = rng.choice([0, 1, 100, 4096, 65536, rng.randrange(256 * 1024)])
            payload = rng.randbytes(size)
            pieces, i = [], 0
            while i < size:
                step = rng.choice([1, 10, 1000, 16384, 70000])
                pieces.append(payload[i:i + step])
                i += step
            got = self.request("upload", c, "POST", f"/upload/{size}",
                               {"Content-Type": "application/octet-stream"}, iter(pieces),
                               chunked=True)
            if not got:
                c = self.conn()
                continue
            status, _, body = got
            want = f"request body bytes: {size}\n" if size else None
            if status != 200:
                self.tally.failure("upload", f"status {status}", body[:100])
            elif want and want not in body:
                self.tally.failure("upload", "body size", f"sent {size}, upstream said {body!r}")
            elif not want and "request body bytes" in body:
                self.tally.failure("upload", "body size", f"sent 0, upstream said {body!r}")
            else:
                self.tally.success("upload")
        c.close()

    def cache(self, n):
        rng = random.Random(self.seed * 400 + n)
        c = self.conn()
        while time.monotonic() < self.deadline:
            if rng.random() < 0.7:
                path = f"/cached/hot/{rng.randrange(10)}"
            else:
                path = f"/cached/cold/{self.next_id()}"
            got = self.request("cache", c, "GET", path)
            if not got:
                c = self.conn()
                continue
            status, r, body = got
            if status != 200:
                self.tally.failure("cache", f"status {status}", f"{path}: {body[:100]}")
            elif expect_body(body, "cache", self.tally, "hello from demo upstream"):
                self.tally.success("cache")
                self.tally.note("x-cache " + (r.getheader("x-cache") or "none").split()[0])
        c.close()

    def limited(self, n):
        c = self.conn()
        while time.monotonic() < self.deadline:
            got = self.request("limited", c, "GET", "/limited")
            if not got:
                c = self.conn()
                continue
            status, _, body = got
            if status == 429:
                self.tally.answer_expected("limited", "429")
            elif status != 200:
                self.tally.failure("limited", f"status {status}", body[:100])
            elif expect_body(body, "limited", self.tally, "hello from demo upstream"):
                self.tally.success("limited")
        c.close()


def admin_get(admin, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}{path}", timeout=5) as r:
        return r.read().decode()


def reload_count(admin, result):
    text = admin_get(admin, "/-/metrics")
    m = re.search(r'^portico_config_reloads_total\{result="%s"\} (\d+)' % result, text, re.M)
    return int(m.group(1)) if m else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--portico", default=os.path.join(REPO, "build", "portico"))
    ap.add_argument("--upstream", default=os.path.join(REPO, "build", "portico-demo-upstream"))
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=60, help="seconds before the first RSS reading")
    ap.add_argument("--reload-every", type=float, default=10)
    ap.add_argument("--restart-every", type=float, default=60)
    ap.add_argument("--base-port", type=int, default=29000)
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs)")
    args = ap.parse_args()
    for b in (args.portico, args.upstream):
        if not os.access(b, os.X_OK):
            sys.exit(f"error: {b} is not an executable (build it: cmake --build build "
                     "--target portico portico-demo-upstream)")
    if not 0.5 <= args.minutes <= 24 * 60 or args.reload_every < 1 or args.restart_every < 5:
        sys.exit("error: --minutes 0.5..1440, --reload-every >= 1, --restart-every >= 5")

    work = tempfile.mkdtemp(prefix="portico-soak.")
    base = args.base_port
    ports = dict(port=base + 80, admin=base + 90, up_a=base + 1, up_b=base + 2)
    for p in ports.values():
        try:
            socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
            sys.exit(f"error: 127.0.0.1:{p} is in use (pick another --base-port)")
        except OSError:
            pass
    config_path = os.path.join(work, "portico.yaml")

    def write_config(variant):
        text = CONFIG.format(**ports, rate=50 if variant == 0 else 60, variant=variant,
                             variant_route=f"variant-{variant}", variant_path=f"v{variant}")
        tmp = config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, config_path)

    write_config(0)
    up_a = Process("upstream a", [args.upstream, "--listen", f"127.0.0.1:{ports['up_a']}",
                                  "--name", "a"], os.path.join(work, "upstream-a.log"))
    up_b = Process("upstream b", [args.upstream, "--listen", f"127.0.0.1:{ports['up_b']}",
                                  "--name", "b"], os.path.join(work, "upstream-b.log"))
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    portico_log = os.path.join(work, "portico.log")
    portico = Process("portico", [args.portico, "--config", config_path], portico_log, env)
    procs = [up_a, up_b]
    exit_code = 1
    try:
        up_a.start(ports["up_a"])
        up_b.start(ports["up_b"])
        portico.start(ports["port"])
        procs.append(portico)
        pid = portico.proc.pid

        tally = Tally()
        start = time.monotonic()
        deadline = start + args.minutes * 60
        clients = Clients(ports["port"], deadline, tally, args.seed)
        mix = [("keepalive", 4), ("newconn", 2), ("upload", 2), ("cache", 2), ("limited", 1)]
        threads = [threading.Thread(target=getattr(clients, name), args=(i,), daemon=True)
                   for name, count in mix for i in range(count)]
        for t in threads:
            t.start()

        reloads = restarts = 0
        reload_failures = []
        rss_start = rss_max = None
        rss_samples = []
        next_reload = start + args.reload_every
        next_restart = start + args.restart_every
        next_rss = start + args.warmup
        next_report = start + 60
        while time.monotonic() < deadline:
            now = time.monotonic()
            if portico.proc.poll() is not None:
                tally.failure("portico", "exited", f"status {portico.proc.returncode}")
                break
            if now >= next_rss:
                rss = rss_kb(pid)
                rss_samples.append((round(now - start), rss))
                if rss_start is None:
                    rss_start = rss
                rss_max = max(rss_max or 0, rss)
                next_rss = now + 5
            if now >= next_reload:
                reloads += 1
                write_config(reloads % 2)
                before = reload_count(ports["admin"], "success")
                if reloads % 2:
                    portico.proc.send_signal(signal.SIGHUP)
                else:
                    req = urllib.request.Request(f"http://127.0.0.1:{ports['admin']}/-/reload",
                                                 method="POST")
                    try:
                        urllib.request.urlopen(req, timeout=10).read()
                    except OSError as e:
                        reload_failures.append(f"reload {reloads}: POST /-/reload: {e}")
                ok_by = time.monotonic() + 10
                while reload_count(ports["admin"], "success") <= before:
                    if time.monotonic() > ok_by:
                        reload_failures.append(f"reload {reloads}: not counted as a success")
                        break
                    time.sleep(0.05)
                next_reload += args.reload_every
            if now >= next_restart:
                restarts += 1
                code = up_b.stop()
                if code not in (0, None):
                    tally.failure("upstream b", "exit status", str(code))
                up_b.start(ports["up_b"])
                next_restart += args.restart_every
            if now >= next_report:
                with tally.lock:
                    ok, failed = sum(tally.ok.values()), sum(tally.failed.values())
                print(f"[{round(now - start):>4}s] ok {ok}, failed {failed}, reloads {reloads}, "
                      f"restarts {restarts}, rss {rss_kb(pid)} kB", flush=True)
                next_report += 60
            time.sleep(0.05)
        for t in threads:
            t.join(30)
        rss_end = rss_kb(pid) if portico.proc.poll() is None else 0
        elapsed = time.monotonic() - start
        status = portico.stop(30)
        procs.remove(portico)
        with open(portico_log, errors="replace") as f:
            log_text = f.read()
        sanitizer = [line for line in log_text.splitlines() if SANITIZER_PATTERNS.search(line)]

        total_ok = sum(tally.ok.values())
        total_expected = sum(tally.expected.values())
        total_failed = sum(tally.failed.values())
        growth = (rss_end - rss_start) / rss_start if rss_start else 0.0
        print(f"\nsoak: {elapsed:.0f} s, {reloads} reloads, {restarts} restarts of upstream b")
        print(f"requests: {total_ok + total_expected + total_failed} "
              f"({(total_ok + total_expected + total_failed) / elapsed:.0f}/s): "
              f"{total_ok} as expected, {total_expected} answered 429 by the rate limit, "
              f"{total_failed} failed")
        for client, _ in mix:
            print(f"  {client:<10} ok {tally.ok[client]:>8}  failed "
                  f"{sum(v for (c, _), v in tally.failed.items() if c == client)}")
        for (client, kind), v in sorted(tally.failed.items()):
            print(f"  failed: {client}: {kind}: {v}")
        for e in tally.examples:
            print(f"    e.g. {e}")
        print(f"cache: {dict(tally.notes)}")
        print(f"reloads failed: {len(reload_failures)}")
        for r in reload_failures[:10]:
            print(f"  {r}")
        print(f"portico RSS: {rss_start} kB after {args.warmup:.0f} s, {rss_end} kB at the end "
              f"({growth:+.1%}), at most {rss_max} kB")
        print(f"portico exit status: {status}")
        print(f"sanitizer reports: {len(sanitizer)}")
        for line in sanitizer[:20]:
            print(f"  {line}")
        print(json.dumps({"seconds": round(elapsed), "ok": total_ok, "rate_limited": total_expected,
                          "failed": total_failed, "reloads": reloads,
                          "reload_failures": len(reload_failures), "restarts": restarts,
                          "rss_start_kb": rss_start, "rss_end_kb": rss_end, "rss_max_kb": rss_max,
                          "sanitizer_reports": len(sanitizer), "rss_samples": rss_samples}))
        good = (total_failed == 0 and not reload_failures and not sanitizer and status == 0
                and abs(growth) <= args.rss_tolerance)
        exit_code = 0 if good else 1
    finally:
        for p in procs:
            p.stop(5)
        if args.keep or exit_code:
            print(f"logs and configs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

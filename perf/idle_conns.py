#!/usr/bin/env python3
"""Hold N idle keep-alive connections to a proxy on 127.0.0.1, for perf/run.sh --idle.

Opens N connections one after the other; on each it sends one GET and reads the whole
response, so every connection is an idle keep-alive session the proxy has served once.
One request is in flight at a time, so the proxy needs only one upstream connection and
the memory it adds is the cost of the idle client connections themselves.

With --burst, all N connections are opened first, then all N requests sent, then all
responses read: a wave of clients arriving together. The proxy then has up to N requests
in flight (and as many upstream connections), and the RSS it adds also shows what it
keeps from that peak (allocator high-water mark, cached upstream connections).

Prints "ready N" once all are open, then holds them until SIGTERM or until --hold
seconds have passed, and closes them.

usage: idle_conns.py PORT N [--hold SECS] [--burst]
"""
import argparse
import resource
import signal
import socket
import sys
import time


def read_response(s: socket.socket, deadline: float) -> None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.time() > deadline:
            raise TimeoutError("no response head")
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("not a 200: " + head.split(b"\r\n")[0].decode(errors="replace"))
    while len(body) < length:
        if time.time() > deadline:
            raise TimeoutError("response body incomplete")
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the response body")
        body += chunk


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--hold", type=float, default=60.0, help="longest time to hold them (s)")
    ap.add_argument("--burst", action="store_true", help="send all requests before reading")
    a = ap.parse_args()
    if not 0 < a.n <= 200000:
        print("N must be 1..200000", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.n + 64
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    socks = []
    deadline = time.time() + max(30.0, a.n / 500.0)  # whole set-up is bounded in time
    req = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
    try:
        if a.burst:
            for _ in range(a.n):
                socks.append(socket.create_connection(("127.0.0.1", a.port), timeout=5))
            for s in socks:
                s.sendall(req)
            for s in socks:
                read_response(s, deadline)
        else:
            for _ in range(a.n):
                s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
                socks.append(s)
                s.sendall(req)
                read_response(s, deadline)
    except (OSError, TimeoutError, ConnectionError, ValueError) as e:
        print(f"failed after {len(socks)} connections: {e}", file=sys.stderr)
        return 1
    print(f"ready {len(socks)}", flush=True)
    # Hold until SIGTERM (sys.exit from the handler) or the hold time ends.
    try:
        time.sleep(max(0.0, a.hold))
    finally:
        for s in socks:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

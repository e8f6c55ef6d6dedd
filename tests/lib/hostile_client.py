#!/usr/bin/env python3
"""hostile_client.py — raw HTTP clients that curl cannot be (issue 10).

Each mode talks to ADDR, either unix:PATH or HOST:PORT, prints one line of
results and never waits past its own deadline:

  status ADDR RAW_PATH [--headers N] [--wait S]
      GET RAW_PATH sent as is (plus N junk headers); prints the status
      code, or `none` when nothing came within S seconds (default 10),
      or `closed` when the server closed without an answer.
  slow ADDR N WAIT
      N connections that send half a header and then nothing; prints
      `refused=A closed=B open=C`: A closed by the server at once (within
      1 s: a per-client cap), B closed later within WAIT seconds (a
      header timeout), C still open at the end.
  idle ADDR WAIT [TOKEN]
      One keep-alive request answered (bearer TOKEN when given), then silence; prints `closed` when
      the server closes the idle connection within WAIT s, else `open`.
  early ADDR N LENGTH [TOKEN [PATH]]
      N POSTs to PATH (default /containers/create) announcing a LENGTH-byte body and
      sending none of it (bearer TOKEN when given); prints each answer's
      status within 5 s (`none` when none came), space-separated.
  body ADDR N LENGTH [PATH]
      N POSTs to PATH without a token that send their whole LENGTH-byte body,
      kept open together; prints the statuses (or `none`).
"""
import socket
import sys
import time


def connect(addr, timeout):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr[5:])
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, int(port)))
    return s


def read_status(s, deadline):
    """The status code of the first answer on s, `none` or `closed`."""
    buf = b""
    while b"\r\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return "none"
        s.settimeout(left)
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            return "none"
        except ConnectionResetError:
            return "closed"
        if not chunk:
            return "closed" if not buf else buf.split(b" ")[1].decode()
        buf += chunk
    return buf.split(b" ")[1].decode()


def mode_status(addr, path, headers=0, wait=10.0):
    s = connect(addr, wait)
    req = "GET %s HTTP/1.1\r\nHost: x\r\n" % path
    req += "".join("X-Junk-%d: %d\r\n" % (i, i) for i in range(headers))
    s.sendall((req + "\r\n").encode())
    print(read_status(s, time.monotonic() + wait))


def is_closed(s):
    s.settimeout(0.05)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def mode_slow(addr, n, wait):
    socks = []
    for _ in range(n):
        try:
            s = connect(addr, 2)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Half: ")
        except OSError:
            s = None
        socks.append(s)
    time.sleep(1)
    refused = sum(1 for s in socks if s is None or is_closed(s))
    alive = [s for s in socks if s is not None and not is_closed(s)]
    end = time.monotonic() + wait
    while alive and time.monotonic() < end:
        time.sleep(0.5)
        alive = [s for s in alive if not is_closed(s)]
    closed = n - refused - len(alive)
    print("refused=%d closed=%d open=%d" % (refused, closed, len(alive)))


def mode_idle(addr, wait, token=None):
    s = connect(addr, 5)
    auth = "Authorization: Bearer %s\r\n" % token if token else ""
    s.sendall(("GET /_ping HTTP/1.1\r\nHost: x\r\n%s\r\n" % auth).encode())
    st = read_status(s, time.monotonic() + 5)
    if st != "200":
        print("first answer: " + st)
        return
    end = time.monotonic() + wait
    while time.monotonic() < end:
        time.sleep(0.25)
        if is_closed(s):
            print("closed")
            return
    print("open")


def post_head(length, token, path):
    h = "POST %s HTTP/1.1\r\nHost: x\r\n" % (path or "/containers/create")
    h += "Content-Type: application/json\r\nContent-Length: %d\r\n" % length
    if token:
        h += "Authorization: Bearer %s\r\n" % token
    return (h + "\r\n").encode()


def mode_early(addr, n, length, token=None, path=None):
    out = []
    for _ in range(n):
        s = connect(addr, 5)
        s.sendall(post_head(length, token, path))
        out.append(read_status(s, time.monotonic() + 5))
        s.close()
    print(" ".join(out))


def mode_body(addr, n, length, path=None):
    socks, out = [], []
    chunk = b"x" * 65536
    for _ in range(n):
        s = connect(addr, 5)
        s.sendall(post_head(length, None, path))
        sent = 0
        try:
            while sent < length:
                sent += s.send(chunk[: min(len(chunk), length - sent)])
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        socks.append(s)
    for s in socks:
        out.append(read_status(s, time.monotonic() + 5))
    print(" ".join(out))
    for s in socks:
        s.close()


def main(argv):
    mode, addr = argv[1], argv[2]
    if mode == "status":
        headers, wait = 0, 10.0
        rest = argv[4:]
        while rest:
            if rest[0] == "--headers":
                headers = int(rest[1])
            elif rest[0] == "--wait":
                wait = float(rest[1])
            rest = rest[2:]
        mode_status(addr, argv[3], headers, wait)
    elif mode == "slow":
        mode_slow(addr, int(argv[3]), float(argv[4]))
    elif mode == "idle":
        mode_idle(addr, float(argv[3]), argv[4] if len(argv) > 4 else None)
    elif mode == "early":
        mode_early(addr, int(argv[3]), int(argv[4]), *argv[5:7])
    elif mode == "body":
        mode_body(addr, int(argv[3]), int(argv[4]), *argv[5:6])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)

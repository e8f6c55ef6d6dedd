#!/usr/bin/env python3
"""recvtty.py SOCKET OUT [INPUT] — a console-socket receiver, as conmon is.

Listens on the unix socket SOCKET, accepts one connection, receives the pty
master fd that the runtime sends with SCM_RIGHTS, writes INPUT (if given)
into the terminal, and copies everything the container writes to its
terminal into the file OUT until the terminal hangs up (or 20 s pass).
Prints "ready" once listening, so a test can start the runtime after it.
"""
import os
import select
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode().decode("unicode_escape").encode() if len(sys.argv) > 3 else b""
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
if not fds:
    sys.exit("no fd received")
master = fds[0]
with open(out, "wb") as f:
    if data:
        os.write(master, data)
    deadline = time.time() + 20
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break  # EIO: the slave side is gone
        if not chunk:
            break
        f.write(chunk)
        f.flush()

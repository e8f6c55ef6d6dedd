#!/usr/bin/env python3
"""image_slow_registry.py PORT LAYOUT — a read-only registry (distribution
spec v2, anonymous) on 127.0.0.1:PORT serving the first image of an OCI
layout under any repository name and any tag, whose large blobs (> 64 KiB)
stall half-way: the first half is sent, then nothing until the client
leaves. For tests that need a pull still in flight (killing the image tool
or the client mid-transfer). Small blobs and manifests are served whole.
"""
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LAYOUT = int(sys.argv[1]), sys.argv[2]


def blob_path(digest):
    return os.path.join(LAYOUT, "blobs", "sha256", digest.split(":", 1)[1])


def first_manifest():
    with open(os.path.join(LAYOUT, "index.json")) as f:
        return json.load(f)["manifests"][0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_blob(self, digest, media_type, head):
        path = blob_path(digest)
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest) or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(size))
        self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if head:
            return
        with open(path, "rb") as f:
            data = f.read()
        if size <= 65536:
            self.wfile.write(data)
            return
        self.wfile.write(data[: size // 2])
        self.wfile.flush()
        while True:  # stall until the client goes away (or we are killed)
            time.sleep(1)

    def route(self, head):
        if self.path in ("/v2/", "/v2"):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        m = re.fullmatch(r"/v2/.+/(manifests|blobs)/([^/]+)", self.path)
        if not m:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        kind, ref = m.groups()
        if kind == "manifests":
            d = first_manifest()
            digest = ref if ref.startswith("sha256:") else d["digest"]
            self.send_blob(digest, d["mediaType"], head)
        else:
            self.send_blob(ref, "application/octet-stream", head)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()

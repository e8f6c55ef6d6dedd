#!/usr/bin/env python3
"""image_token_server.py — a tiny bearer-token endpoint for the image tests.

Usage: image_token_server.py PORT DIR ISSUER SERVICE USER PASS

Implements the docker token protocol the registry's `auth: token:` expects:
GET /token?service=S&scope=repository:NAME:pull,push with Basic credentials
USER:PASS answers {"token": JWT, "access_token": JWT}; the JWT is RS256,
signed with DIR/key.pem, its header carries DIR/cert.pem as x5c, so the
registry (rootcertbundle = DIR/cert.pem) accepts it. Wrong or missing
credentials get 401. Listens on 127.0.0.1 only. GET /health answers 200.
"""
import base64, json, os, subprocess, sys, time, uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

PORT, DIR, ISSUER, SERVICE, USER, PASS = int(sys.argv[1]), *sys.argv[2:7]


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der():
    pem = open(os.path.join(DIR, "cert.pem")).read()
    body = "".join(l for l in pem.splitlines() if "CERTIFICATE" not in l)
    return body  # x5c is standard base64 DER


def make_token(scope):
    access = []
    if scope:
        for sc in scope if isinstance(scope, list) else [scope]:
            parts = sc.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der()]}
    claims = {"iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 600,
              "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
    signing = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(DIR, "key.pem")],
                         input=signing, capture_output=True, check=True).stdout
    return signing.decode() + "." + b64(sig)


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        sys.stderr.write("token: " + (a[0] % a[1:]) + "\n")

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/health":
            self.send_response(200); self.end_headers(); return
        if u.path != "/token":
            self.send_response(404); self.end_headers(); return
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(f"{USER}:{PASS}".encode()).decode()
        if auth != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.end_headers(); return
        q = parse_qs(u.query)
        tok = make_token(q.get("scope", []))
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", PORT), H).serve_forever()

# LAB STAND-IN for vaulthalla-web.service (the real one is the web UI). Only
# what a backup/restore drill needs: a unit named vaulthalla-web.service that
# runs, stops and starts with the daemon, and answers GET /health on 127.0.0.1.
"""Minimal HTTP service standing in for the Vaulthalla web UI."""

import http.server
import json
import os
import signal
import sys

from vhstandin.common import SOCKET_PATH, VERSION_TEXT, sd_notify


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "vaulthalla-web-standin"

    def do_GET(self):
        if self.path == "/health":
            body = json.dumps({"status": "ok", "version": VERSION_TEXT,
                               "daemon_socket": os.path.exists(SOCKET_PATH)}).encode()
            ctype = "application/json"
        else:
            body = b"<html><body><h1>Vaulthalla (lab stand-in)</h1></body></html>"
            ctype = "text/html"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("web: " + (fmt % args) + "\n")


def main():
    host = os.environ.get("VH_WEB_HOST", "127.0.0.1")
    # Below the kernel's ephemeral range (32768-60999): a port inside it can be held, at the moment the web
    # service starts, by any outgoing connection on the host (to PostgreSQL, to swtpm), and the start then fails.
    port = int(os.environ.get("VH_WEB_PORT", "16968"))
    try:
        server = http.server.ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        sys.stderr.write("vaulthalla-web: cannot listen on %s:%d: %s\n" % (host, port, exc))
        return 1

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    sd_notify("READY=1\nSTATUS=listening on %s:%d" % (host, port))
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0

# LAB STAND-IN for the `vh` command line client of Vaulthalla. Reproduces these
# facts from shared/notes/product-facts.md: `vh` talks to the daemon over
# /run/vaulthalla/cli.sock, and with the daemon down every command fails with
# `connect: No such file or directory` (non-zero exit). Everything else (argument
# parsing, output formats, errors) is answered by the daemon, which runs the
# command as user vaulthalla. For the stand-in extension `vh vault put ... --from
# <file|dir|->` the client reads the local files and streams them to the daemon.
"""Thin `vh` client: send argv + cwd to the daemon, print what it answers."""

import json
import os
import socket
import sys

from vhstandin.common import SOCKET_PATH


def _uploads(argv):
    """For `vault put ... --from SRC`: [(relative path, local file or None for stdin)]."""
    if len(argv) < 2 or argv[0] != "vault" or argv[1] != "put":
        return []
    source = None
    for i, arg in enumerate(argv):
        if arg == "--from" and i + 1 < len(argv):
            source = argv[i + 1]
        elif arg.startswith("--from="):
            source = arg.split("=", 1)[1]
    if source is None:
        return []
    if source == "-":
        return [("", None)]
    if os.path.isdir(source):
        found = []
        for root, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                found.append((os.path.relpath(full, source).replace(os.sep, "/"), full))
        return found
    return [("", source)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        uploads = _uploads(argv)
        bodies = []
        for rel, path in uploads:
            if path is None:
                data = sys.stdin.buffer.read()
                bodies.append((rel, len(data), data))
            else:
                bodies.append((rel, os.path.getsize(path), path))
    except OSError as exc:
        sys.stderr.write("vh: %s: %s\n" % (exc.filename, exc.strerror))
        return 1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bounds each wait on the daemon (not the whole command), e.g. while systemd
    # holds a connection for a daemon that keeps failing to start.
    sock.settimeout(float(os.environ.get("VH_TIMEOUT", "120")))
    try:
        sock.connect(SOCKET_PATH)
    except OSError as exc:
        sys.stderr.write("vh: connect: %s\n" % (exc.strerror or exc))
        return 1
    try:
        request = {"argv": argv, "cwd": os.getcwd(),
                   "uploads": [{"path": rel, "size": size} for rel, size, _body in bodies]}
        sock.sendall(json.dumps(request).encode() + b"\n")
        for _rel, size, body in bodies:
            if isinstance(body, bytes):
                sock.sendall(body)
            else:
                with open(body, "rb") as handle:
                    sent = 0
                    while sent < size:
                        chunk = handle.read(min(1 << 20, size - sent))
                        if not chunk:
                            raise OSError("%s shrank while it was being sent" % body)
                        sock.sendall(chunk)
                        sent += len(chunk)
        rfile = sock.makefile("rb")
        line = rfile.readline()
        if not line:
            sys.stderr.write("vh: the daemon closed the connection without an answer\n")
            return 1
        header = json.loads(line)
        remaining = int(header.get("stdout_len", 0))
        out = sys.stdout.buffer
        while remaining > 0:
            chunk = rfile.read(min(1 << 20, remaining))
            if not chunk:
                sys.stderr.write("vh: the daemon's answer was cut short\n")
                return 1
            out.write(chunk)
            remaining -= len(chunk)
        out.flush()
        sys.stderr.write(header.get("stderr", ""))
        return int(header.get("exit", 1))
    except socket.timeout:
        sys.stderr.write("vh: timed out waiting for the daemon on %s\n" % SOCKET_PATH)
        return 1
    except (OSError, ValueError) as exc:
        sys.stderr.write("vh: %s\n" % exc)
        return 1
    finally:
        sock.close()

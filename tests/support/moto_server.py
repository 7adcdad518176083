"""A moto S3 server on 127.0.0.1 for the tests: started once, ready when it answers, stopped at the end.

It runs as its own process (the moto_server of this virtualenv), so module
subprocesses and the tests talk to it over HTTP like to a real endpoint.
"""

import collections
import contextlib
import os
import socket
import subprocess
import sys
import threading
import urllib.request

ACCESS_KEY = "AKIAMOTOTESTS000000"
SECRET_KEY = "moto-test-secret-not-a-real-one"
REGION = "us-east-1"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoServer(object):
    def __init__(self):
        self.process = None
        self.port = None
        self.lines = collections.deque(maxlen=200)
        self._listening = threading.Event()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60.0, attempts=3):
        executable = os.path.join(os.path.dirname(sys.executable), "moto_server")
        for _attempt in range(attempts):
            self.port = free_port()
            self._listening.clear()
            self.process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(self.port)],
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
            # Werkzeug prints "Running on" once its socket listens; the reader also wakes us if the server dies.
            if self._listening.wait(timeout) and self.process.poll() is None and self._answers():
                return self
            self.stop()  # the port was taken in between, or the server died: try another port
        raise RuntimeError("moto_server did not start: %s" % self.output())

    def _drain(self, stream):
        """Keep reading the server's log (a full pipe would block it); note when it listens or exits."""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            if "Running on" in line:
                self._listening.set()
        stream.close()
        self._listening.set()

    def _answers(self):
        try:
            with urllib.request.urlopen(self.url + "/moto-api/", timeout=10):
                return True
        except OSError:
            return False

    def output(self):
        return "\n".join(self.lines)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _post(self, path, data):
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.read()

    def reset(self):
        """Forget every bucket."""
        self._post("/moto-api/reset", b"")

    @contextlib.contextmanager
    def credentials_checked(self):
        """While inside, the server checks credentials against its (empty) IAM: every key is unknown."""
        self._post("/moto-api/reset-auth", b"0")
        try:
            yield
        finally:
            self._post("/moto-api/reset-auth", b"inf")

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        import boto3
        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key, region_name=REGION)

    def module_args(self, **extra):
        """Connection options for the module."""
        args = dict(endpoint_url=self.url, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        args.update(extra)
        return args

"""The Vaulthalla lab host for tests: bring one up with scripts/vaulthalla-lab.sh,
talk to it with podman exec, and tear it down."""

import contextlib
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "vaulthalla-lab.sh")
S3_PY = "/opt/vaulthalla-lab/s3/bin/python"


def podman_problem():
    if not shutil.which("podman"):
        return "podman is not installed"
    try:
        proc = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"], capture_output=True,
                              text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "podman does not answer: %s" % exc
    if proc.returncode != 0:
        return "podman does not work here: %s" % proc.stderr.strip()[-300:]
    return None


PROBLEM = podman_problem()
needs_podman = pytest.mark.skipif(PROBLEM is not None, reason="Vaulthalla lab needs podman: %s" % PROBLEM)


class Lab(object):
    def __init__(self, name, gnupghome, facts):
        self.name = name
        self.gnupghome = gnupghome
        self.facts = facts

    def run(self, *argv, stdin=None, check=True):
        cmd = ["podman", "exec"] + (["-i"] if stdin is not None else []) + [self.name] + list(argv)
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (" ".join(argv), proc.returncode,
                                                         proc.stderr.decode("utf-8", "replace")))
        return proc

    def sh(self, script, check=True):
        return self.run("bash", "-c", script, check=check)

    def vh(self, *args, check=True):
        return self.run("vh", *args, check=check)

    def sql(self, query):
        return self.run("runuser", "-u", "postgres", "--", "psql", "-XAt", "-d", "vaulthalla", "-c",
                        query).stdout.decode().strip()

    def gpg_decrypt(self, armored):
        proc = subprocess.run(["gpg", "--batch", "--quiet", "--decrypt"], input=armored, capture_output=True,
                              env=dict(os.environ, GNUPGHOME=self.gnupghome), timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    def s3_object(self, bucket, key):
        script = ("import sys, boto3; s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:5000', "
                  "region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y'); "
                  "sys.stdout.buffer.write(s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])['Body'].read())")
        return self.run(S3_PY, "-c", script, bucket, key).stdout

    def known(self, storage):
        return [f for f in self.facts["files"] if f["storage"] == storage]


@contextlib.contextmanager
def lab_host(container, gnupghome, podman_args=""):
    """A provisioned lab host; yields (Lab, inventory path)."""
    env = dict(os.environ, VH_LAB_CONTAINER=container, VH_LAB_GNUPGHOME=gnupghome, VH_LAB_PODMAN_ARGS=podman_args)
    if sys.prefix != sys.base_prefix:
        env.setdefault("VENV", sys.prefix)
    try:
        proc = subprocess.run([SCRIPT, "up"], env=env, capture_output=True, text=True, timeout=1200, check=False)
        if proc.returncode != 0:
            pytest.fail("scripts/vaulthalla-lab.sh up failed:\n%s" % proc.stderr[-6000:])
        inventory = proc.stdout.strip().splitlines()[-1]
        with open(os.path.join(os.path.dirname(inventory), "known-files.json")) as handle:
            facts = json.load(handle)
        yield Lab(container, gnupghome, facts), inventory
    finally:
        subprocess.run([SCRIPT, "down", "--purge"], env=env, capture_output=True, timeout=300, check=False)
        subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=gnupghome), capture_output=True,
                       check=False)

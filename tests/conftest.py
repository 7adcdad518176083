"""Shared pytest set-up: import path for the collection, real PostgreSQL, Ansible runner."""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support.collection import REPO, install_import_path  # noqa: E402
from support.pg_cluster import TempCluster  # noqa: E402

COLLECTIONS_ROOT = install_import_path()
# CI: a skip is a failure (tests/support/skip_guard.py)
pytest_plugins = ["support.skip_guard", "support.kube_fixtures"]


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = TempCluster().start()
    yield cluster
    cluster.stop()


class AnsibleRunner(object):
    """Runs a task through ansible-playbook (the real executor, -vvv, a log file)
    and keeps every byte it printed or logged, for the secret-leak assertions."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.transcripts = []

    def start(self, module, args, check_mode=False, name="task", wrapper=()):
        """Start ansible-playbook on one task; finish() collects the result."""
        os.makedirs(self.workdir, exist_ok=True)
        files = {key: os.path.join(self.workdir, "%s.%s" % (name, key)) for key in ("yml", "result.json", "log")}
        play = [{
            "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [
                {"name": "under test", module: args, "register": "r", "ignore_errors": True,
                 "check_mode": check_mode},
                {"name": "save result", "ansible.builtin.copy": {
                    "content": "{{ r | to_nice_json }}", "dest": files["result.json"], "mode": "0600"},
                 "check_mode": False},
            ],
        }]
        with open(files["yml"], "w") as handle:
            json.dump(play, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_LOG_PATH=files["log"],
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        argv = list(wrapper) + [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", files["yml"]]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                cwd=self.workdir)
        proc.files = files
        return proc

    def finish(self, proc):
        output = proc.communicate()[0]
        with open(proc.files["result.json"]) as handle:
            result = json.load(handle)
        with open(proc.files["log"]) as handle:
            log = handle.read()
        self.transcripts.append(output + log + json.dumps(result))
        assert proc.returncode == 0, output
        return result

    def run(self, module, args, check_mode=False, name="task", wrapper=()):
        return self.finish(self.start(module, args, check_mode=check_mode, name=name, wrapper=wrapper))

    def everything_printed(self):
        return "\n".join(self.transcripts)


@pytest.fixture
def ansible(tmp_path):
    return AnsibleRunner(tmp_path / "ansible")


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="module")
def moto():
    """A moto server (S3, Secrets Manager, RDS...) for the test module; support/moto_server.py."""
    from support.moto_server import MotoServer
    server = MotoServer().start()
    yield server
    server.stop()

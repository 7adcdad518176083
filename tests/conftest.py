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

    def run(self, module, args, check_mode=False, name="task"):
        os.makedirs(self.workdir, exist_ok=True)
        playbook = os.path.join(self.workdir, "%s.yml" % name)
        result_file = os.path.join(self.workdir, "%s.result.json" % name)
        log_file = os.path.join(self.workdir, "%s.log" % name)
        play = [{
            "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [
                {"name": "under test", module: args, "register": "r", "ignore_errors": True,
                 "check_mode": check_mode},
                {"name": "save result", "ansible.builtin.copy": {
                    "content": "{{ r | to_nice_json }}", "dest": result_file, "mode": "0600"},
                 "check_mode": False},
            ],
        }]
        with open(playbook, "w") as handle:
            json.dump(play, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_LOG_PATH=log_file,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", playbook],
                              capture_output=True, text=True, env=env, cwd=self.workdir)
        with open(result_file) as handle:
            result = json.load(handle)
        with open(log_file) as handle:
            log = handle.read()
        self.transcripts.append(proc.stdout + proc.stderr + log + json.dumps(result))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return result

    def everything_printed(self):
        return "\n".join(self.transcripts)


@pytest.fixture
def ansible(tmp_path):
    return AnsibleRunner(tmp_path / "ansible")


@pytest.fixture(scope="session")
def repo_root():
    return REPO

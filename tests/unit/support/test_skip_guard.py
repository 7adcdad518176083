"""In CI a skipped test fails the run (tests/support/skip_guard.py), unless it is listed with a reason."""

import os
import subprocess
import sys

from support.collection import REPO

SKIPPING = """
import pytest

def test_needs_a_tool():
    pytest.skip("tool missing")

def test_runs():
    pass
"""


def _pytest(tmp_path, allowed_text=None, fail_on_skip="1"):
    (tmp_path / "test_sample.py").write_text(SKIPPING)
    allowed = tmp_path / "allowed.txt"
    allowed.write_text(allowed_text or "# nothing allowed\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "tests"), VAULTOPS_FAIL_ON_SKIP=fail_on_skip,
               VAULTOPS_ALLOWED_SKIPS=str(allowed))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "support.skip_guard", "-p", "no:cacheprovider",
                           "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
                          env=env, capture_output=True, text=True, check=False, timeout=120)


def test_a_skip_fails_the_session_in_ci(tmp_path):
    done = _pytest(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "1 test(s) skipped, and VAULTOPS_FAIL_ON_SKIP=1 makes a skip a failure" in done.stdout
    assert "test_sample.py::test_needs_a_tool: Skipped: tool missing" in done.stdout


def test_a_listed_skip_with_its_reason_passes(tmp_path):
    done = _pytest(tmp_path, "test_sample.py::test_needs_a_tool  # the tool cannot exist on CI\n")
    assert done.returncode == 0, done.stdout


def test_a_listed_skip_without_reason_is_refused(tmp_path):
    done = _pytest(tmp_path, "test_sample.py::test_needs_a_tool\n")
    assert done.returncode != 0
    assert "an allowed skip needs its reason" in done.stdout + done.stderr


def test_outside_ci_a_skip_is_a_skip(tmp_path):
    assert _pytest(tmp_path, fail_on_skip="0").returncode == 0

"""The repository's shell scripts on a machine that never ran them.

lab/vaulthalla/build-image.sh runs here against a fake `podman` and `pip` on
PATH, in a copy of the recipe, as on a machine whose container storage is
empty: no older image exists, so the old-image clean-up finds nothing. Under
`set -o pipefail` that once ended the script with exit 1 and no message.
"""

import os
import shutil
import stat
import subprocess

import pytest

from support.collection import REPO

FAKE_PODMAN = """#!/bin/bash
# podman as on a machine with empty container storage
echo "podman $*" >> "$FAKE_LOG"
case "$1 $2" in
  "image exists") exit 1 ;;
  "images "*) exit 0 ;;
esac
if [[ "$1" == build && -n "${FAKE_BUILD_FAILS:-}" ]]; then
  echo "Error: building at STEP RUN apt-get: exit status 100" >&2
  exit 125
fi
exit 0
"""

FAKE_PIP = """#!/bin/bash
# pip download: create the destination directory (-d DIR)
while (($#)); do
  if [[ "$1" == -d ]]; then mkdir -p "$2"; fi
  shift
done
"""


def _executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _script_tree(tmp_path, build_script_text=None):
    """A copy of the Vaulthalla lab recipe and the shared shell library."""
    repo = tmp_path / "repo"
    shutil.copytree(os.path.join(REPO, "lab", "vaulthalla"), str(repo / "lab" / "vaulthalla"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(REPO, "scripts", "lib"), str(repo / "scripts" / "lib"))
    if build_script_text is not None:
        (repo / "lab" / "vaulthalla" / "build-image.sh").write_text(build_script_text)
    bin_dir = tmp_path / "bin"
    venv_bin = tmp_path / "venv" / "bin"
    bin_dir.mkdir()
    venv_bin.mkdir(parents=True)
    _executable(bin_dir / "podman", FAKE_PODMAN)
    _executable(venv_bin / "pip", FAKE_PIP)
    return repo, bin_dir


def _build(tmp_path, repo, bin_dir, **extra_env):
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), VENV=str(tmp_path / "venv"),
               VH_LAB_BASE_IMAGE="localhost/vaultops-lab:base", FAKE_LOG=str(tmp_path / "podman.log"),
               **extra_env)
    return subprocess.run(["bash", str(repo / "lab" / "vaulthalla" / "build-image.sh")], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_first_build_on_empty_storage_prints_the_image(tmp_path):
    repo, bin_dir = _script_tree(tmp_path)
    done = _build(tmp_path, repo, bin_dir)
    assert done.returncode == 0, done.stderr
    image = done.stdout.strip()
    assert image.startswith("localhost/vaultops-lab-vaulthalla:") and len(image.split(":")[-1]) == 12
    calls = (tmp_path / "podman.log").read_text()
    assert "podman build" in calls and "podman tag %s localhost/vaultops-lab-vaulthalla:latest" % image in calls


def test_a_failing_step_is_named_with_its_line(tmp_path):
    repo, bin_dir = _script_tree(tmp_path)
    done = _build(tmp_path, repo, bin_dir, FAKE_BUILD_FAILS="1")
    assert done.returncode != 0
    script = (repo / "lab" / "vaulthalla" / "build-image.sh").read_text().splitlines()
    line = next(number for number, text in enumerate(script, 1) if text.startswith("podman build"))
    assert "build-image.sh: line %d: 'podman build" % line in done.stderr, done.stderr
    assert "failed with exit status 125" in done.stderr


def _shell_scripts():
    listed = subprocess.run(["git", "ls-files", "*.sh"], cwd=REPO, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.split() if name != "scripts/lib/err-trap.sh"]


@pytest.mark.parametrize("script", _shell_scripts())
def test_every_script_names_its_failing_step(script):
    """set -e alone exits silently; every script sources the shared ERR trap right after it."""
    text = open(os.path.join(REPO, script)).read()
    assert "set -euo pipefail\n" in text
    after = text.split("set -euo pipefail\n", 1)[1].splitlines()
    assert after[1].startswith("source ") and after[1].endswith('lib/err-trap.sh"'), script


def test_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/setup.sh installs it"
    done = subprocess.run([shellcheck, "-x"] + _shell_scripts() + ["scripts/lib/err-trap.sh"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

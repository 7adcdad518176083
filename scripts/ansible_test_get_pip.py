"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip into
its sanity venvs. Its host (ci-files.testing.ansible.com) is unreachable here,
so this does the same job from the standard library and PyPI: ensurepip gives
the venv a pip, which then installs the exact pip version ansible-test asked for.
"""
import subprocess
import sys

# In a child: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment,
# which would hide the machine's pip configuration (certificates, mirrors).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)

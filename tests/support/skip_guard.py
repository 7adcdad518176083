"""pytest plugin: in CI a skip is a failure.

CI has root and every tool, so a test that skips there is a broken precondition,
not a pass. With VAULTOPS_FAIL_ON_SKIP=1 (.ci/run sets it) every skip fails the
session, except the node ids listed in tests/allowed_skips.txt, each with its reason.
"""

import os

import pytest

ALLOWED_SKIPS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "allowed_skips.txt")


def allowed_skips(path=None):
    """{node id: reason} from lines `<node id>  # <reason>`; a line without a reason is an error."""
    allowed = {}
    path = path or os.environ.get("VAULTOPS_ALLOWED_SKIPS", ALLOWED_SKIPS_FILE)
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            nodeid, _sep, reason = line.partition("#")
            if not reason.strip():
                raise pytest.UsageError("%s line %d: an allowed skip needs its reason after '#'" % (path, number))
            allowed[nodeid.strip()] = reason.strip()
    return allowed


_SKIPPED = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append((report.nodeid, report.longrepr[2] if isinstance(report.longrepr, tuple) else ""))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("VAULTOPS_FAIL_ON_SKIP") != "1" or not _SKIPPED:
        return
    allowed = allowed_skips()
    refused = [(nodeid, why) for nodeid, why in _SKIPPED if nodeid not in allowed]
    if refused:
        writer = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["%d test(s) skipped, and VAULTOPS_FAIL_ON_SKIP=1 makes a skip a failure:" % len(refused)]
        lines += ["  %s: %s" % item for item in refused]
        lines.append("Fix the precondition, or list the node id in tests/allowed_skips.txt with its reason.")
        if writer:
            writer.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

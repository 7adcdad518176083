"""unit_sequence: one query, then each unit in order; module main() through AnsibleModule."""

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process, unit_sequence
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import parse_show
from ansible_collections.vaultops.recovery.plugins.modules import unit_sequence as module

SEED = ["vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket"]
SYSTEMCTL = "/usr/bin/systemctl"
JOURNALCTL = "/usr/bin/journalctl"


class FakeSystemctl(object):
    """Units by name as [LoadState, ActiveState]; records every argv."""

    def __init__(self, active=None, fail=(), stop_stderr=""):
        self.units = dict((name, ["loaded", state]) for name, state in (active or {}).items())
        self.fail = set(fail)
        self.stop_stderr = stop_stderr
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[0] == JOURNALCTL:
            unit = argv[1].split("=", 1)[1]
            return 0, "starting %s\n\nOSError: [Errno 98] Address already in use\n" % unit, ""
        verb, names = argv[1], argv[argv.index("--") + 1:]
        if verb == "show":
            blocks = []
            for name in names:
                load, active = self.units.get(name, ["not-found", "inactive"])
                blocks.append("Id=%s\nLoadState=%s\nActiveState=%s\nSubState=%s\n" % (
                    name, load, active, dict(active="running", failed="failed").get(active, "dead")))
            return 0, "\n".join(blocks), ""
        if verb == "reset-failed":
            return 1, "", "Unit nothing.service not loaded.\n"  # its exit status must not matter
        if names[0] in self.fail:
            return 1, "", "Job for %s failed because the control process exited with error code.\n" % names[0]
        self.units[names[0]][1] = "active" if verb == "start" else "inactive"
        return 0, "", self.stop_stderr if verb == "stop" else ""

    def acted(self):
        return [(argv[1], argv[-1]) for argv in self.calls if argv[1] in ("start", "stop")]


def params(units=None, state="stopped", reset_failed=False, reset_failed_units=None):
    return dict(units=list(SEED if units is None else units), state=state, reset_failed=reset_failed,
                reset_failed_units=reset_failed_units or [])


def found(name, required=False):
    assert name in ("systemctl", "journalctl") and required is False
    return SYSTEMCTL if name == "systemctl" else JOURNALCTL


def run(fake, check_mode=False, **kwargs):
    return unit_sequence.apply(params(**kwargs), found, check_mode, runner=fake)


def test_parse_show_splits_blocks_in_order_including_a_failed_unit():
    text = ("Id=vaulthalla.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\n"
            "Id=vaulthalla-web.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n\n"
            "Id=nope.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n")
    blocks = parse_show(text)
    assert [block["Id"] for block in blocks] == ["vaulthalla.service", "vaulthalla-web.service", "nope.service"]
    assert [block["ActiveState"] for block in blocks] == ["failed", "active", "inactive"]
    assert blocks[2]["LoadState"] == "not-found" and blocks[0]["SubState"] == "failed"


def test_stops_in_the_given_order_with_one_query_before_and_after():
    fake = FakeSystemctl(dict.fromkeys(SEED, "active"))
    result = run(fake)
    assert fake.calls[0] == [SYSTEMCTL, "show", unit_sequence.SHOW_PROPERTIES, "--"] + SEED
    assert fake.calls[1:4] == [[SYSTEMCTL, "stop", "--", name] for name in SEED]
    assert fake.calls[4][1] == "show" and len(fake.calls) == 5
    assert result["changed"] is True and result["changed_units"] == SEED and result["reset_failed"] == []
    assert result["units"][0] == dict(name="vaulthalla.service", before="active", after="inactive", changed=True)
    assert result["warnings"] == []


def test_units_already_in_the_state_are_skipped_and_a_second_run_changes_nothing():
    fake = FakeSystemctl({"vaulthalla.service": "failed", "vaulthalla-web.service": "active",
                          "vaulthalla-cli.socket": "inactive"})
    first = run(fake)
    assert fake.acted() == [("stop", "vaulthalla-web.service")]
    assert [unit["changed"] for unit in first["units"]] == [False, True, False]
    assert first["units"][0]["after"] == "failed"  # failed counts as stopped and is left alone
    fake.calls = []
    second = run(fake)
    assert second["changed"] is False and second["changed_units"] == []
    assert [argv[1] for argv in fake.calls] == ["show"]


def test_failure_midway_stops_there_and_names_the_units_left_changed():
    fake = FakeSystemctl(dict.fromkeys(SEED, "inactive"), fail=["vaulthalla-web.service"])
    with pytest.raises(RecoveryError) as caught:
        run(fake, units=list(reversed(SEED)), state="started")
    error = caught.value
    assert fake.acted() == [("start", "vaulthalla-cli.socket"), ("start", "vaulthalla-web.service")]
    assert "systemctl start vaulthalla-web.service failed: Job for vaulthalla-web.service failed" in error.message
    assert "Already started and left so: vaulthalla-cli.socket." in error.message
    # the unit's own last journal lines say why, so the operator need not go and look
    assert error.message.endswith("Its journal ends: starting vaulthalla-web.service | OSError: [Errno 98] Address"
                                  " already in use")
    assert fake.calls[-1] == [JOURNALCTL, "--unit=vaulthalla-web.service", "--lines=12", "--no-pager",
                              "--output=cat", "--quiet"]
    assert error.fix == ("see systemctl status vaulthalla-web.service and journalctl -u vaulthalla-web.service.")
    assert error.facts == dict(changed=True, changed_units=["vaulthalla-cli.socket"], reset_failed=[],
                               journal_tail=["starting vaulthalla-web.service",
                                             "OSError: [Errno 98] Address already in use"])
    assert fake.units["vaulthalla.service"][1] == "inactive"


def test_failure_on_the_first_unit_says_nothing_was_changed():
    fake = FakeSystemctl(dict.fromkeys(SEED, "active"), fail=["vaulthalla.service"])
    with pytest.raises(RecoveryError) as caught:
        run(fake)
    assert " code. Nothing was changed. Its journal ends: starting vaulthalla.service | OSError" in caught.value.message
    assert caught.value.facts["changed"] is False


def no_journalctl(name, required=False):
    return SYSTEMCTL if name == "systemctl" else None


def test_failure_without_a_readable_journal_still_names_the_fix():
    fake = FakeSystemctl(dict.fromkeys(SEED, "inactive"), fail=["vaulthalla.service"])
    with pytest.raises(RecoveryError) as caught:
        unit_sequence.apply(params(state="started"), no_journalctl, False, runner=fake)
    assert caught.value.message.endswith("Nothing was changed.")
    assert caught.value.facts["journal_tail"] == [] and all(argv[0] == SYSTEMCTL for argv in fake.calls)


def test_an_unknown_unit_is_refused_before_anything_changes():
    fake = FakeSystemctl({"vaulthalla.service": "active", "vaulthalla-cli.socket": "active"})
    with pytest.raises(RecoveryError) as caught:
        run(fake, units=SEED + ["vaulthala.service"])
    assert "systemd knows no unit vaulthalla-web.service, vaulthala.service; nothing was changed" in str(caught.value)
    assert "list-unit-files 'vaulthalla-web.service'" in caught.value.fix
    assert [argv[1] for argv in fake.calls] == ["show"]


def test_a_masked_unit_is_refused_before_a_start():
    fake = FakeSystemctl(dict.fromkeys(SEED, "inactive"))
    fake.units["vaulthalla-web.service"][0] = "masked"
    with pytest.raises(RecoveryError) as caught:
        run(fake, state="started")
    assert "vaulthalla-web.service (LoadState masked)" in caught.value.message and "unmask" in caught.value.fix
    assert fake.acted() == []


def test_check_mode_reports_the_order_and_changes_nothing():
    fake = FakeSystemctl({"vaulthalla.service": "failed", "vaulthalla-web.service": "inactive",
                          "vaulthalla-cli.socket": "active"})
    result = run(fake, check_mode=True, units=list(reversed(SEED)), state="started", reset_failed=True)
    assert [argv[1] for argv in fake.calls] == ["show"]
    assert result["changed"] is True
    assert result["changed_units"] == ["vaulthalla-web.service", "vaulthalla.service"]
    assert result["reset_failed"] == list(reversed(SEED))
    assert [(unit["before"], unit["after"]) for unit in result["units"]] == [
        ("active", "active"), ("inactive", "active"), ("failed", "active")]


def test_reset_failed_runs_once_first_on_units_and_extras_and_its_exit_status_is_ignored():
    fake = FakeSystemctl({"vaulthalla.service": "failed"})
    result = run(fake, units=["vaulthalla.service"], state="started", reset_failed=True,
                 reset_failed_units=["vaulthalla-swtpm.service", "vaulthalla.service"])
    assert fake.calls[1] == [SYSTEMCTL, "reset-failed", "--", "vaulthalla.service", "vaulthalla-swtpm.service"]
    assert fake.acted() == [("start", "vaulthalla.service")]
    assert result["reset_failed"] == ["vaulthalla.service", "vaulthalla-swtpm.service"]
    assert result["units"] == [dict(name="vaulthalla.service", before="failed", after="active", changed=True)]


@pytest.mark.parametrize("kwargs, words", [
    (dict(units=[]), "units is empty"),
    (dict(units=["vaulthalla.service", ""]), "units: '' is not a unit name"),
    (dict(units=["--now", "vaulthalla"]), "units: '--now', 'vaulthalla' are not unit names"),
    (dict(units=["vaulthalla*.service"]), "not a unit name"),
    (dict(units=["vaulthalla.service\n"]), "not a unit name"),
    (dict(units=["a.socket", "a.socket"]), "a.socket listed more than once"),
    (dict(state="stopped", reset_failed=True), "reset_failed applies to state=started only"),
    (dict(state="started", reset_failed_units=["vaulthalla-swtpm.service"]), "reset_failed is false"),
    (dict(state="started", reset_failed=True, reset_failed_units=["-x.service"]), "reset_failed_units: '-x"),
])
def test_bad_input_is_refused_without_calling_systemctl(kwargs, words):
    fake = FakeSystemctl()
    with pytest.raises(RecoveryError) as caught:
        run(fake, **kwargs)
    assert words in caught.value.message and caught.value.fix
    assert fake.calls == []


def test_missing_systemctl_is_an_error_even_in_check_mode():
    with pytest.raises(RecoveryError) as caught:
        unit_sequence.apply(params(), lambda name, required=False: None, True, runner=FakeSystemctl())
    assert "systemctl was not found" in caught.value.message


def test_show_that_fails_or_answers_short_is_an_error():
    with pytest.raises(RecoveryError) as caught:
        run(lambda argv: (1, "", "Failed to connect to bus: Host is down\n"))
    assert "cannot ask systemd about vaulthalla.service" in caught.value.message and "Host is down" in str(caught.value)
    with pytest.raises(RecoveryError) as caught:
        run(lambda argv: (0, "Id=vaulthalla.service\nLoadState=loaded\nActiveState=active\n", ""))
    assert "states of 1 units in its answer for 3" in caught.value.message


def test_crash_after_start_and_systemctl_stderr_are_warnings():
    fake = FakeSystemctl({"vaulthalla.service": "active", "vaulthalla-cli.socket": "active"},
                         stop_stderr="Stopping 'vaulthalla.service', but its triggering units are still active:\n"
                                     "vaulthalla-cli.socket\n")
    result = run(fake, units=["vaulthalla.service"])
    assert result["warnings"] == ["systemctl stop vaulthalla.service: Stopping 'vaulthalla.service', but its"
                                  " triggering units are still active:\nvaulthalla-cli.socket"]
    crashing = FakeSystemctl({"vaulthalla.service": "inactive"})
    real_call = crashing.__call__

    def crash_on_start(argv):
        answer = real_call(argv)
        if argv[1] == "start":
            crashing.units["vaulthalla.service"][1] = "failed"
        return answer
    result = run(crash_on_start, units=["vaulthalla.service"], state="started")
    assert result["units"][0]["after"] == "failed"
    assert result["warnings"] == ["vaulthalla.service is failed (failed) right after it was started: see systemctl"
                                  " status vaulthalla.service and journalctl -u vaulthalla.service."]


def run_main(monkeypatch, capsys, fake, args, check_mode=False):
    monkeypatch.setattr(process, "run", fake)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: found(name))
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            module.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_main_stops_the_seed_and_returns_the_documented_keys(monkeypatch, capsys):
    fake = FakeSystemctl(dict.fromkeys(SEED, "active"))
    code, result = run_main(monkeypatch, capsys, fake, dict(units=SEED, state="stopped"))
    assert code == 0 and result["changed"] is True
    assert set(result) >= {"changed", "units", "changed_units", "reset_failed"} and "warnings" not in result
    assert result["changed_units"] == SEED and fake.acted() == [("stop", name) for name in SEED]


def test_main_in_check_mode_and_on_failure(monkeypatch, capsys):
    fake = FakeSystemctl(dict.fromkeys(SEED, "inactive"), fail=["vaulthalla.service"])
    code, result = run_main(monkeypatch, capsys, fake, dict(units=SEED, state="started"), check_mode=True)
    assert code == 0 and result["changed_units"] == SEED and fake.acted() == []
    code, result = run_main(monkeypatch, capsys, fake, dict(units=SEED, state="started"))
    assert code == 1 and result["failed"] is True and result["changed_units"] == []
    assert result["msg"].startswith("systemctl start vaulthalla.service failed: Job for vaulthalla.service")
    assert result["msg"].endswith("Fix: see systemctl status vaulthalla.service and journalctl -u vaulthalla.service.")

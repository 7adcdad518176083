from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import ServiceWindow
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm.tpm_shutdown import orderly_shutdown


def test_orderly_shutdown_runs_tpm2_shutdown_with_the_tcti():
    calls = []

    def runner(argv, env=None):
        calls.append((argv, env["TPM2TOOLS_TCTI"]))
        return 0, "", ""
    assert orderly_shutdown("swtpm:port=2421", lambda name: "/usr/bin/" + name, runner) is None
    assert calls == [(["/usr/bin/tpm2_shutdown"], "swtpm:port=2421")]


def test_orderly_shutdown_reports_missing_tools_and_failures_as_warnings():
    assert "lockout" in orderly_shutdown("swtpm:", lambda name: None)
    failed = orderly_shutdown("swtpm:", lambda name: name, lambda argv, env=None: (1, "", "connection refused"))
    assert "connection refused" in failed


def test_service_window_shuts_the_tpm_down_before_stopping_the_unit():
    events = []

    def systemctl(argv):
        events.append(argv[1])
        if argv[1] == "show":
            return 0, "LoadState=loaded\nActiveState=active\n", ""
        return 0, "", ""

    window = ServiceWindow("vaulthalla-swtpm.service", False, lambda: "systemctl", runner=systemctl,
                           before_stop=lambda: events.append("tpm2_shutdown") or "a warning")
    window.query()
    assert window.stop() is True
    assert events == ["show", "tpm2_shutdown", "stop"]
    assert window.warnings == ["a warning"]

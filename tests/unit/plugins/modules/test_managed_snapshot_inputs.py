"""Names, times, options and connection settings of managed_snapshot: every bad input gives one clear message."""

import datetime

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import snapshot_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.modules import managed_snapshot

NOW = datetime.datetime(2026, 11, 21, 10, 15, 2, tzinfo=datetime.timezone.utc)


def test_names_from_the_pattern_and_their_rules():
    assert snapshot_naming.render("{instance}-{purpose}-%Y%m%d-%H%M%S", "name_pattern", NOW, instance="iv-db",
                                  purpose="pre-upgrade") == "iv-db-pre-upgrade-20261121-101502"
    for bad in ("9db", "a--b", "a-", "a_b", "x" * 64, "ü"):
        with pytest.raises(RecoveryError, match="not a valid snapshot or instance name"):
            snapshot_naming.check(bad, "snapshot_name")
    with pytest.raises(RecoveryError, match="name_pattern .* cannot be filled in") as caught:
        snapshot_naming.render("{db}-%Y", "name_pattern", NOW, instance="i", purpose="p")
    assert "{instance}, {purpose}" in caught.value.fix


def test_times_are_iso_utc_both_ways():
    assert snapshot_naming.iso(NOW) == "2026-11-21T10:15:02Z"
    assert snapshot_naming.parse_time("2026-11-21T11:15:02+01:00", "restore_time") == NOW
    assert snapshot_naming.parse_time("2026-11-21T10:15:02Z", "restore_time") == NOW
    assert snapshot_naming.parse_time("2026-11-21 10:15:02", "restore_time") == NOW
    with pytest.raises(RecoveryError, match="restore_time 'yesterday' is not an ISO 8601 time"):
        snapshot_naming.parse_time("yesterday", "restore_time")


def test_module_options_secrets_are_no_log_and_combinations_are_checked():
    spec = managed_snapshot.argument_spec()
    assert spec["secret"]["no_log"] and spec["secret_key"]["no_log"] and spec["session_token"]["no_log"]
    base = dict((name, options.get("default")) for name, options in spec.items())
    assert managed_snapshot.check_params(dict(base, provider="aws")) is None
    assert "wait_timeout" in managed_snapshot.check_params(dict(base, provider="aws", wait_timeout=0))
    azure_with_rds_options = dict(base, provider="azure", restore_options={"MultiAZ": True})
    assert "provider=aws only" in managed_snapshot.check_params(azure_with_rds_options)

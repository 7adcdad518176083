"""What db_info_secret may write as DB_HOST, DB_PORT and DB_NAME: one rule per test."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_target import (
    check_connection, db_name_problem, host_problem, port_problem)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


@pytest.mark.parametrize("host", [
    "db.example.internal", "iv-prod.abcdefghijkl.eu-west-1.rds.amazonaws.com", "localhost", "db.example.internal.",
    "a", "x" * 63 + ".example", "1st-db.example", "10.0.0.5", "::1", "fd00::5", "fe80::1%eth0",
    ".".join(["a" * 63] * 3) + "." + "b" * 61])
def test_host_names_and_ip_addresses_are_accepted(host):
    assert host_problem(host) is None


@pytest.mark.parametrize("host,reason", [
    ("db host", "is not a host name"), ("db\"q.internal", "is not a host name"), ("db'q", "is not a host name"),
    ("db.internal\n", "is not a host name"), ("db\x00", "is not a host name"), ("-db.internal", "is not a host name"),
    ("db-.internal", "is not a host name"), ("db..internal", "is not a host name"), ("x" * 64, "is not a host name"),
    ("db_1.internal", "is not a host name"), ("", "is empty"), (".", "is empty"),
    ("ü.example", "is not a host name"), ("db:5432", "is not a host name"),
    (".".join(["a" * 63] * 4), "a host name has at most 253"),
    ("999.1.1.1", "looks like an IPv4 address"), ("10.0.0", "looks like an IPv4 address"),
    ("[fd00::5]", "write it bare (fd00::5)"), ("[db.internal]", "is not a host name")])
def test_bad_hosts_are_named_with_the_reason(host, reason):
    assert reason in host_problem(host)


@pytest.mark.parametrize("port", [1, 5432, 65535])
def test_ports_in_range_are_accepted(port):
    assert port_problem(port) is None


@pytest.mark.parametrize("port", [0, -5, 65536, 99999, True, "5432", 5432.0])
def test_ports_outside_the_range_or_not_integers_are_refused(port):
    assert "is not a TCP port (1 to 65535)" in port_problem(port)


@pytest.mark.parametrize("name", ["wallet", "wallet restored", "été ✓", "x" * 63, "quote'\"name"])
def test_database_names_postgresql_takes_are_accepted(name):
    assert db_name_problem(name) is None


@pytest.mark.parametrize("name,reason", [
    ("wallet\n", "control character"), ("wal\x00let", "control character"), ("wal\tlet", "control character"),
    ("", "is empty"), ("x" * 64, "is 64 bytes"), ("é" * 32, "is 64 bytes")])
def test_database_names_postgresql_would_refuse_or_cut_are_refused(name, reason):
    assert reason in db_name_problem(name)


def test_unset_port_and_name_are_not_checked():
    check_connection("db.internal")
    check_connection("10.0.0.5", 5432, "wallet")


def test_one_error_names_every_bad_option_and_its_fix():
    with pytest.raises(RecoveryError) as caught:
        check_connection("db host", 99999, "wallet\n")
    message, fix = caught.value.message, caught.value.fix
    assert message.startswith("db_host 'db host' is not a host name") and "db_port 99999" in message
    assert "db_name 'wallet\\n'" in message and message.endswith("No secret was read or written.")
    assert "pass as db_host a DNS host name" in fix and "db_port a port from 1 to 65535" in fix
    assert "db_name the database's name" in fix


def test_a_good_host_with_a_bad_port_names_only_the_port():
    with pytest.raises(RecoveryError) as caught:
        check_connection("db.internal", -5)
    assert caught.value.message == "db_port -5 is not a TCP port (1 to 65535). No secret was read or written."

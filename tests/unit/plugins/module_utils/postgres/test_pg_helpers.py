import datetime
import hashlib
import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import parse_version
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_archive import (
    check_checksums, check_restore_tool, load_manifest, tree_digest)
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import (
    PgConnection, conninfo_dbname, pgpass_escape, postgres_connection_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_dumper import DumpRequest, archive_name
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_restorer import RestoreRequest, pgoptions

MOMENT = datetime.datetime(2026, 11, 21, 10, 15, 0, tzinfo=datetime.timezone.utc)


def params(**extra):
    spec = postgres_connection_argument_spec()
    values = {name: option.get("default") for name, option in spec.items()}
    values.update(extra)
    return values


def test_archive_name_follows_seed_pattern_and_escapes_prefix():
    assert archive_name(None, "wallet", "custom", "gzip", MOMENT) == "wallet-backup-20261121-101500.dump"
    assert archive_name(None, "100% db", "custom", "zstd", MOMENT) == "100% db-backup-20261121-101500.dump.zst"
    assert archive_name(None, "w", "directory", "gzip", MOMENT) == "w-backup-20261121-101500.dir"
    with pytest.raises(RecoveryError, match="not a file name"):
        archive_name("../{prefix}", "x", "custom", "gzip", MOMENT)


def test_invalid_option_combinations_are_refused_with_fix():
    with pytest.raises(RecoveryError, match="custom only"):
        DumpRequest("db", "/tmp", fmt="directory", compressor="zstd")
    with pytest.raises(RecoveryError, match="directory format"):
        DumpRequest("db", "/tmp", jobs=2)
    with pytest.raises(RecoveryError, match="single_transaction"):
        RestoreRequest("/tmp/x", jobs=2, single_transaction=True)


def test_quoting_of_names_and_passwords():
    assert conninfo_dbname("it's a \\ db") == "dbname='it\\'s a \\\\ db'"
    assert pgpass_escape("p:w\\d") == "p\\:w\\\\d"
    assert pgoptions({"maintenance_work_mem": "512MB", "search_path": "a b"}) == \
        "-c maintenance_work_mem=512MB -c search_path=a\\ b"
    with pytest.raises(RecoveryError, match="invalid setting name"):
        pgoptions({"x; DROP": "1"})


def test_password_lives_only_in_a_private_passfile(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "stray-controller-value")
    conn = PgConnection(params(login_host="db", login_password="pa:ss"), lambda name: name)
    with conn:
        env = conn.env("vault db")
        assert "PGPASSWORD" not in env
        assert "pa:ss" not in json.dumps(env)
        with open(env["PGPASSFILE"]) as handle:
            assert handle.read() == "*:*:*:*:pa\\:ss\n"
        import os
        assert oct(os.stat(env["PGPASSFILE"]).st_mode & 0o777) == "0o600"
        assert env["PGDATABASE"] == "vault db"
        passfile = env["PGPASSFILE"]
    assert not os.path.exists(passfile)


@pytest.mark.parametrize("stderr, expected", [
    ('FATAL:  password authentication failed for user "postgres"', "check login_password"),
    ("connection to server at \"10.0.0.1\", port 5432 failed: Connection refused", "cannot reach PostgreSQL"),
    ('FATAL:  database "nope" does not exist', "create_database: true"),
    ("could not translate host name \"dbx\" to address", "does not resolve"),
    ('FATAL:  Peer authentication failed for user "postgres"', "os_user: postgres"),
])
def test_errors_are_classified_with_a_fix(stderr, expected):
    error = PgConnection(params(login_host="db"), lambda name: name).classify(stderr, "nope")
    assert expected in str(error)
    assert "Fix:" in str(error) or "check" in str(error)


def test_parse_version():
    assert parse_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == (15, 18)
    assert parse_version("pg_restore (PostgreSQL) 16.2") == (16, 2)


class FakeTools(object):
    def __init__(self, version):
        self._version = version

    def version(self, name):
        return self._version


def test_newer_archive_is_refused_naming_the_client_to_install():
    with pytest.raises(RecoveryError) as info:
        check_restore_tool({"pg_dump_version": "pg_dump (PostgreSQL) 17.1"}, FakeTools((15, 18)))
    assert "postgresql-client-17" in str(info.value)
    check_restore_tool({"pg_dump_version": "pg_dump (PostgreSQL) 15.3"}, FakeTools((16, 1)))


def manifest_for(path, data):
    manifest = {"manifest_version": 1, "format": "custom", "compressor": "gzip", "database": "d",
                "pg_dump_version": "pg_dump (PostgreSQL) 15.1", "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "object_count": 1}
    with open(path + ".manifest.json", "w") as handle:
        json.dump(manifest, handle)
    return manifest


def test_checksums_catch_truncation_and_flipped_bytes(tmp_path):
    path = str(tmp_path / "x.dump")
    data = b"PGDMP" + bytes(range(256)) * 10
    with open(path, "wb") as handle:
        handle.write(data)
    manifest_for(path, data)
    manifest = load_manifest(path, None)[0]
    assert check_checksums(path, manifest)[0] == manifest["sha256"]
    with open(path, "r+b") as handle:
        handle.seek(100)
        handle.write(bytes([data[100] ^ 0x01]))
    with pytest.raises(RecoveryError, match="fails its checksum"):
        check_checksums(path, manifest)
    with open(path, "r+b") as handle:
        handle.truncate(50)
    with pytest.raises(RecoveryError, match="truncated"):
        check_checksums(path, manifest)


def test_missing_or_broken_manifest(tmp_path):
    path = str(tmp_path / "y.dump")
    open(path, "wb").close()
    with pytest.raises(RecoveryError, match="has no manifest"):
        load_manifest(path)
    with open(path + ".manifest.json", "w") as handle:
        handle.write("{not json")
    with pytest.raises(RecoveryError, match="not valid JSON"):
        load_manifest(path)
    with open(path + ".manifest.json", "w") as handle:
        json.dump({"manifest_version": 1}, handle)
    with pytest.raises(RecoveryError, match="lacks"):
        load_manifest(path)


def test_tree_digest_depends_on_every_file():
    files = {"a": {"sha256": "1" * 64, "size": 1}, "b": {"sha256": "2" * 64, "size": 2}}
    changed = dict(files, b={"sha256": "3" * 64, "size": 2})
    assert tree_digest(files) != tree_digest(changed)
    assert tree_digest(files) == tree_digest(dict(reversed(list(files.items()))))

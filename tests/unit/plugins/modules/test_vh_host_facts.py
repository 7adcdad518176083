"""vh_host_facts: the host facts of a Vaulthalla backup/restore in one task, with fake systemctl/dpkg-query/psql."""

import hashlib
import json
import os
import pwd

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_connection

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_host_probe
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.modules import vh_host_facts

MACHINE_ID = "0123456789abcdef0123456789abcdef"
DPKG_LINE = "vaulthalla\t1:1.1.0-2\tVaulthalla Maintainers <pkg@vaulthalla.example>\tinstall ok installed\n"
ME = pwd.getpwuid(os.geteuid()).pw_name


class FakeRunner(object):
    """Answers each program by its basename; records every argv (and stdin) it was given."""

    def __init__(self, **answers):
        self.answers = dict({"systemctl": (0, "not-found\n", ""), "dpkg-query": (1, "", "no packages found")},
                            **answers)
        self.calls = []

    def __call__(self, argv, env=None, run_as=None, stdin_bytes=None, cwd=None, pass_fds=()):
        self.calls.append(dict(argv=argv, env=env, run_as=run_as, stdin=stdin_bytes))
        return self.answers[os.path.basename(argv[0])]

    def argv_of(self, program):
        return [call["argv"] for call in self.calls if os.path.basename(call["argv"][0]) == program]


def find_all(name):
    return "/usr/bin/" + name


def find_none(_name):
    return None


@pytest.fixture
def host(tmp_path):
    """A host tree: a machine-id, no TPM device, no swtpm state, and the module's default options pointed at it."""
    (tmp_path / "machine-id").write_text(MACHINE_ID + "\n")
    spec = vh_host_facts.argument_spec()
    params = dict((name, option["default"]) for name, option in spec.items())
    params.update(machine_id_path=str(tmp_path / "machine-id"),
                  tpm_devices=[str(tmp_path / "tpmrm0"), str(tmp_path / "tpm0")],
                  swtpm_state_dir=str(tmp_path / "swtpm"), db_os_user=ME)
    return params


def test_machine_id_digest_is_sha256_of_the_trimmed_text(tmp_path):
    path = tmp_path / "machine-id"
    path.write_text("  %s\n\n" % MACHINE_ID)
    assert vh_host_probe.machine_id_sha256(str(path)) == hashlib.sha256(MACHINE_ID.encode()).hexdigest()


@pytest.mark.parametrize("content, expected", [
    (None, "systemd-machine-id-setup"),
    ("uninitialized\n", "uninitialized"),
    ("not-a-machine-id\n", "32 lowercase hexadecimal digits"),
])
def test_unreadable_or_invalid_machine_id_fails_with_the_fix_and_runs_nothing(host, tmp_path, content, expected):
    path = tmp_path / "machine-id"
    path.unlink()
    if content is not None:
        path.write_text(content)
    runner = FakeRunner()
    with pytest.raises(RecoveryError, match=expected) as caught:
        vh_host_probe.collect(host, find_all, runner)
    assert caught.value.fix and "systemd-machine-id-setup" in caught.value.fix
    assert runner.calls == []


@pytest.mark.parametrize("version, release", [
    ("1:1.1.0-2", "1.1.0"),
    ("1.1.0-1vaultopslab1", "1.1.0"),
    ("1.1.0", "1.1.0"),
    ("2:10.20.3~rc1-0+deb12u1", "10.20.3"),
    ("1.1", "1.1"),
    ("7", "7"),
    ("git20260101-1", "git20260101-1"),
])
def test_release_in_a_debian_version(version, release):
    assert vh_host_probe.debian_release(version) == release


@pytest.mark.parametrize("devices, state_dir_is_dir, unit_loaded, mode", [
    (["/dev/tpmrm0"], True, True, "hardware"),
    (["/dev/tpm0"], False, False, "hardware"),
    ([], True, False, "swtpm"),
    ([], False, True, "swtpm"),
    ([], False, False, "none"),
])
def test_tpm_mode_decision(devices, state_dir_is_dir, unit_loaded, mode):
    assert vh_host_probe.tpm_mode(devices, state_dir_is_dir, unit_loaded) == mode


def test_tpm_devices_and_swtpm_state_are_read_from_the_host(host, tmp_path):
    (tmp_path / "tpm0").write_text("")
    nested = tmp_path / "swtpm" / "sub"
    nested.mkdir(parents=True)
    (tmp_path / "swtpm" / "tpm2-00.permall").write_bytes(b"seed")
    (nested / "lock").write_text("")
    os.symlink(str(tmp_path / "machine-id"), str(tmp_path / "swtpm" / "link"))  # not a regular file of the state
    runner = FakeRunner(systemctl=(0, "loaded\n", ""))
    facts = vh_host_probe.collect(host, find_all, runner)
    assert facts["tpm_devices_present"] == [str(tmp_path / "tpm0")]
    assert facts["tpm_mode"] == "hardware"
    assert facts["swtpm_unit_loaded"] is True
    assert facts["swtpm_state_files"] == 1  # the empty lock file is no state (as for swtpm_archive)
    assert runner.argv_of("systemctl") == [
        ["/usr/bin/systemctl", "show", "--property=LoadState", "--value", "--", "vaulthalla-swtpm.service"]]


def test_swtpm_mode_from_the_state_dir_alone_and_none_without_it(host, tmp_path):
    assert vh_host_probe.collect(host, find_none, FakeRunner())["tpm_mode"] == "none"
    (tmp_path / "swtpm").mkdir()
    facts = vh_host_probe.collect(host, find_none, FakeRunner())
    assert (facts["tpm_mode"], facts["swtpm_unit_loaded"], facts["swtpm_state_files"]) == ("swtpm", False, 0)


@pytest.mark.parametrize("service, answer, loaded", [
    ("vaulthalla-swtpm.service", (0, "loaded\n", ""), True),
    ("vaulthalla-swtpm.service", (0, "masked\n", ""), False),
    ("vaulthalla-swtpm.service", (1, "", "System has not been booted with systemd"), False),
    ("", (0, "loaded\n", ""), False),
])
def test_swtpm_unit_load_state(service, answer, loaded):
    runner = FakeRunner(systemctl=answer)
    assert vh_host_probe.unit_loaded(service, find_all, runner) is loaded
    assert len(runner.calls) == (1 if service else 0)


def test_package_is_read_with_one_dpkg_query_call(host):
    runner = FakeRunner(**{"dpkg-query": (0, DPKG_LINE, "")})
    facts = vh_host_probe.collect(host, find_all, runner)
    assert facts["package_installed"] is True
    assert facts["package_version"] == "1:1.1.0-2"
    assert facts["package_release"] == "1.1.0"
    assert facts["package_source"] == "vaulthalla 1:1.1.0-2 Vaulthalla Maintainers <pkg@vaulthalla.example>"
    assert runner.argv_of("dpkg-query") == [
        ["/usr/bin/dpkg-query", "-W", "-f=${Package}\t${Version}\t${Maintainer}\t${Status}\n", "vaulthalla"]]


NOT_INSTALLED = dict(package_installed=False, package_version="", package_release="not installed",
                     package_source="not installed from a Debian package")


@pytest.mark.parametrize("find, answer", [
    (find_none, None),
    (find_all, (1, "", "dpkg-query: no packages found matching vaulthalla\n")),
    (find_all, (0, "vaulthalla\t1.1.0-1\tM <m@x>\tdeinstall ok config-files\n", "")),
])
def test_package_not_installed(find, answer):
    runner = FakeRunner(**{"dpkg-query": answer})
    assert vh_host_probe.package_facts("vaulthalla", find, runner) == NOT_INSTALLED


def test_package_database_error_and_bad_package_name_fail_with_a_fix():
    with pytest.raises(RecoveryError, match="dpkg-query could not read the package database: locked"):
        vh_host_probe.package_facts("vaulthalla", find_all, FakeRunner(**{"dpkg-query": (2, "", "locked")}))
    with pytest.raises(RecoveryError, match="not a Debian package name") as caught:
        vh_host_probe.check_package_name("-vaulthalla")
    assert "set package" in caught.value.fix
    vh_host_probe.check_package_name("vaulthalla:amd64")


def test_paths_and_checksums(host, tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "manifest.json").write_bytes(b'{"set": 1}\n')
    os.symlink(str(tmp_path / "dir"), str(tmp_path / "dirlink"))
    os.symlink(str(tmp_path / "gone"), str(tmp_path / "dangling"))
    host.update(paths=[str(tmp_path / name) for name in ("dir", "manifest.json", "missing", "dirlink", "dangling")],
                checksum_files=[str(tmp_path / name) for name in ("manifest.json", "missing", "dir")])
    facts = vh_host_probe.collect(host, find_none, FakeRunner())
    assert facts["paths"] == {
        str(tmp_path / "dir"): {"exists": True, "isdir": True},
        str(tmp_path / "manifest.json"): {"exists": True, "isdir": False},
        str(tmp_path / "missing"): {"exists": False, "isdir": False},
        str(tmp_path / "dirlink"): {"exists": True, "isdir": False},
        str(tmp_path / "dangling"): {"exists": True, "isdir": False},
    }
    assert facts["checksums"] == {
        str(tmp_path / "manifest.json"): hashlib.sha256(b'{"set": 1}\n').hexdigest(),
        str(tmp_path / "missing"): None,
        str(tmp_path / "dir"): None,
    }


def test_unreadable_checksum_file_fails_instead_of_reporting_it_missing(tmp_path, monkeypatch):
    target = tmp_path / "manifest.json"
    target.write_text("{}")

    def denied(_path):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(vh_host_probe, "sha256_file", denied)
    with pytest.raises(RecoveryError, match="cannot read checksum file .*Permission denied") as caught:
        vh_host_probe.checksums([str(target)])
    assert "become" in caught.value.fix


def test_unreadable_swtpm_state_fails_instead_of_counting_zero(tmp_path, monkeypatch):
    (tmp_path / "swtpm").mkdir()

    def denied(root):
        yield from ()  # a generator, like state_tree.walk
        raise PermissionError(13, "Permission denied", root)  # as walk's scandir does without access (root ignores modes)
    monkeypatch.setattr(vh_host_probe, "walk", denied)
    with pytest.raises(RecoveryError, match="cannot read swtpm state %s .Permission denied" % (tmp_path / "swtpm")):
        vh_host_probe.count_state_files(str(tmp_path / "swtpm"))


class FakePsql(FakeRunner):
    def __init__(self, answer):
        super(FakePsql, self).__init__(psql=answer)


def test_database_exists_true_and_false_with_the_name_only_as_a_psql_variable(host, monkeypatch):
    name = "vault'; DROP DATABASE postgres; --"
    for answer, expected in (((0, "1\n", ""), True), ((0, "0\n", ""), False)):
        psql = FakePsql(answer)
        monkeypatch.setattr(pg_connection, "run", psql)
        facts = vh_host_probe.collect(dict(host, database=name), find_all, FakeRunner())
        assert facts["database_exists"] is expected
        call, = psql.calls
        assert call["argv"][call["argv"].index("name=" + name) - 1] == "-v"
        assert call["argv"][0] == "/usr/bin/psql" and "-X" in call["argv"]
        assert name not in call["stdin"].decode() and ":'name'" in call["stdin"].decode()
        assert call["env"]["PGDATABASE"] == "postgres" and "PGHOST" not in call["env"]
        assert call["run_as"] is None  # the task already runs as db_os_user


def test_database_not_given_is_null_and_runs_no_psql(host, monkeypatch):
    psql = FakePsql((0, "1\n", ""))
    monkeypatch.setattr(pg_connection, "run", psql)
    assert vh_host_probe.collect(host, find_all, FakeRunner())["database_exists"] is None
    assert psql.calls == []


def test_database_query_runs_as_db_os_user_when_root(host, monkeypatch):
    other = next(entry.pw_name for entry in pwd.getpwall() if entry.pw_name != ME)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "chown", lambda *args: None)
    psql = FakePsql((0, "1\n", ""))
    monkeypatch.setattr(pg_connection, "run", psql)
    assert vh_host_probe.database_exists("vaulthalla", other, find_all) is True
    assert psql.calls[0]["run_as"].name == other


@pytest.mark.parametrize("stderr, message", [
    ('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or'
     ' directory\n', "cannot reach PostgreSQL"),
    ('psql: error: FATAL:  Peer authentication failed for user "postgres"\n', "peer authentication failed"),
])
def test_database_server_down_or_refusing_fails_with_a_fix(host, monkeypatch, stderr, message):
    monkeypatch.setattr(pg_connection, "run", FakePsql((2, "", stderr)))
    with pytest.raises(RecoveryError, match="cannot ask the local PostgreSQL whether database vaulthalla exists") \
            as caught:
        vh_host_probe.collect(dict(host, database="vaulthalla"), find_all, FakeRunner())
    assert message in caught.value.message
    assert "systemctl start postgresql" in caught.value.fix and "runuser -u %s" % ME in caught.value.fix


def test_database_without_psql_or_a_usable_os_user_fails_with_a_fix(monkeypatch):
    with pytest.raises(RecoveryError, match="psql was not found") as caught:
        vh_host_probe.database_exists("vaulthalla", ME, find_none)
    assert "postgresql-client" in caught.value.fix
    with pytest.raises(RecoveryError, match="OS user 'no-such-user-vh' .* does not exist") as caught:
        vh_host_probe.database_exists("vaulthalla", "no-such-user-vh", find_all)
    assert "db_os_user" in caught.value.fix
    other = next(entry.pw_name for entry in pwd.getpwall() if entry.pw_name != ME)
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    with pytest.raises(RecoveryError, match="needs root") as caught:
        vh_host_probe.database_exists("vaulthalla", other, find_all)
    assert "become: true" in caught.value.fix


# -- main(), as Ansible runs it: arguments in, one JSON document out --

def run_main(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            vh_host_facts.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    """Empty stand-ins for the programs on PATH (the runner is faked, so they never run)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("systemctl", "dpkg-query", "psql"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 99\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.mark.parametrize("check_mode", [False, True])
def test_main_returns_exactly_the_documented_facts(host, tmp_path, fake_path, monkeypatch, capsys, check_mode):
    (tmp_path / "swtpm").mkdir()
    (tmp_path / "swtpm" / "tpm2-00.permall").write_bytes(b"seed")
    runner = FakeRunner(systemctl=(0, "loaded\n", ""), **{"dpkg-query": (0, DPKG_LINE, "")})
    monkeypatch.setattr(process, "run", runner)
    monkeypatch.setattr(pg_connection, "run", FakePsql((0, "0\n", "")))
    args = dict(machine_id_path=host["machine_id_path"], tpm_devices=host["tpm_devices"],
                swtpm_state_dir=host["swtpm_state_dir"], paths=[str(tmp_path / "swtpm")],
                checksum_files=[host["machine_id_path"]], database="vaulthalla", db_os_user=ME,
                _ansible_check_mode=check_mode)
    code, result = run_main(args, capsys)
    assert code == 0, result.get("msg")
    for internal in ("invocation", "warnings", "deprecations"):
        result.pop(internal, None)
    assert result == dict(
        changed=False,
        machine_id_sha256=hashlib.sha256(MACHINE_ID.encode()).hexdigest(),
        tpm_devices_present=[], tpm_mode="swtpm", swtpm_unit_loaded=True, swtpm_state_files=1,
        package_installed=True, package_version="1:1.1.0-2", package_release="1.1.0",
        package_source="vaulthalla 1:1.1.0-2 Vaulthalla Maintainers <pkg@vaulthalla.example>",
        paths={str(tmp_path / "swtpm"): {"exists": True, "isdir": True}},
        checksums={host["machine_id_path"]: hashlib.sha256((MACHINE_ID + "\n").encode()).hexdigest()},
        database_exists=False,
    )
    assert runner.argv_of("dpkg-query")[0][0] == str(fake_path / "dpkg-query")


def test_main_fails_with_one_message_naming_the_fix(host, tmp_path, fake_path, monkeypatch, capsys):
    monkeypatch.setattr(process, "run", FakeRunner())
    code, result = run_main(dict(machine_id_path=str(tmp_path / "absent")), capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("cannot read the machine identity from %s" % (tmp_path / "absent"))
    assert "Fix: run systemd-machine-id-setup" in result["msg"]

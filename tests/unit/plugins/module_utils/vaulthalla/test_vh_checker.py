"""vh_check's logic with a fake vh: status parsing and waiting, sync info, reading files back."""

import hashlib
import os
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_checker, vh_file_reader, vh_sync_info
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

SYNC_INFO = """Vault:               s3-secure (id 3)
Type:                s3
Upstream encryption: enabled
Remote objects:      2 (96 bytes)
Indexed files:       2
State:               out of sync (1 indexed file missing upstream)
"""


@pytest.fixture
def fake_vh(tmp_path):
    """A vh that answers from files: status lines in order, sync info, cat output or an error."""
    script = tmp_path / "vh"
    script.write_text("""#!/bin/sh
dir=$(dirname "$0")
case "$1" in
  status)
    n=$(cat "$dir/status.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$dir/status.count"
    line=$(sed -n "$((n + 1))p" "$dir/status.lines"); [ -n "$line" ] || line=$(tail -n 1 "$dir/status.lines")
    if [ "$line" = down ]; then echo "vh: connect: No such file or directory" >&2; exit 1; fi
    printf '%s\\nversion: 1.1.0\\n' "$line"; exit 0 ;;
  vault)
    if [ "$2" = sync ]; then cat "$dir/sync.txt"; exit 0; fi
    if [ "$2" = cat ]; then
      if [ -f "$dir/cat.error" ]; then cat "$dir/cat.error" >&2; exit 1; fi
      cat "$dir/cat.body"; exit 0
    fi ;;
esac
exit 2
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def params(**overrides):
    base = dict(status=True, timeout=5, interval=0.01, sync_vaults=[], require_in_sync=True, files=[],
                reader="vh_cat", fuse_mount="/mnt/vaulthalla", vh_path="vh", fail_on_failed_check=True)
    base.update(overrides)
    return base


def test_status_waits_through_down_and_degraded_until_healthy(fake_vh):
    (fake_vh / "status.lines").write_text("down\nvh status: degraded\nvh status: healthy\n")
    checks, facts = vh_checker.run_checks(params(), str(fake_vh / "vh"))
    assert checks == [{"name": "vh_status", "passed": True, "detail": checks[0]["detail"]}]
    assert checks[0]["detail"].startswith("vh status: healthy after")
    assert (fake_vh / "status.count").read_text().strip() == "3"


def test_status_never_healthy_fails_at_the_deadline_and_skips_the_rest(fake_vh):
    (fake_vh / "status.lines").write_text("vh status: degraded\n")
    checks, facts = vh_checker.run_checks(params(timeout=0.2, sync_vaults=["s3-media"]), str(fake_vh / "vh"))
    assert [c["name"] for c in checks] == ["vh_status"]
    assert not checks[0]["passed"] and "degraded" in checks[0]["detail"] and "timeout" in checks[0]["detail"]


def test_sync_info_out_of_sync_fails_unless_allowed(fake_vh):
    (fake_vh / "sync.txt").write_text(SYNC_INFO)
    check, fields = vh_checker.sync_info(str(fake_vh / "vh"), "s3-secure", True)
    assert not check["passed"] and "out of sync" in check["detail"]
    assert fields["Upstream encryption"] == "enabled"
    assert vh_checker.sync_info(str(fake_vh / "vh"), "s3-secure", False)[0]["passed"]


def test_parse_ignores_lines_without_labels():
    assert vh_sync_info.parse("noise\nState:   in sync\n") == {"State": "in sync"}
    assert vh_sync_info.in_sync({"State": "in sync"}) and not vh_sync_info.in_sync({})


def test_read_back_compares_size_and_digest_and_never_returns_content(fake_vh):
    body = b"known file body \xe2\x9c\x93\n"
    (fake_vh / "cat.body").write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    entry = {"vault": "local-docs", "path": "/docs/a b.txt", "sha256": digest, "size": len(body)}
    check, found = vh_checker.read_file(entry, "vh_cat", str(fake_vh / "vh"), None)
    assert check["passed"] and check["name"] == "file_local-docs:/docs/a b.txt"
    assert found == dict(vault="local-docs", path="/docs/a b.txt", readable=True, sha256=digest, size=len(body))
    assert body.decode() not in repr((check, found))
    changed = dict(entry, sha256="0" * 64)
    assert not vh_checker.read_file(changed, "vh_cat", str(fake_vh / "vh"), None)[0]["passed"]
    shorter = dict(entry, size=1)
    assert "recorded 1" in vh_checker.read_file(shorter, "vh_cat", str(fake_vh / "vh"), None)[0]["detail"]


def test_a_key_that_does_not_decrypt_names_the_silent_new_key_hazard(fake_vh):
    (fake_vh / "cat.error").write_text("vh: decryption failed: the body does not decrypt with the vault key\n")
    check, found = vh_checker.read_file({"vault": "s3-secure", "path": "/f"}, "vh_cat", str(fake_vh / "vh"), None)
    assert not check["passed"] and not found["readable"]
    assert "sealed key blobs" in check["detail"] and "decryption failed" in check["detail"]


def test_fuse_reader_reads_under_the_mount_and_refuses_escapes(tmp_path):
    os.makedirs(str(tmp_path / "local-docs" / "docs"))
    (tmp_path / "local-docs" / "docs" / "r.txt").write_bytes(b"abc")
    digest, size = vh_file_reader.read_digest("local-docs", "/docs/r.txt", "fuse", mount=str(tmp_path))
    assert (digest, size) == (hashlib.sha256(b"abc").hexdigest(), 3)
    with pytest.raises(RecoveryError, match="leaves vault"):
        vh_file_reader.read_digest("local-docs", "/../../etc/passwd", "fuse", mount=str(tmp_path))
    with pytest.raises(RecoveryError, match="Cannot read"):
        vh_file_reader.read_digest("local-docs", "/missing", "fuse", mount=str(tmp_path))


def test_sync_and_file_probes_run_side_by_side_and_report_in_order(tmp_path):
    """Each probe answers only once all four are running at once (a rendezvous, deadline 10 s), so probes run one
    after another would each time out and fail their check."""
    body = b"side by side\n"
    script = tmp_path / "vh"
    script.write_text("""#!/bin/sh
dir=$(dirname "$0")
case "$1" in status) echo "vh status: healthy"; exit 0 ;; esac
touch "$dir/arrived.$$"
i=0
while [ "$(ls "$dir" | grep -c '^arrived\\.')" -lt 4 ]; do
  i=$((i + 1)); [ "$i" -lt 200 ] || { echo "vh: alone" >&2; exit 1; }; sleep 0.05
done
if [ "$2" = sync ]; then printf 'Vault: %s\\nRemote objects: 1\\nIndexed files: 1\\nState: in sync\\n' "$4"; exit 0; fi
cat "$dir/cat.body"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "cat.body").write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    files = [{"vault": "local-docs", "path": "/a", "sha256": digest}, {"vault": "s3-media", "path": "/b", "sha256": digest}]
    checks, facts = vh_checker.run_checks(params(sync_vaults=["s3-media", "s3-secure"], files=files), str(script))
    assert [c["name"] for c in checks] == ["vh_status", "sync_info_s3-media", "sync_info_s3-secure",
                                           "file_local-docs:/a", "file_s3-media:/b"]
    assert all(c["passed"] for c in checks), checks
    assert list(facts["sync"]) == ["s3-media", "s3-secure"] and facts["sync"]["s3-secure"]["State"] == "in sync"
    assert [f["path"] for f in facts["files"]] == ["/a", "/b"]

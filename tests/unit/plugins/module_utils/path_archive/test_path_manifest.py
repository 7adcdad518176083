"""path_manifest and path_safety: what the manifest holds, how it is checked, which members may be restored."""

import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_manifest, path_safety
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

RELS = ["etc/vaulthalla", "var/lib/vaulthalla"]


def entry(path, kind="file", mode="0600", uid=0, gid=0, size=0, target=None, mtime="2026-11-21 10:15:00"):
    result = dict(path=path, type=kind, mode=mode, uid=uid, gid=gid, size=size, mtime=mtime)
    if target is not None:
        result["target"] = target
    return result


def vaulthalla_entries():
    return [
        entry("etc/vaulthalla", "dir", "0755"),
        entry("etc/vaulthalla/config.yaml", size=120, mode="0640", gid=998),
        entry("var/lib/vaulthalla", "dir", "0750", uid=998, gid=998),
        entry("var/lib/vaulthalla/.sealed_master.blob", "dir", "0700", uid=998, gid=998),
        entry("var/lib/vaulthalla/.sealed_master.blob/master.priv", uid=998, gid=998, size=300),
        entry("var/lib/vaulthalla/.sealed_psql.blob", "dir", "0700", uid=998, gid=998),
        entry("var/lib/vaulthalla/.sealed_psql.blob/psql.pub", uid=998, gid=998, size=90),
        entry("var/lib/vaulthalla/not.sealed_x.blob", "dir", "0700"),
        entry("var/lib/vaulthalla/.sealed_file.blob", size=1),
        entry("var/lib/vaulthalla/current", "symlink", "0777", target=".sealed_psql.blob/psql.pub"),
    ]


def request():
    return dict(root="/", rel_paths=RELS, compressor="zstd", level=3, xattrs=False, one_file_system=False, exclude=[])


def test_sealed_blobs_are_directories_named_like_vaulthalla_blobs():
    assert path_manifest.sealed_blobs(vaulthalla_entries()) == [
        "var/lib/vaulthalla/.sealed_master.blob", "var/lib/vaulthalla/.sealed_psql.blob"]


def test_owner_names_only_for_named_ids():
    names = {0: "root", 998: "vaulthalla"}
    owners = path_manifest.owner_names(vaulthalla_entries() + [entry("x", uid=4242, gid=4242)],
                                       names.get, names.get)
    assert owners == dict(users={"0": "root", "998": "vaulthalla"}, groups={"0": "root", "998": "vaulthalla"})


def test_build_counts_and_records_everything():
    entries = vaulthalla_entries()
    manifest = path_manifest.build("a.tar.zst", request(), entries, 1234, "ab" * 32, "vh1", {}, "s", "c", 1.5)
    assert manifest["kind"] == "path_archive" and manifest["manifest_version"] == 1
    assert (manifest["member_count"], manifest["file_count"], manifest["total_bytes"]) == (10, 4, 511)
    assert manifest["paths"] == RELS and manifest["root"] == "/" and manifest["compressor"] == "zstd"
    assert manifest["size"] == 1234 and manifest["sha256"] == "ab" * 32 and manifest["per_file_sha256"] is False
    assert manifest["members"] is entries
    assert manifest["sealed_blobs"] == path_manifest.sealed_blobs(entries)
    json.dumps(manifest)


def test_differences_name_every_kind_of_change():
    expected = vaulthalla_entries()
    actual = [dict(item) for item in expected[1:]]  # etc/vaulthalla missing
    actual[0]["mode"] = "0644"
    actual[3]["uid"] = 0
    actual[3]["size"] = 301
    actual[-1]["target"] = "elsewhere"
    actual.append(entry("var/lib/vaulthalla/new"))
    actual.append(dict(actual[1]))
    found = path_manifest.differences(actual, expected)
    assert "missing 'etc/vaulthalla'" in found
    assert "unexpected 'var/lib/vaulthalla/new'" in found
    assert "'etc/vaulthalla/config.yaml' differs (mode)" in found
    assert "'var/lib/vaulthalla/.sealed_master.blob/master.priv' differs (uid, size)" in found
    assert "'var/lib/vaulthalla/current' differs (target)" in found
    assert "1 duplicate member name(s)" in found
    assert path_manifest.differences(expected, [dict(item) for item in expected]) == []
    with pytest.raises(RecoveryError, match="does not match its manifest"):
        path_manifest.require_match(actual, expected, "a.tar.zst")


def write_manifest(tmp_path, **changes):
    archive = tmp_path / "a.tar.zst"
    archive.write_bytes(b"x")
    manifest = path_manifest.build("a.tar.zst", request(), vaulthalla_entries(), 1, "00", "vh1", {}, "s", "c", 0)
    manifest.update(changes)
    for key in [key for key, value in changes.items() if value is None]:
        del manifest[key]
    (tmp_path / "a.tar.zst.manifest.json").write_text(json.dumps(manifest))
    return str(archive)


def test_load_accepts_its_own_manifest(tmp_path):
    manifest, path = path_manifest.load(write_manifest(tmp_path))
    assert path.endswith(".manifest.json") and manifest["member_count"] == 10


@pytest.mark.parametrize("changes, fragment", [
    (dict(kind="swtpm_state"), "not path_archive"),
    (dict(members=None), "lacks members"),
    (dict(members=[{"path": "x"}]), "malformed members"),
    (dict(paths=[]), "malformed paths"),
    (dict(paths=["/etc/vaulthalla"]), "not a plain relative path"),
    (dict(paths=["var/../etc"]), "not a plain relative path"),
    (dict(paths=["var/lib", "var/lib/vaulthalla"]), "one contains the other"),
    (dict(compressor="lz4"), "unknown compressor"),
    (dict(member_count=3), "counts 3 members but lists 10"),
    (dict(manifest_version=2), "reads up to 1"),
])
def test_load_refuses_damaged_or_foreign_manifests(tmp_path, changes, fragment):
    with pytest.raises(RecoveryError) as caught:
        path_manifest.load(write_manifest(tmp_path, **changes))
    assert fragment in str(caught.value) and "Fix:" in str(caught.value)


def test_load_without_manifest(tmp_path):
    archive = tmp_path / "lonely.tar.zst"
    archive.write_bytes(b"x")
    with pytest.raises(RecoveryError, match="has no manifest"):
        path_manifest.load(str(archive))


# ------------------------------------------------------------------ safety

def test_vaulthalla_tree_is_safe():
    assert path_safety.member_problems(vaulthalla_entries(), RELS) == []
    path_safety.require_restorable(vaulthalla_entries(), RELS, "a")
    path_safety.require_archivable(vaulthalla_entries(), RELS, "/")


@pytest.mark.parametrize("bad, fragment", [
    (entry("/etc/vaulthalla/x"), "absolute path"),
    (entry("etc/vaulthalla/../../etc/shadow"), "'..'"),
    (entry("etc/passwd"), "outside the archived paths"),
    (entry("etc/vaulthallax/y"), "outside the archived paths"),
    (entry("etc/vaulthalla/null", "device"), "device"),
    (entry("etc/vaulthalla/pipe", "fifo"), "fifo"),
    (entry("etc/vaulthalla/hard", "hardlink", target="etc/vaulthalla/config.yaml"), "hard link"),
    (entry("etc/vaulthalla/suid", mode="4755"), "set-user/group-ID"),
    (entry("etc/vaulthalla/up", "symlink", "0777", target="../../etc/shadow"), "leaves /etc/vaulthalla"),
    (entry("etc/vaulthalla/abs", "symlink", "0777", target="/etc/shadow"), "leaves /etc/vaulthalla"),
    # inside root, but outside its own path: restoring /etc alone would make it point elsewhere
    (entry("etc/vaulthalla/cross", "symlink", "0777", target="../../var/lib/vaulthalla/x"), "leaves"),
    (entry("etc/vaulthalla/config.yaml"), "appears twice"),
    (dict(entry("etc/vaulthalla/special"), type="other", tar_type="C"), "special member"),
])
def test_unsafe_members_are_named(bad, fragment):
    problems = path_safety.member_problems(vaulthalla_entries() + [bad], RELS)
    assert len(problems) == 1 and fragment in problems[0], problems
    with pytest.raises(RecoveryError) as caught:
        path_safety.require_restorable(vaulthalla_entries() + [bad], RELS, "crafted.tar.zst")
    assert "crafted.tar.zst" in str(caught.value) and "Nothing was changed" in str(caught.value)
    with pytest.raises(RecoveryError) as caught:
        path_safety.require_archivable(vaulthalla_entries() + [bad], RELS, "/")
    assert "no archive was published" in str(caught.value) and "exclude" in str(caught.value)


def test_member_reached_through_a_link_and_root_not_a_directory():
    entries = [entry("d", "dir", "0755"), entry("d/l", "symlink", "0777", target="sub"), entry("d/l/x")]
    assert path_safety.member_problems(entries, ["d"]) == ["'d/l/x': reached through the symbolic link 'd/l'"]
    assert "must be a directory" in path_safety.member_problems([entry("d")], ["d"])[0]


def test_many_problems_are_summarised():
    entries = [entry("etc/vaulthalla", "dir")] + [entry("etc/vaulthalla/p%d" % n, "fifo") for n in range(8)]
    with pytest.raises(RecoveryError, match="and 3 more"):
        path_safety.require_restorable(entries, ["etc/vaulthalla"], "a")


def test_members_of_and_target_of():
    members = path_safety.members_of(vaulthalla_entries(), "etc/vaulthalla")
    assert sorted(members) == [".", "config.yaml"]
    assert path_safety.target_of("var/lib/vaulthalla/x/y", RELS) == ("var/lib/vaulthalla", "x/y")
    assert path_safety.target_of("var/lib/vaulthalla", RELS) == ("var/lib/vaulthalla", ".")
    assert path_safety.target_of("var/lib", RELS) == (None, None)


def test_relative_paths():
    assert path_safety.relative_paths("/", ["/etc/vaulthalla/", "/var//lib/vaulthalla"]) == RELS
    assert path_safety.relative_paths("/mnt/old", ["/mnt/old/etc/vaulthalla"]) == ["etc/vaulthalla"]
    with pytest.raises(RecoveryError, match="absolute"):
        path_safety.relative_paths("relative", ["/x"])

"""tar_safety.find_problems: the one member-safety walk that swtpm (check_members) and path_archive
(path_safety.member_problems) share."""

import tarfile

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.tar_safety import (
    find_problems, shown_problems, whole_tree)
from support.tar_members import member


def problems_of(*members, **kwargs):
    return find_problems(list(members), **kwargs)[1]


def test_safe_members_pass_in_archive_order_with_normalized_names():
    members = [member(".", tarfile.DIRTYPE), member("./sub/", tarfile.DIRTYPE), member("sub//f"),
               member("link", tarfile.SYMTYPE, "sub/f")]
    passed, problems = find_problems(members)
    assert problems == []
    assert list(passed) == list(zip([".", "sub", "sub/f", "link"], members))


@pytest.mark.parametrize("bad, problem", [
    (member("/etc/passwd"), "'/etc/passwd': absolute path or '..' component"),
    (member("../x"), "'../x': absolute path or '..' component"),
    (member("sub/../x"), "'sub/../x': absolute path or '..' component"),
    (member("h", tarfile.LNKTYPE, "f"), "'h': hard link"),
    (member("c", tarfile.CHRTYPE), "'c': device"),
    (member("b", tarfile.BLKTYPE), "'b': device"),
    (member("p", tarfile.FIFOTYPE), "'p': fifo"),
    (member("l", tarfile.SYMTYPE, "../outside"), "'l': symbolic link to '../outside' leaves the directory"),
    (member("l", tarfile.SYMTYPE, "/etc/shadow"), "'l': symbolic link to '/etc/shadow' leaves the directory"),
    (member("s", mode=0o4755), "'s': set-user/group-ID file"),
    (member("g", mode=0o2755), "'g': set-user/group-ID file"),
    (member(".", tarfile.REGTYPE), "'.': the root of the tree must be a directory"),
])
def test_each_rule_names_the_member(bad, problem):
    assert problems_of(member("ok"), bad) == [problem]


def test_a_setuid_directory_is_not_a_problem():
    assert problems_of(member("d", tarfile.DIRTYPE, mode=0o4755)) == []


def test_a_name_twice_and_members_reached_through_a_symbolic_link():
    assert problems_of(member("a"), member("./a")) == ["'./a': appears twice"]
    assert problems_of(member("l", tarfile.SYMTYPE, "d"), member("l/x")) == [
        "'l/x': reached through the symbolic link 'l'"]


def test_a_refused_member_does_not_count_as_seen_or_as_a_link():
    # the refused /l is not remembered, so l/x (a different name) is fine
    assert problems_of(member("l", tarfile.SYMTYPE, "../x"), member("l/x")) == [
        "'l': symbolic link to '../x' leaves the directory"]


def test_every_problem_is_returned_in_archive_order():
    problems = problems_of(member("/a"), member("ok"), member("c", tarfile.CHRTYPE), member("../b"))
    assert problems == ["'/a': absolute path or '..' component", "'c': device", "'../b': absolute path or '..' component"]


def test_trees_names_and_members_come_from_the_caller():
    entries = [dict(path="etc/app", kind="dir"), dict(path="etc/app/l", kind="link", to="../../x"),
               dict(path="etc/app/ok", kind="link", to="f"), dict(path="etc/other", kind="dir"),
               dict(path="var/app", kind="file")]
    asked = []

    def locate(name):
        for tree in ("etc/app", "var/app"):
            if name == tree:
                return ".", "/" + tree
            if name.startswith(tree + "/"):
                return name[len(tree) + 1:], "/" + tree
        return None, "the archived paths"

    def member_of(entry, inner):
        asked.append((entry["path"], inner))
        return member(inner, tarfile.SYMTYPE if entry["kind"] == "link" else
                      tarfile.DIRTYPE if entry["kind"] == "dir" else tarfile.REGTYPE, entry.get("to", ""))

    passed, problems = find_problems(entries, locate=locate, root_rule="an archived path must be a directory",
                                     name_of=lambda entry: entry["path"], member_of=member_of)
    assert problems == ["'etc/app/l': symbolic link to '../../x' leaves /etc/app",
                        "'etc/other': outside the archived paths",
                        "'var/app': an archived path must be a directory"]
    assert passed == [("etc/app", entries[0]), ("etc/app/ok", entries[2])]
    # links are judged inside their own tree; members outside every tree are never built
    assert asked == [("etc/app", "."), ("etc/app/l", "l"), ("etc/app/ok", "ok"), ("var/app", ".")]


def test_whole_tree_is_the_default_tree():
    assert whole_tree("a/b") == ("a/b", "the directory")


def test_shown_problems_lists_five_and_counts_the_rest():
    assert shown_problems(["a", "b"]) == "a; b"
    assert shown_problems([str(i) for i in range(7)]) == "0; 1; 2; 3; 4; and 2 more"

"""Tar members built in memory, for the member-safety tests (names, kinds, link targets and modes as given)."""

import tarfile


def member(name, kind=tarfile.REGTYPE, linkname="", mode=0o640):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = mode
    return info

"""pg_backup dump checks both names it will publish before it writes or connects."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_dumper
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class NoServer(object):
    def probe(self, database):
        pytest.fail("the server must not be contacted when a name is taken")


@pytest.mark.parametrize("taken", ["wallet.dump", "wallet.dump.manifest.json"])
def test_an_existing_archive_or_lone_manifest_is_refused_first(tmp_path, taken):
    (tmp_path / taken).write_bytes(b"old")
    request = pg_dumper.DumpRequest("wallet", str(tmp_path), name_pattern="wallet.dump")
    with pytest.raises(RecoveryError) as info:
        pg_dumper.precheck(NoServer(), request)
    assert str(tmp_path / taken) in str(info.value) and "already exists" in str(info.value)
    assert "name_pattern" in info.value.fix
    assert sorted(p.name for p in tmp_path.iterdir()) == [taken]
    assert (tmp_path / taken).read_bytes() == b"old"

"""The plain-file-name check that drill_report, vh_export and s3_bucket_copy share."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import check_plain_name
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.vh_exporter import check_prefix


@pytest.mark.parametrize("name", ["vh1-20261121T101500Z", "b.with.dots", "x"])
def test_a_plain_name_is_returned(name):
    assert check_plain_name(name, "unused", fix="unused") == name


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b", "../x", "nul\x00byte"])
def test_anything_else_is_refused_with_the_callers_words(name):
    with pytest.raises(RecoveryError, match="bad name. Fix: rename it"):
        check_plain_name(name, "bad name.", fix="rename it.")


def test_vh_export_name_prefix_uses_it():
    assert check_prefix("vaulthalla") == "vaulthalla"
    with pytest.raises(RecoveryError, match="name_prefix '.vh' cannot start a file name"):
        check_prefix(".vh")

"""Once sets are signed they stay signed: the signature policy of recovery_set, one rule per test."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import (
    UNCHECKED, UNSIGNED, VERIFY, signature_policy)

SIGNER = "0123456789ABCDEF0123456789ABCDEF01234567"


def test_a_signer_makes_a_missing_signature_fatal_by_default():
    with pytest.raises(RecoveryError) as caught:
        signature_policy(SIGNER, None, False, "/sets/vh1")
    assert caught.value.message.startswith("recovery set /sets/vh1 was expected to be signed by %s" % SIGNER)
    assert "manifest.json.asc is missing" in caught.value.message and "tampered" in caught.value.message
    assert "require_signature: false" in caught.value.fix


def test_required_explicitly_refuses_a_missing_signature_too():
    with pytest.raises(RecoveryError, match="expected to be signed by"):
        signature_policy(SIGNER, True, False, "/sets/vh1")


def test_a_present_signature_is_verified_whenever_there_is_a_signer():
    assert signature_policy(SIGNER, None, True, "s") == VERIFY
    assert signature_policy(SIGNER, True, True, "s") == VERIFY
    assert signature_policy(SIGNER, False, True, "s") == VERIFY


def test_an_unsigned_set_is_accepted_only_on_purpose_or_without_a_signer():
    assert signature_policy(SIGNER, False, False, "s") == UNSIGNED
    assert signature_policy(None, None, False, "s") == UNSIGNED
    assert signature_policy("", False, False, "s") == UNSIGNED


def test_requiring_a_signature_without_a_signer_is_an_error():
    with pytest.raises(RecoveryError, match="require_signature is true but signed_by is empty") as caught:
        signature_policy("", True, True, "s")
    assert "signed_by" in caught.value.fix


def test_a_signature_without_a_signer_is_left_unchecked():
    assert signature_policy(None, None, True, "s") == UNCHECKED

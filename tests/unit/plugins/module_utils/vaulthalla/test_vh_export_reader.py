"""vh_export_read's logic without gpg: export parsing, key digests, comparison, and gpg status classification.

The status transcripts below were recorded from GnuPG 2.2.40 (`--status-fd 2 --pinentry-mode loopback`),
one per failure an operator can meet; real decryption is covered in tests/integration/plugins/modules/test_vh_export_read_gpg.py.
"""

import base64
import hashlib
import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_export_reader as reader
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def key_entry(vault_id, name, key, version=1):
    return {"vault_id": vault_id, "vault_name": name, "key": base64.b64encode(key).decode(),
            "key_info": {"type": "AES-256-GCM", "key_version": version, "created_at": "2026-11-01T00:00:00Z",
                         "exported_at": "2026-11-21T10:15:00Z", "vault_type": "local"}}


def digests(*entries):
    return reader.key_digests(list(entries), "keys.json.asc")


def test_key_digests_are_sha256_of_the_raw_key_sorted_by_name_and_never_the_key():
    keys = digests(key_entry(2, "s3-secure", KEY_B, 3), key_entry(1, "local-docs", KEY_A))
    assert keys == [
        {"vault_id": 1, "vault_name": "local-docs", "key_sha256": hashlib.sha256(KEY_A).hexdigest(), "key_version": 1},
        {"vault_id": 2, "vault_name": "s3-secure", "key_sha256": hashlib.sha256(KEY_B).hexdigest(), "key_version": 3}]
    assert base64.b64encode(KEY_A).decode() not in json.dumps(keys)


def test_a_key_that_is_not_base64_is_named_without_its_value():
    entry = dict(key_entry(1, "local-docs", KEY_A), key="not base64 %%% SECRETVALUE")
    with pytest.raises(RecoveryError, match="key of vault local-docs is not base64") as info:
        digests(entry)
    assert "SECRETVALUE" not in str(info.value)


def test_a_vault_listed_twice_is_refused():
    with pytest.raises(RecoveryError, match="local-docs more than once"):
        digests(key_entry(1, "local-docs", KEY_A), key_entry(2, "local-docs", KEY_B))


def test_parse_detects_the_kind_and_accepts_a_single_vault_object():
    assert reader.parse_export(json.dumps(key_entry(1, "v", KEY_A)), "p", "auto")[0] == "vault_keys"
    kind, entries = reader.parse_export(json.dumps([{"name": "db-password", "secret": "x"}]), "p", "auto")
    assert (kind, reader.secret_names(entries)) == ("secrets", ["db-password"])


@pytest.mark.parametrize("text, message", [
    ("SECRETVALUE not json", "not to JSON"),
    ("[]", "not a list of export entries"),
    ("[1, 2]", "not a list of export entries"),
    ('[{"user": "admin", "password": "SECRETVALUE"}]', "fields password, user"),
])
def test_parse_refuses_what_is_not_an_export_without_echoing_values(text, message):
    with pytest.raises(RecoveryError, match=message) as info:
        reader.parse_export(text, "p", "auto")
    assert "SECRETVALUE" not in str(info.value)


def test_parse_refuses_the_other_kind_when_one_is_asked_for():
    with pytest.raises(RecoveryError, match="is a secret export, but a vault keys export is needed") as info:
        reader.parse_export('[{"name": "db-password", "secret": "x"}]', "p", "vault_keys")
    assert info.value.facts["problem"] == "wrong_kind"


def test_compare_equal():
    keys = digests(key_entry(1, "local-docs", KEY_A), key_entry(2, "s3-secure", KEY_B))
    result = reader.compare_keys(keys, [dict(key) for key in keys])
    assert result["match"] is True
    assert [vault["state"] for vault in result["comparison"]] == ["equal", "equal"]
    assert result["detail"] == "2 vault keys equal"


def test_compare_names_differs_missing_and_extra_per_vault():
    expected = digests(key_entry(1, "local-docs", KEY_A), key_entry(2, "s3-secure", KEY_B),
                       key_entry(3, "s3-media", KEY_A))
    actual = digests(key_entry(1, "local-docs", KEY_A), key_entry(2, "s3-secure", KEY_A, 2),
                     key_entry(4, "new-vault", KEY_B))
    result = reader.compare_keys(expected, actual)
    assert result["match"] is False
    states = dict((vault["vault_name"], vault["state"]) for vault in result["comparison"])
    assert states == {"local-docs": "equal", "s3-secure": "differs", "s3-media": "missing", "new-vault": "extra"}
    assert "s3-secure differs (key differs (key version 1, compared 2))" in result["detail"]
    assert "s3-media missing" in result["detail"] and "new-vault extra" in result["detail"]
    assert "local-docs" not in result["detail"]


def test_compare_a_moved_vault_id_differs_even_with_the_same_key():
    result = reader.compare_keys(digests(key_entry(1, "v", KEY_A)), digests(key_entry(9, "v", KEY_A)))
    assert (result["match"], result["comparison"][0]["state"], result["comparison"][0]["detail"]) == (
        False, "differs", "vault id differs")


def test_compare_two_empty_exports_is_no_match():
    assert reader.compare_keys([], [])["match"] is False


def test_reveal_and_unknown_secret():
    entries = [{"name": "db-password", "secret": "pw"}, {"name": "jwt-secret", "secret": "jwt"}]
    assert reader.reveal(entries, "db-password", "p") == "pw"
    assert reader.sensitive_values("secrets", entries) == ["pw", "jwt"]
    with pytest.raises(RecoveryError, match="no secret named api-key \\(it has db-password, jwt-secret\\)") as info:
        reader.reveal(entries, "api-key", "p")
    assert "pw" not in str(info.value).replace("password", "")


NO_SECKEY = """gpg: encrypted with ECDH key, ID E124A296CDD7BFF5
[GNUPG:] ENC_TO E124A296CDD7BFF5 18 0
[GNUPG:] NO_SECKEY E124A296CDD7BFF5
[GNUPG:] BEGIN_DECRYPTION
[GNUPG:] DECRYPTION_FAILED
gpg: decryption failed: No secret key
[GNUPG:] END_DECRYPTION
"""
BAD_PASSPHRASE = """[GNUPG:] ENC_TO E124A296CDD7BFF5 18 0
[GNUPG:] NEED_PASSPHRASE E124A296CDD7BFF5 A05D29989577DE28 18 0
gpg: public key decryption failed: Bad passphrase
[GNUPG:] ERROR pkdecrypt_failed 67108875
[GNUPG:] BEGIN_DECRYPTION
[GNUPG:] DECRYPTION_FAILED
gpg: decryption failed: No secret key
[GNUPG:] END_DECRYPTION
"""
NO_PASSPHRASE = """[GNUPG:] ENC_TO E124A296CDD7BFF5 18 0
[GNUPG:] USERID_HINT E124A296CDD7BFF5 Rec <r@x>
[GNUPG:] NEED_PASSPHRASE E124A296CDD7BFF5 A05D29989577DE28 18 0
[GNUPG:] INQUIRE_MAXLEN 100
gpg: Sorry, we are in batchmode - can't get input
"""
NOT_OPENPGP = """gpg: no valid OpenPGP data found.
[GNUPG:] NODATA 1
[GNUPG:] NODATA 2
[GNUPG:] FAILURE decrypt 4294967295
gpg: decrypt_message failed: Unknown system error
"""
TRUNCATED = """[GNUPG:] ENC_TO E124A296CDD7BFF5 18 0
[GNUPG:] DECRYPTION_KEY CA944F768C6DD7D5D6059371E124A296CDD7BFF5 D37380FD4D9B7E2CA9C0040AA05D29989577DE28 u
[GNUPG:] BEGIN_DECRYPTION
[GNUPG:] DECRYPTION_INFO 2 9 0
[GNUPG:] PLAINTEXT 62 1795251886 p.json
[GNUPG:] DECRYPTION_FAILED
gpg: decryption failed: Invalid packet
[GNUPG:] END_DECRYPTION
"""
OK = """[GNUPG:] ENC_TO E124A296CDD7BFF5 18 0
[GNUPG:] DECRYPTION_KEY CA944F768C6DD7D5D6059371E124A296CDD7BFF5 D37380FD4D9B7E2CA9C0040AA05D29989577DE28 u
[GNUPG:] BEGIN_DECRYPTION
[GNUPG:] PLAINTEXT 62 1795251886 p.json
[GNUPG:] DECRYPTION_OKAY
[GNUPG:] GOODMDC
[GNUPG:] END_DECRYPTION
"""
LITERAL_ONLY = """[GNUPG:] PLAINTEXT 62 1795251886 p.json
[GNUPG:] PLAINTEXT_LENGTH 43
"""


def classify(stderr, passphrase_given=False, plaintext_json=False):
    return reader.failure(reader.gpg_status(stderr), stderr, "keys.asc", "/home/op/.gnupg", passphrase_given,
                          plaintext_json)


@pytest.mark.parametrize("stderr, passphrase_given, problem, words", [
    (NO_SECKEY, False, "no_secret_key", "key ID(s) E124A296CDD7BFF5, and gnupg_home /home/op/.gnupg holds none"),
    (BAD_PASSPHRASE, True, "bad_passphrase", "passphrase for the secret key in /home/op/.gnupg is wrong"),
    (NO_PASSPHRASE, False, "passphrase_required", "protected by a passphrase, and none was given"),
    (NO_PASSPHRASE, True, "bad_passphrase", "did not accept the passphrase"),
    (NOT_OPENPGP, False, "not_openpgp", "not a readable OpenPGP message (gpg: gpg: no valid OpenPGP data found."),
    (TRUNCATED, False, "corrupt", "is damaged"),
    (LITERAL_ONLY, False, "not_encrypted", "not encrypted"),
])
def test_each_gpg_failure_gets_its_own_message_and_a_fix(stderr, passphrase_given, problem, words):
    error = classify(stderr, passphrase_given)
    assert error.facts["problem"] == problem
    assert words in error.message
    assert "Fix: " in str(error)


def test_plaintext_json_is_named_as_such():
    assert classify(NOT_OPENPGP, plaintext_json=True).facts["problem"] == "plaintext"


def test_a_proven_decryption_is_no_failure():
    assert classify(OK) is None
    assert ("DECRYPTION_KEY", "CA944F768C6DD7D5D6059371E124A296CDD7BFF5 D37380FD4D9B7E2CA9C0040AA05D29989577DE28 u") \
        in reader.gpg_status(OK)

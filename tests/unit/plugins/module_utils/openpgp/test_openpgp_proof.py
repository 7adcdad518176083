"""vh_export's proof of encryption: `gpg --list-packets --list-only` listings and the plaintext sniff."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp import gpg_recipient, openpgp_proof
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

ALICE = "F1B657E537DF00B548959952E3CA10B9F8CDBA2E"
BOB = "6771C5F4489989DD58F1D3C185005C89E698AEFF"
KEYS = gpg_recipient.parse_colons("""\
pub:-:255:22:E3CA10B9F8CDBA2E:1795242846:::-:::scESC:::::ed25519:::0:
fpr:::::::::F1B657E537DF00B548959952E3CA10B9F8CDBA2E:
sub:-:255:18:FBD8119B2D2E343A:1795242846::::::e:::::cv25519::
fpr:::::::::F66F56E2DB45F175FC5C45F3FBD8119B2D2E343A:
sub:-:2048:1:ABDBDB672FD6691C:1795242846::::::e::::::23:
fpr:::::::::65334674C88BA3DB7814F2F1ABDBDB672FD6691C:
pub:-:255:22:85005C89E698AEFF:1795242846:::-:::scESC:::::ed25519:::0:
fpr:::::::::6771C5F4489989DD58F1D3C185005C89E698AEFF:
sub:-:255:18:5555555555555555:1795242846::::::e:::::cv25519::
fpr:::::::::EEEEEEEEEEEEEEEEEEEEEEEE5555555555555555:
""")
ALICE_KEY, BOB_KEY = KEYS


def pubkey(keyid, algo=18):
    return ":pubkey enc packet: version 3, algo %d, keyid %s\n\tdata: [263 bits]\n\tdata: [392 bits]\n" % (algo, keyid)


ENCRYPTED = "# off=96 ctb=d2 tag=18 hlen=2 plen=75 new-ctb\n:encrypted data packet:\n\tlength: 75\n\tmdc_method: 2\n"
TO_ALICE = "# off=0 ctb=84 tag=1 hlen=2 plen=94\n" + pubkey("FBD8119B2D2E343A") + ENCRYPTED


def judged(listing, recipients):
    return openpgp_proof.judge(openpgp_proof.parse_packets(listing), recipients, "vault keys", "x.json.gpg")


def refused(listing, recipients):
    with pytest.raises(RecoveryError) as info:
        judged(listing, recipients)
    assert "It was not published" in info.value.message
    return info.value


def test_exactly_the_recipient_is_accepted():
    assert judged(TO_ALICE, [ALICE_KEY]) == {ALICE: ["FBD8119B2D2E343A"]}


def test_exactly_two_recipients_are_accepted():
    listing = pubkey("FBD8119B2D2E343A") + pubkey("5555555555555555") + ENCRYPTED
    assert judged(listing, [ALICE_KEY, BOB_KEY]) == {ALICE: ["FBD8119B2D2E343A"], BOB: ["5555555555555555"]}


def test_aead_packet_counts_as_encrypted_data():
    listing = pubkey("ABDBDB672FD6691C", 1) + ":aead encrypted packet: cipher=9 aead=2 cb=16\n\tlength: unknown\n"
    assert judged(listing, [ALICE_KEY]) == {ALICE: ["ABDBDB672FD6691C"]}


def test_extra_recipient_is_refused():
    error = refused(pubkey("FBD8119B2D2E343A") + pubkey("5555555555555555") + ENCRYPTED, [ALICE_KEY])
    assert error.facts["problem"] == "extra_recipient"
    assert error.facts["extra_key_ids"] == ["5555555555555555"]
    assert "someone else could read it" in error.message


def test_missing_recipient_is_refused():
    error = refused(TO_ALICE, [ALICE_KEY, BOB_KEY])
    assert error.facts["problem"] == "missing_recipient"
    assert error.facts["missing_recipients"] == [BOB]


def test_only_another_key_is_both_extra_and_refused():
    error = refused(pubkey("5555555555555555") + ENCRYPTED, [ALICE_KEY])
    assert error.facts["problem"] == "extra_recipient"


def test_hidden_recipient_cannot_be_proven():
    assert refused(pubkey("0000000000000000") + ENCRYPTED, [ALICE_KEY]).facts["problem"] == "hidden_recipient"


def test_passphrase_is_another_recipient():
    listing = ":symkey enc packet: version 4, cipher 9, s2k 3, hash 2\n" + TO_ALICE
    assert refused(listing, [ALICE_KEY]).facts["problem"] == "extra_recipient"


def test_literal_data_outside_encryption_is_plaintext():
    listing = (":compressed packet: algo=1\n:literal data packet:\n\tmode b (62), created 1795242852, name=\"\",\n"
               "\traw data: 16 bytes\n")
    error = refused(listing, [ALICE_KEY])
    assert error.facts["problem"] == "plaintext"


def test_literal_data_beside_an_encrypted_message_is_plaintext():
    listing = TO_ALICE + ":literal data packet:\n\tmode b (62), created 0, name=\"\",\n\traw data: 9 bytes\n"
    assert refused(listing, [ALICE_KEY]).facts["problem"] == "plaintext"


def test_no_or_two_encrypted_messages_are_refused():
    assert refused(pubkey("FBD8119B2D2E343A"), [ALICE_KEY]).facts["problem"] == "not_one_message"
    assert refused(TO_ALICE + TO_ALICE, [ALICE_KEY]).facts["problem"] == "not_one_message"


# ---------------------------------------------------------------- sniff

ARMORED = (b"-----BEGIN PGP MESSAGE-----\n\nhF4DU0A0...\n=abcd\n-----END PGP MESSAGE-----\n")


def sniff(tmp_path, data):
    path = tmp_path / "x.json.gpg"
    path.write_bytes(data)
    return openpgp_proof.sniff(str(path), "vault keys", "vaulthalla-vault-keys.json.gpg")


def sniff_refusal(tmp_path, data):
    with pytest.raises(RecoveryError) as info:
        sniff(tmp_path, data)
    return info.value


def test_armored_and_binary_messages_pass_the_sniff(tmp_path):
    assert sniff(tmp_path, ARMORED) == "armored"
    assert sniff(tmp_path, b"\x84\x5e\x03" + b"\x00" * 40) == "binary"


@pytest.mark.parametrize("data", [
    b'[{"vault_id": 1, "key": "c2VjcmV0"}]\n',
    b'\xef\xbb\xbf  {"name": "jwt-secret", "secret": "s"}',
    b'\n\n  [\n',
])
def test_json_is_named_plaintext_and_not_echoed(tmp_path, data):
    error = sniff_refusal(tmp_path, data)
    assert error.facts["problem"] == "plaintext"
    assert "PLAINTEXT" in error.message and "vaulthalla-vault-keys.json.gpg" in error.message
    assert "c2VjcmV0" not in str(error) and "jwt-secret" not in str(error)


def test_json_scalar_that_parses_is_plaintext(tmp_path):
    assert sniff_refusal(tmp_path, b'"c2VjcmV0"\n').facts["problem"] == "plaintext"


def test_cleartext_signed_message_is_plaintext(tmp_path):
    data = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n[{\"key\": \"x\"}]\n"
    assert sniff_refusal(tmp_path, data).facts["problem"] == "plaintext"


def test_data_after_the_armored_message_is_refused(tmp_path):
    assert sniff_refusal(tmp_path, ARMORED + b'[{"key": "x"}]\n').facts["problem"] == "trailing_data"
    assert sniff_refusal(tmp_path, ARMORED + ARMORED).facts["problem"] == "trailing_data"
    assert sniff_refusal(tmp_path, ARMORED[:40]).facts["problem"] == "truncated"


def test_empty_and_other_text_are_refused(tmp_path):
    assert sniff_refusal(tmp_path, b"").facts["problem"] == "empty"
    assert sniff_refusal(tmp_path, b"  \n").facts["problem"] == "empty"
    assert sniff_refusal(tmp_path, b"vh: error\n").facts["problem"] == "not_openpgp"

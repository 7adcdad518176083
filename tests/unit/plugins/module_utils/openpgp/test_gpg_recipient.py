"""vh_export's recipient checks: `gpg --with-colons --fixed-list-mode --list-keys` listings, as GnuPG 2.2 prints them."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp import gpg_recipient
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

NOW = 1795242900  # 2026-11-21
GOOD = "F1B657E537DF00B548959952E3CA10B9F8CDBA2E"
SIGN_ONLY = "6771C5F4489989DD58F1D3C185005C89E698AEFF"
EXPIRED = "21D24CE2DCAB7D5549F2CB79ADE317DA93203924"
REVOKED = "128AC6AD9A122AD3E1FA2BA890DA741BCC6AA410"
SUB_EXPIRED = "A0B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9"

# Captured from gpg 2.2.40 (public keys imported into a fresh keyring), plus one synthetic key whose only
# encryption subkey expired and one whose encryption subkey is revoked.
LISTING = """\
tru::1:1795242852:0:3:1:5
pub:-:255:22:E3CA10B9F8CDBA2E:1795242846:1858314846::-:::scESC:::::ed25519:::0:
fpr:::::::::F1B657E537DF00B548959952E3CA10B9F8CDBA2E:
uid:-::::1795242846::BC6816FA26ED3085E726CADC130E577AE4D3BE5B::Good \\x3a Recovery <good@x>::::::::::0:
sub:-:255:18:FBD8119B2D2E343A:1795242846::::::e:::::cv25519::
fpr:::::::::F66F56E2DB45F175FC5C45F3FBD8119B2D2E343A:
sub:-:2048:1:ABDBDB672FD6691C:1795242846::::::e::::::23:
fpr:::::::::65334674C88BA3DB7814F2F1ABDBDB672FD6691C:
pub:-:255:22:85005C89E698AEFF:1795242846:1858314846::-:::scSC:::::ed25519:::0:
fpr:::::::::6771C5F4489989DD58F1D3C185005C89E698AEFF:
uid:-::::1795242846::A4E099D522F78F847C2FBFE274DC9ABA8A4E099A::Sign <sign@x>::::::::::0:
pub:e:2048:1:ADE317DA93203924:1577836800:1609502400::-:::sc::::::23::0:
fpr:::::::::21D24CE2DCAB7D5549F2CB79ADE317DA93203924:
uid:e::::1577836800::4CB795F6F2201CF9441299D8AF7ED9F667696077::Exp <exp@x>::::::::::0:
sub:e:255:18:1111111111111111:1577836800:1609502400:::::e:::::cv25519::
fpr:::::::::AAAAAAAAAAAAAAAAAAAAAAAAAAAA1111111111111111:
pub:r:2048:1:90DA741BCC6AA410:1795242846:::-:::sc::::::23::0:
fpr:::::::::128AC6AD9A122AD3E1FA2BA890DA741BCC6AA410:
uid:r::::1795242846::FB964E3D45BDE295448913CE80609200BF3B5242::Rev <rev@x>::::::::::0:
sub:r:255:18:2222222222222222:1795242846::::::e:::::cv25519::
fpr:::::::::BBBBBBBBBBBBBBBBBBBBBBBBBBBB2222222222222222:
pub:-:255:22:A2B3C4D5E6F7A8B9:1577836800:::-:::scSC:::::ed25519:::0:
fpr:::::::::A0B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A8B9:
uid:-::::1577836800::0000::Old sub <old@x>::::::::::0:
sub:-:255:18:3333333333333333:1577836800:1609502400:::::e:::::cv25519::
fpr:::::::::CCCCCCCCCCCCCCCCCCCCCCCCCCCC3333333333333333:
sub:r:255:18:4444444444444444:1577836800::::::e:::::cv25519::
fpr:::::::::DDDDDDDDDDDDDDDDDDDDDDDDDDDD4444444444444444:
"""


def keys():
    return gpg_recipient.parse_colons(LISTING)


def assess(fingerprint, listing=None):
    parsed = gpg_recipient.parse_colons(listing) if listing is not None else keys()
    return gpg_recipient.assess(fingerprint, parsed, NOW, "/var/lib/vaulthalla/.gnupg", "vaulthalla")


def refusal(fingerprint, listing=None):
    with pytest.raises(RecoveryError) as info:
        assess(fingerprint, listing)
    return info.value


def test_parse_keeps_primary_subkeys_fingerprints_and_uids():
    parsed = keys()
    assert [key.fingerprint for key in parsed] == [GOOD, SIGN_ONLY, EXPIRED, REVOKED, SUB_EXPIRED]
    good = parsed[0]
    assert good.uids == ["Good : Recovery <good@x>"]
    assert good.primary.keyid == "E3CA10B9F8CDBA2E" and good.primary.expires == 1858314846
    assert [(sub.keyid, sub.capabilities, sub.fingerprint[-16:]) for sub in good.subkeys] == [
        ("FBD8119B2D2E343A", "e", "FBD8119B2D2E343A"), ("ABDBDB672FD6691C", "e", "ABDBDB672FD6691C")]


def test_valid_key_with_multiple_encryption_subkeys_is_accepted():
    key = assess(GOOD)
    assert key.usable_encryption_key_ids(NOW) == ["ABDBDB672FD6691C", "FBD8119B2D2E343A"]
    assert key.encryption_key_ids() == ["ABDBDB672FD6691C", "FBD8119B2D2E343A"]


def test_missing_key_names_the_import_into_the_daemon_users_keyring():
    error = refusal("0" * 40)
    assert error.facts["problem"] == "missing"
    assert "not in the GnuPG keyring of user vaulthalla" in error.message
    assert "sudo -u vaulthalla gpg --homedir /var/lib/vaulthalla/.gnupg --import" in error.fix


def test_expired_key_is_refused_with_its_date():
    error = refusal(EXPIRED)
    assert error.facts["problem"] == "expired"
    assert "expired on 2021-01-01" in error.message
    assert "--quick-set-expire" in error.fix


def test_expiry_date_in_the_past_counts_even_when_validity_is_not_e():
    listing = LISTING.replace("pub:-:255:22:E3CA10B9F8CDBA2E:1795242846:1858314846", "pub:-:255:22:E3CA10B9F8CDBA2E:"
                              "1795242846:1795242000")
    assert refusal(GOOD, listing).facts["problem"] == "expired"


def test_revoked_key_is_refused():
    error = refusal(REVOKED)
    assert error.facts["problem"] == "revoked"
    assert "revoked" in error.message and "Rev <rev@x>" in error.message


def test_sign_only_key_is_refused_as_not_encryption_capable():
    error = refusal(SIGN_ONLY)
    assert error.facts["problem"] == "not_encryption_capable"
    assert "capabilities scSC" in error.message and "sign-only" in error.message
    assert "--quick-add-key %s cv25519 encr" % SIGN_ONLY in error.fix


def test_key_whose_encryption_subkeys_are_expired_or_revoked_is_refused():
    error = refusal(SUB_EXPIRED)
    assert error.facts["problem"] == "encryption_subkeys_unusable"
    assert "3333333333333333 expired" in error.message and "4444444444444444 revoked" in error.message


def test_one_usable_subkey_among_unusable_ones_is_enough():
    listing = LISTING.replace("sub:r:255:18:4444444444444444:1577836800:::", "sub:-:255:18:4444444444444444:"
                              "1577836800:::")
    key = assess(SUB_EXPIRED, listing)
    assert key.usable_encryption_key_ids(NOW) == ["4444444444444444"]
    assert key.encryption_key_ids() == ["3333333333333333", "4444444444444444"]


def test_disabled_key_is_refused():
    listing = LISTING.replace(":scESC:", ":scESCD:")
    assert refusal(GOOD, listing).facts["problem"] == "disabled"


def test_subkey_fingerprint_points_at_the_primary():
    error = refusal("F66F56E2DB45F175FC5C45F3FBD8119B2D2E343A")
    assert error.facts["problem"] == "subkey_fingerprint"
    assert GOOD in error.fix


@pytest.mark.parametrize("given, expected", [
    (["f1b6 57e5 37df 00b5 4895  9952 e3ca 10b9 f8cd ba2e"], [GOOD]),
    (["0x" + GOOD, GOOD.lower(), SIGN_ONLY], [GOOD, SIGN_ONLY]),
])
def test_fingerprints_are_normalised_and_deduplicated(given, expected):
    assert gpg_recipient.normalise_fingerprints(given) == expected


@pytest.mark.parametrize("bad", ["E3CA10B9F8CDBA2E", "good@x", GOOD + "00", "G" * 40])
def test_short_ids_user_ids_and_junk_are_refused(bad):
    with pytest.raises(RecoveryError) as info:
        gpg_recipient.normalise_fingerprints([bad])
    assert "40-hex-digit" in info.value.message


def test_no_recipients_is_refused():
    with pytest.raises(RecoveryError):
        gpg_recipient.normalise_fingerprints([])

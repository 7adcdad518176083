"""db-info rewrite: only DB_HOST/DB_PORT/DB_NAME change, every other byte stays; bad secrets are refused by name."""

import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_json
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

PASSWORD = "planted-DB-pass \\\"w0rd\\\" \u00e9\u2713"
# Unicode raw and escaped, escapes, nested objects, arrays, 1.0 and 1e3, odd spacing and newlines.
TEXT = ('{\n  "DB_USER" : "wallet_\\u00e9t\\u00e9",\r\n\t"DB_HOST":"old-db.internal", "DB_PORT": 5432,'
        ' "DB_NAME":"wallet", "DB_PASSWORD": "' + PASSWORD + '",\n  "ratio": 1.0, "big": 1e3, "neg": -0.0,'
        ' "nested": {"DB_HOST": "inner-must-stay", "list": [1, "\\/", null, true]}, "\\u0044B_X": "esc key",'
        ' "emoji": "\U0001f510", "empty": {}}  \n')


def test_only_the_host_value_changes_byte_for_byte():
    info = db_info_json.parse("prod.ns.wallet.db-info", TEXT)
    new = info.with_connection(host="new-db.internal")
    assert new == TEXT.replace('"old-db.internal"', '"new-db.internal"')
    assert "inner-must-stay" in new and "1e3" in new and "1.0" in new and "\\u00e9" in new


def test_port_keeps_its_number_type_and_name_changes():
    info = db_info_json.parse("s", TEXT)
    new = info.with_connection(host="h2", port="6432", db_name="wallet_restored")
    assert '"DB_PORT": 6432,' in new and '"DB_NAME":"wallet_restored"' in new
    old_obj, new_obj = json.loads(TEXT), json.loads(new)
    assert {k: v for k, v in old_obj.items() if k not in ("DB_HOST", "DB_PORT", "DB_NAME")} == \
        {k: v for k, v in new_obj.items() if k not in ("DB_HOST", "DB_PORT", "DB_NAME")}
    assert db_info_json.parse("s", new).connection == {"host": "h2", "port": "6432", "name": "wallet_restored"}


def test_port_stored_as_string_stays_a_string():
    info = db_info_json.parse("s", '{"DB_HOST": "a", "DB_PORT": "5432"}')
    assert info.with_connection(port=6543) == '{"DB_HOST": "a", "DB_PORT": "6543"}'


def test_same_values_give_the_same_text():
    info = db_info_json.parse("s", TEXT)
    assert info.with_connection(host="old-db.internal", port=5432, db_name="wallet") is TEXT


def test_connection_holds_no_password():
    connection = db_info_json.parse("s", TEXT).connection
    assert connection == {"host": "old-db.internal", "port": "5432", "name": "wallet"}
    assert PASSWORD not in json.dumps(connection)


def test_sensitive_values_hold_the_text_and_the_password():
    values = db_info_json.parse("s", TEXT).sensitive_values()
    assert TEXT in values and json.loads(TEXT)["DB_PASSWORD"] in values
    assert "old-db.internal" not in values


@pytest.mark.parametrize("text, problem", [
    ('{"DB_HOST": "a", "DB_PASSWORD": "planted-pw-1"', "is not a JSON object"),
    ('["DB_HOST", "planted-pw-1"]', "is not a JSON object"),
    ('"planted-pw-1"', "is not a JSON object"),
    ('{"DB_HOST": "a"} {"x": "planted-pw-1"}', "is not a JSON object"),
    ('{"DB_PASSWORD": "planted-pw-1"}', "has no DB_HOST key"),
    ('{"DB_HOST": "", "DB_PASSWORD": "planted-pw-1"}', "has a DB_HOST that is not a non-empty string"),
    ('{"DB_HOST": 12, "DB_PASSWORD": "planted-pw-1"}', "has a DB_HOST that is not a non-empty string"),
    ('{"DB_HOST": "a", "DB_HOST": "b", "p": "planted-pw-1"}', "has DB_HOST more than once"),
    ('', "is not a JSON object"),
    (None, "has no text value"),
])
def test_bad_secrets_are_refused_by_name_without_their_text(text, problem):
    with pytest.raises(RecoveryError) as caught:
        db_info_json.parse("prod.ns.orchestrator.db-info", text)
    message = str(caught.value)
    assert "Secret prod.ns.orchestrator.db-info " + problem in message
    assert "planted-pw-1" not in message and "no secret was changed" in message
    assert caught.value.facts["secret"] == "prod.ns.orchestrator.db-info"


def test_changing_an_absent_port_is_refused():
    info = db_info_json.parse("s", '{"DB_HOST": "a"}')
    with pytest.raises(RecoveryError, match="Secret s has no DB_PORT key") as caught:
        info.with_connection(port=5433)
    assert "db_port" in caught.value.fix


def test_non_numeric_port_for_numeric_key_is_refused():
    with pytest.raises(RecoveryError, match="db_port 'x' is not a number"):
        db_info_json.parse("s", '{"DB_HOST": "a", "DB_PORT": 1}').with_connection(port="x")


def test_empty_object_lacks_db_host():
    with pytest.raises(RecoveryError, match="has no DB_HOST key"):
        db_info_json.parse("s", " {  } ")

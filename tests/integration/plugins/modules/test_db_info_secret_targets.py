"""db_info_secret refuses a DB_HOST, DB_PORT or DB_NAME that would point the services at nothing.

Against the moto Secrets Manager of test_db_info_secret_aws: the audit's values
(port 99999 and -5, hosts with a space, a quote or a newline) fail with one
error naming the option, in check mode too, and every secret keeps its
version and bytes. A bad value fails on the value even while the store denies
every call, which shows the check runs before any secret is read.
"""

import pytest

from support.db_info_planted import NEW_HOST, assert_nothing_leaked
from support.moto_server import SECRET_KEY
from test_db_info_secret_aws import MODULE, NAMES, args, store  # noqa: F401  pylint: disable=unused-import

BAD = [
    (dict(db_port=99999), "db_port 99999 is not a TCP port"),
    (dict(db_port=-5), "db_port -5 is not a TCP port"),
    (dict(db_host="db host.internal"), "db_host 'db host.internal' is not a host name"),
    (dict(db_host="db\"q.internal"), "is not a host name"),
    (dict(db_host="db.internal\nDB_PORT=1"), "is not a host name"),
    (dict(db_name="wallet\n"), "db_name 'wallet\\n' holds a control character"),
]


def _unchanged(store):
    return dict((name, store.stages(name)) for name in NAMES), store.state(NAMES)


@pytest.mark.parametrize("bad,message", BAD, ids=[case[1].split()[0] + str(n) for n, case in enumerate(BAD)])
def test_bad_connection_values_write_nothing(ansible, store, args, bad, message):  # noqa: F811
    before = _unchanged(store)
    options = dict(args, db_host=NEW_HOST)
    options.update(bad)
    result = ansible.run(MODULE, options, name="update")
    assert result.get("failed"), result
    assert message in result["msg"] and "No secret was read or written" in result["msg"], result["msg"]
    assert _unchanged(store) == before
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_check_mode_refuses_them_too_in_one_error(ansible, store, args):  # noqa: F811
    before = _unchanged(store)
    result = ansible.run(MODULE, dict(args, db_host="db.internal\n", db_port=99999), check_mode=True, name="check")
    assert result.get("failed"), result
    assert "db_host 'db.internal\\n' is not a host name" in result["msg"] and "db_port 99999" in result["msg"]
    assert _unchanged(store) == before


def test_the_values_are_checked_before_the_store_is_reached(ansible, store, args, moto):  # noqa: F811
    before = store.state(NAMES)
    with moto.credentials_checked():  # any call to the store would now be denied
        result = ansible.run(MODULE, dict(args, db_host=NEW_HOST, db_port=0), name="update")
    assert result.get("failed") and "db_port 0 is not a TCP port" in result["msg"], result
    assert "access_key" not in result["msg"]
    assert store.state(NAMES) == before

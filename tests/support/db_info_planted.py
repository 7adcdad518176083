"""Planted secret values shared by the db_info_secret tests on AWS and Azure: what must never be printed."""

SERVICES = ["orchestrator", "policy-node0", "policy-node1", "policy-node2", "wallet"]
NODES = ["policy-node0", "policy-node1", "policy-node2"]
OLD_HOST, NEW_HOST = "iv-prod.abc123.db.internal", "iv-restored.abc123.db.internal"


def password(service):
    return "planted-DBpw-%s-\u00e9\u2713-9c1e" % service


def emp(node):
    return "planted-EMP-%s-77d0f3a1" % node


def db_info_text(service, host=OLD_HOST):
    # A password with a JSON escape in its text, unicode escaped and raw, nested objects, 1.0 and 1e3.
    return ('{\n  "DB_HOST": "%s",\n  "DB_PORT": 5432,\n  "DB_NAME": "wallet",\n  "DB_USER": "iv_\\u00e9",\n'
            '  "DB_PASSWORD": "%s\\\\x",\n  "pool": {"max": 1e3, "ratio": 1.0},\n  "sslmode": "verify-full"\n}'
            % (host, password(service)))


def assert_nothing_leaked(ansible, *more):
    """No planted password, EMP or credential in anything ansible-playbook printed, logged or returned."""
    printed = ansible.everything_printed()
    planted = [password(s) for s in SERVICES] + [emp(n) for n in NODES] + list(more)
    assert printed and not [value for value in planted if value in printed]

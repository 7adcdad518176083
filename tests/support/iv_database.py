"""The Institutional Vault lab's database: its schema, its seed, and the key-share crypto.

Stands in for: the vendor's (closed) database schema, as far as the restore
runbook can see it - accounts (what GET /api/v2/accounts lists), balances,
pending operations, and the policy nodes' key shares that the Encryptor Master
Passwords (EMPs) decrypt. The real schema is unknown; this one has just the
parts the runbook's checks need.

Key shares: each policy node N has a random 32-byte share, stored only
encrypted, in key_shares(node, salt, nonce, ciphertext):

- key = scrypt(EMP as UTF-8, salt=16 random bytes per row, n=2**14, r=8, p=1, 32 bytes);
- ciphertext = AES-256-GCM(key, nonce=12 random bytes, share, AAD = the node name as UTF-8),
  so a share cannot be moved to another node's row and a wrong EMP fails with InvalidTag.

No secret (EMP, share, password) is stored in clear in the database.

This module is the ONE place for that crypto: tests/support/iv_service.py
imports it (from its own directory) to decrypt a share.

Interface:

- ``SCHEMA_SQL``: the tables (idempotent: CREATE ... IF NOT EXISTS).
- ``seed(target, emps, accounts=10, app_password=None, app_user="iv_app", database="ivault")``:
  target is a TempCluster (tests/support/pg_cluster.py), its ``tcp_params()`` dict, or psycopg2
  keyword arguments (host, port, user, password, dbname) of a superuser. Creates the database if
  missing, the schema, ``accounts`` rows, a balance per account, a few pending operations, one
  key_shares row per node in ``emps`` ({"policy-node0": "<EMP>", ...}) and, with app_password, the
  login role app_user with the privileges the services need (CONNECT, SELECT/INSERT/UPDATE/DELETE,
  sequences). Existing data is replaced. Returns {node: share bytes} (for tests to compare).
- ``encrypt_share(emp, node, share)`` -> (salt, nonce, ciphertext);
  ``decrypt_share(emp, node, salt, nonce, ciphertext)`` -> share, raises
  cryptography.exceptions.InvalidTag for a wrong EMP, node or tampered row.
- ``account_count(conn_params, database="ivault")``: SELECT count(*) FROM accounts.
- ``db_info(host, port, user, password, database="ivault")``: the db-info secret's JSON text
  (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD).
"""

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

DEFAULT_DATABASE = "ivault"
DEFAULT_APP_USER = "iv_app"
NODES = ("policy-node0", "policy-node1", "policy-node2")
ASSETS = ("BTC", "ETH", "USDC", "SOL")

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS accounts (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    asset text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS balances (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset text NOT NULL,
    amount numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, asset)
);
CREATE TABLE IF NOT EXISTS pending_operations (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind text NOT NULL,
    amount numeric NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS key_shares (
    node text PRIMARY KEY,
    salt bytea NOT NULL,
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL
);
"""


# crypto -----------------------------------------------------------------------------------------------------
def _key(emp, salt):
    return Scrypt(salt=bytes(salt), length=32, n=2 ** 14, r=8, p=1).derive(emp.encode("utf-8"))


def encrypt_share(emp, node, share, salt=None, nonce=None):
    """(salt, nonce, ciphertext) of share under a key derived from emp; AAD = node."""
    salt = salt or os.urandom(16)
    nonce = nonce or os.urandom(12)
    return salt, nonce, AESGCM(_key(emp, salt)).encrypt(nonce, bytes(share), node.encode("utf-8"))


def decrypt_share(emp, node, salt, nonce, ciphertext):
    """The share; raises cryptography.exceptions.InvalidTag if emp or node is not the one it was encrypted for."""
    return AESGCM(_key(emp, salt)).decrypt(bytes(nonce), bytes(ciphertext), node.encode("utf-8"))


# connections ------------------------------------------------------------------------------------------------
def connection_kwargs(target, database=None):
    """psycopg2.connect keyword arguments from a TempCluster, its tcp_params() or psycopg2 kwargs."""
    if hasattr(target, "tcp_params"):
        target = target.tcp_params()
    params = dict(target)
    if "login_host" in params or "login_user" in params:
        params = dict(host=params.get("login_host", "127.0.0.1"), port=params.get("port", 5432),
                      user=params.get("login_user"), password=params.get("login_password"),
                      dbname=params.get("db") or params.get("dbname") or "postgres")
    params.setdefault("connect_timeout", 5)
    if database:
        params["dbname"] = database
    return params


def connect(target, database=None):
    import psycopg2
    return psycopg2.connect(**connection_kwargs(target, database))


def db_info(host, port, user, password, database=DEFAULT_DATABASE):
    return json.dumps({"DB_HOST": host, "DB_PORT": int(port), "DB_NAME": database, "DB_USER": user,
                       "DB_PASSWORD": password})


# seed -------------------------------------------------------------------------------------------------------
def _create_database_and_role(target, database, app_user, app_password):
    from psycopg2 import sql
    conn = connect(target, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if not cur.fetchone():
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            if app_password is not None:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app_user,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(app_user)),
                            (app_password,))
    finally:
        conn.close()


def seed(target, emps, accounts=10, app_password=None, app_user=DEFAULT_APP_USER, database=DEFAULT_DATABASE):
    """Create and fill the lab database; returns {node: share}. See the module docstring."""
    from psycopg2 import sql
    _create_database_and_role(target, database, app_user, app_password)
    shares = {}
    conn = connect(target, database)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(SCHEMA_SQL)
            cur.execute("TRUNCATE pending_operations, balances, accounts, key_shares RESTART IDENTITY")
            for number in range(1, accounts + 1):
                asset = ASSETS[number % len(ASSETS)]
                cur.execute("INSERT INTO accounts (id, name, asset, created_at) VALUES"
                            " (%s, %s, %s, timestamptz '2026-01-01 00:00:00+00' + %s * interval '1 minute')",
                            (number, "account-%04d" % number, asset, number))
                cur.execute("INSERT INTO balances (account_id, asset, amount) VALUES (%s, %s, %s)",
                            (number, asset, "%d.%08d" % (number * 3, number)))
                if number % 4 == 0:
                    cur.execute("INSERT INTO pending_operations (account_id, kind, amount) VALUES (%s, %s, %s)",
                                (number, "withdrawal" if number % 8 else "deposit", "%d.5" % number))
            for node in sorted(emps):
                share = os.urandom(32)
                salt, nonce, ciphertext = encrypt_share(emps[node], node, share)
                cur.execute("INSERT INTO key_shares (node, salt, nonce, ciphertext) VALUES (%s, %s, %s, %s)",
                            (node, salt, nonce, ciphertext))
                shares[node] = share
            if app_password is not None:
                user = sql.Identifier(app_user)
                cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), user))
                cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(user))
                cur.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                            .format(user))
                cur.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(user))
    finally:
        conn.close()
    return shares


def account_count(conn_params, database=None):
    """Rows in accounts; database defaults to the params' dbname, or ivault when they name none (or postgres)."""
    if database is None and connection_kwargs(conn_params).get("dbname") in (None, "postgres"):
        database = DEFAULT_DATABASE
    conn = connect(conn_params, database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM accounts")
            return cur.fetchone()[0]
    finally:
        conn.close()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Production-like vault data for the pg_backup benchmark, generated server-side.

Four tables that behave like a document vault's database:

- ``vault_items`` (the big one): file metadata rows with word-built names,
  paths and descriptions, a hex SHA-256, timestamps, numerics and a small
  encrypted metadata blob (random bytes, stored inline).
- ``file_blobs``: encrypted file bodies, 2-14 KiB of random bytes (TOASTed,
  incompressible, like encrypted vault file bodies).
- ``audit_log``: JSON-ish audit text with a random session id, timestamps,
  numerics.
- ``users``: small, with a unique e-mail index and a random public key.

Eleven btree indexes (on text, hex text, timestamps and integers) and three
foreign keys, so a restore pays for index builds and constraint validation
as a real one does. Random bytes come from pgcrypto's gen_random_bytes(),
which measured about 15x faster than decode(string_agg(md5(random()::text),
''), 'hex') here (20 MB: 35 ms against 4.0 s; see bench/README.md).

Row counts scale linearly with ``size_gb``; the calibration gives about
1.0 GB of pg_database_size per 1.0 of size_gb.
"""

import threading

# A vocabulary of everyday and vault-domain words: text compresses like
# real names and descriptions (about 3:1 with gzip), not like blank filler.
WORDS = """
invoice contract passport statement payslip receipt insurance policy medical record deed lease warranty
certificate backup key ledger mortgage pension savings account transfer payment salary bonus tax return
annual quarterly monthly report summary draft final signed scanned copy original archive photo holiday
family wedding birthday school university diploma transcript license registration vehicle house garden
kitchen renovation invoice electricity water heating internet mobile phone subscription membership gym
doctor dentist hospital prescription vaccination allergy blood test result x-ray referral appointment
letter notice reminder overdue refund claim dispute complaint agreement amendment addendum schedule annex
employment offer resignation reference appraisal review objective meeting minutes agenda presentation
budget forecast plan strategy roadmap proposal quote estimate order delivery shipment tracking customs
declaration travel ticket boarding pass hotel booking itinerary visa residence permit identity card
driving birth marriage divorce custody will testament power attorney trust estate inheritance probate
bank credit card loan debt collection court judgment fine parking speeding appeal lawyer notary
accountant auditor invoice supplier client customer partner vendor contractor consultant freelancer
project alpha beta gamma delta north south east west central regional national international branch
office head quarter department finance legal human resources operations security compliance privacy
""".split()

EXTENSIONS = [".pdf", ".pdf", ".pdf", ".jpg", ".png", ".docx", ".xlsx", ".txt", ".eml", ".zip", ".heic", ".odt"]
MIME_TYPES = ["application/pdf", "image/jpeg", "image/png", "application/zip", "text/plain", "message/rfc822",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
ACTIONS = ["login", "logout", "read", "download", "upload", "share", "unshare", "rename", "move", "delete",
           "restore", "rotate_key", "export", "failed_login", "mfa_challenge"]
DOMAINS = ["example.com", "mail.example.org", "vault.example.net", "corp.example", "family.example"]
USER_AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
               "VaultSync/3.4.1 (Android 14; Pixel 8)", "VaultSync/3.4.0 (iOS 17.5; iPhone15,2)",
               "vault-cli/2.1.0 (linux-amd64)"]

# Rows per 1.0 of size_gb (calibrated: about 1.0 GB of pg_database_size).
ROWS_PER_GB = {"users": 42000, "vault_items": 840000, "file_blobs": 5100, "audit_log": 615000,
               "notifications": 112000}

TABLES = ["users", "vault_items", "file_blobs", "audit_log", "notifications"]


def _array(values):
    return "ARRAY[%s]::text[]" % ", ".join("'%s'" % v.replace("'", "''") for v in values)


def _pick(array_name, length, skew=1):
    """A random element; skew > 1 favours the first ones (Zipf-like, as real words and values are)."""
    if skew == 1:
        return "%s[1 + floor(random() * %d)::int]" % (array_name, length)
    return "%s[1 + floor(power(random(), %s) * %d)::int]" % (array_name, skew, length)


def _vocab():
    return ("(SELECT %s AS w, %s AS ext, %s AS mime, %s AS act, %s AS dom, %s AS ua) v" % (
        _array(WORDS), _array(EXTENSIONS), _array(MIME_TYPES), _array(ACTIONS), _array(DOMAINS),
        _array(USER_AGENTS)))


def row_counts(size_gb):
    return {table: max(200, int(per_gb * size_gb)) for table, per_gb in ROWS_PER_GB.items()}


def table_sql(counts):
    """{table: SQL that creates and fills it} (no indexes yet)."""
    nw, ne, nm, na, nd, nu = (len(WORDS), len(EXTENSIONS), len(MIME_TYPES), len(ACTIONS), len(DOMAINS),
                              len(USER_AGENTS))

    def w():
        return _pick("v.w", nw, 1.5)
    return {
        "users": """
CREATE TABLE users (
  id int NOT NULL, email text NOT NULL, display_name text NOT NULL, created_at timestamptz NOT NULL,
  quota_bytes bigint NOT NULL, public_key bytea NOT NULL);
INSERT INTO users
SELECT g, {w1} || '.' || {w2} || g || '@' || {dom}, initcap({w3}) || ' ' || initcap({w4}),
       timestamptz '2016-01-01 00:00+00' + random() * interval '8 years',
       (1 + floor(random() * 100))::bigint * 1073741824, gen_random_bytes(32)
FROM generate_series(1, {n}) g, {vocab};
""".format(w1=w(), w2=w(), w3=w(), w4=w(), dom=_pick("v.dom", nd), n=counts["users"], vocab=_vocab()),
        "vault_items": """
CREATE TABLE vault_items (
  id bigint NOT NULL, vault_id int NOT NULL, owner_id int NOT NULL, name text NOT NULL, path text NOT NULL,
  mime_type text NOT NULL, size_bytes bigint NOT NULL, content_sha256 text NOT NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, price numeric(12,2),
  encrypted_meta bytea NOT NULL, description text);
INSERT INTO vault_items
SELECT g, 1 + floor(random() * 5000)::int, 1 + floor(random() * {nusers})::int,
       {w1} || '_' || {w2} || '_' || (g % 997) || {ext},
       '/vaults/' || (g % 5000) || '/' || {w3} || '/' || {w4} || '/' || {w5} || '_' || g || {ext},
       {mime}, floor(power(random(), 3) * 2e9)::bigint, encode(sha256(int8send(g)), 'hex'),
       t, t + random() * interval '400 days', round((random() * 10000)::numeric, 2),
       gen_random_bytes(16 + floor(random() * 64)::int),
       CASE WHEN g % 10 = 0 THEN NULL ELSE
         array_to_string(ARRAY(SELECT {w} FROM generate_series(1, 4 + (g % 11))), ' ') END
FROM generate_series(1, {n}) g, {vocab},
     LATERAL (SELECT timestamptz '2018-01-01 00:00+00' + random() * interval '7 years' AS t) ts;
""".format(w1=w(), w2=w(), w3=w(), w4=w(), w5=w(), w=w(), ext=_pick("v.ext", ne), mime=_pick("v.mime", nm),
           nusers=counts["users"], n=counts["vault_items"], vocab=_vocab()),
        "file_blobs": """
CREATE TABLE file_blobs (
  id bigint NOT NULL, item_id bigint NOT NULL, chunk_no int NOT NULL, body bytea NOT NULL,
  created_at timestamptz NOT NULL);
INSERT INTO file_blobs
SELECT g, 1 + floor(random() * {nitems})::bigint, g % 4,
       (SELECT string_agg(gen_random_bytes(1024), ''::bytea) FROM generate_series(1, 4 + (g % 29)) WHERE g > 0),
       timestamptz '2018-01-01 00:00+00' + random() * interval '7 years'
FROM generate_series(1, {n}) g;
""".format(nitems=counts["vault_items"], n=counts["file_blobs"]),
        "audit_log": """
CREATE TABLE audit_log (
  id bigint NOT NULL, at timestamptz NOT NULL, actor_id int NOT NULL, action text NOT NULL,
  detail text NOT NULL, amount numeric(14,4));
INSERT INTO audit_log
SELECT g, timestamptz '2020-01-01 00:00+00' + g * interval '90 seconds' + random() * interval '60 seconds',
       x.a, x.action,
       format('{{"actor":%s,"action":"%s","item":%s,"ip":"10.%s.%s.%s","ua":"%s","session":"%s","ok":%s}}',
              x.a, x.action, 1 + floor(random() * {nitems})::bigint, g % 7, floor(random() * 256)::int,
              floor(random() * 256)::int, {ua}, md5(random()::text), (random() > 0.03)::text),
       CASE WHEN g % 3 = 0 THEN round((random() * 1000)::numeric, 4) END
FROM generate_series(1, {n}) g, {vocab},
     LATERAL (SELECT 1 + floor(random() * {nusers})::int AS a, {act} AS action) x;
""".format(ua=_pick("v.ua", nu), act=_pick("v.act", na), nitems=counts["vault_items"], nusers=counts["users"],
           n=counts["audit_log"], vocab=_vocab()),
        # Notification mails rendered from 2000 templates of 40-200 words plus a per-row sentence: the
        # same paragraphs recur megabytes apart, as rendered mail, HTML and JSON documents do.
        "notifications": """
CREATE TABLE notifications (
  id bigint NOT NULL, user_id int NOT NULL, created_at timestamptz NOT NULL, channel text NOT NULL,
  subject text NOT NULL, body text NOT NULL, read_at timestamptz);
CREATE TEMP TABLE notification_templates AS
SELECT i, initcap({w1}) || ' ' || {w2} || ' ' || {w3} AS subject,
       array_to_string(ARRAY(SELECT {w} FROM generate_series(1, 40 + (i * 37) % 160) WHERE i > 0), ' ') AS body
FROM generate_series(0, 1999) i, {vocab};
INSERT INTO notifications
SELECT g, u, t, (ARRAY['email', 'email', 'push', 'sms'])[1 + g % 4], nt.subject || ' #' || (g % 10000),
       'Dear customer ' || u || E',\n\n' || nt.body || E'\n\n'
         || array_to_string(ARRAY(SELECT {w} FROM generate_series(1, 6 + g % 7)), ' ')
         || E'.\nAmount: ' || round((random() * 5000)::numeric, 2)
         || E' EUR\nDate: ' || t::date || E'\n\n-- \nVault notifications, do not reply.',
       CASE WHEN g % 3 > 0 THEN t + random() * interval '5 days' END
FROM generate_series(1, {n}) g CROSS JOIN {vocab}
     CROSS JOIN LATERAL (SELECT 1 + floor(random() * {nusers})::int AS u,
                                timestamptz '2019-01-01 00:00+00' + random() * interval '6 years' AS t,
                                floor(random() * 2000)::int AS ti) x
     JOIN notification_templates nt ON nt.i = x.ti;
""".format(w1=w(), w2=w(), w3=w(), w=w(), nusers=counts["users"], n=counts["notifications"], vocab=_vocab()),
    }


INDEXES = [
    # (table, SQL) - primary keys first: the foreign keys need them.
    ("users", "ALTER TABLE users ADD PRIMARY KEY (id)"),
    ("vault_items", "ALTER TABLE vault_items ADD PRIMARY KEY (id)"),
    ("file_blobs", "ALTER TABLE file_blobs ADD PRIMARY KEY (id)"),
    ("audit_log", "ALTER TABLE audit_log ADD PRIMARY KEY (id)"),
    ("notifications", "ALTER TABLE notifications ADD PRIMARY KEY (id)"),
    ("users", "CREATE UNIQUE INDEX users_email ON users (email)"),
    ("vault_items", "CREATE INDEX vault_items_vault_name ON vault_items (vault_id, name)"),
    ("vault_items", "CREATE INDEX vault_items_owner ON vault_items (owner_id)"),
    ("vault_items", "CREATE INDEX vault_items_created ON vault_items (created_at)"),
    ("vault_items", "CREATE INDEX vault_items_sha ON vault_items (content_sha256)"),
    ("vault_items", "CREATE UNIQUE INDEX vault_items_path ON vault_items (path)"),
    ("file_blobs", "CREATE INDEX file_blobs_item ON file_blobs (item_id, chunk_no)"),
    ("audit_log", "CREATE INDEX audit_log_at ON audit_log (at)"),
    ("audit_log", "CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at)"),
    ("notifications", "CREATE INDEX notifications_user_created ON notifications (user_id, created_at)"),
]
FOREIGN_KEYS = [
    "ALTER TABLE vault_items ADD CONSTRAINT vault_items_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id)",
    "ALTER TABLE file_blobs ADD CONSTRAINT file_blobs_item_fk FOREIGN KEY (item_id) REFERENCES vault_items (id)",
    "ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_fk FOREIGN KEY (actor_id) REFERENCES users (id)",
    "ALTER TABLE notifications ADD CONSTRAINT notifications_user_fk FOREIGN KEY (user_id) REFERENCES users (id)",
]

ROW_COUNT_SQL = ("SELECT " + ", ".join("(SELECT count(*) FROM %s)" % t for t in TABLES) + ";")
SHAPE_SQL = ("SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'),"
             " (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace);")


def _parallel(jobs):
    """Run callables on two threads (the generator's sessions); re-raise the first error."""
    errors = []

    def worker(queue):
        for job in queue:
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
    queues = [jobs[0::2], jobs[1::2]]
    threads = [threading.Thread(target=worker, args=(q,)) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def generate(cluster, database, size_gb, log=print):
    """Create database and fill it; returns facts (row counts, sizes, timings)."""
    import time
    counts = row_counts(size_gb)
    started = time.monotonic()
    cluster.psql('CREATE DATABASE "%s";' % database)
    cluster.psql("CREATE EXTENSION IF NOT EXISTS pgcrypto;", database)
    sql = table_sql(counts)
    # The big table alone on one session, the three others on the second: about balanced.
    _parallel([lambda: cluster.psql(sql["vault_items"], database),
               lambda: cluster.psql(sql["users"] + sql["file_blobs"] + sql["audit_log"] + sql["notifications"],
                                    database)])
    loaded = time.monotonic()
    log("  loaded %s in %.1f s" % (", ".join("%s=%d" % kv for kv in counts.items()), loaded - started))
    pks = [stmt for _t, stmt in INDEXES if "PRIMARY KEY" in stmt]
    others = [stmt for _t, stmt in INDEXES if "PRIMARY KEY" not in stmt]
    _parallel([lambda s=s: cluster.psql(s + ";", database) for s in pks])
    _parallel([lambda s=s: cluster.psql(s + ";", database) for s in others + FOREIGN_KEYS])
    indexed = time.monotonic()
    # Freeze and analyze now, so no sample pays for hint bits or autovacuum on the source.
    _parallel([lambda t=t: cluster.psql("VACUUM (FREEZE, ANALYZE) %s;" % t, database) for t in TABLES])
    cluster.psql("CHECKPOINT;")
    finished = time.monotonic()
    log("  indexed in %.1f s, vacuumed in %.1f s" % (indexed - loaded, finished - indexed))
    return facts(cluster, database, extra={
        "generation_seconds": {"load": round(loaded - started, 1), "index": round(indexed - loaded, 1),
                               "vacuum_checkpoint": round(finished - indexed, 1),
                               "total": round(finished - started, 1)},
        "size_gb_requested": size_gb})


def table_row_counts(cluster, database):
    values = cluster.psql(ROW_COUNT_SQL, database).split("|")
    return dict(zip(TABLES, (int(v) for v in values)))


def facts(cluster, database, extra=None):
    rows = cluster.psql(
        "SELECT pg_database_size(current_database()),"
        " (SELECT sum(pg_table_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace),"
        " (SELECT sum(pg_indexes_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace);",
        database).split("|")
    per_table = {}
    for line in cluster.psql(
            "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c"
            " WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY 1;", database).splitlines():
        name, table_size, index_size = line.split("|")
        per_table[name] = {"table_bytes": int(table_size), "index_bytes": int(index_size)}
    indexes, fks = cluster.psql(SHAPE_SQL, database).split("|")
    result = {"database": database, "database_bytes": int(rows[0]), "table_bytes": int(rows[1]),
              "index_bytes": int(rows[2]), "tables": per_table, "row_counts": table_row_counts(cluster, database),
              "indexes": int(indexes), "foreign_keys": int(fks)}
    result.update(extra or {})
    return result

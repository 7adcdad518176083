"""Fixtures for pg_backup integration tests: a database with the hard parts."""

import itertools

import pytest

_counter = itertools.count()

# Several schemas, sequences, identity columns, large objects, grants, a view,
# a function, and names with spaces, quotes and unicode.
RICH_SCHEMA = r"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN CREATE ROLE app_reader NOLOGIN; END IF;
END $$;
CREATE SCHEMA billing;
CREATE SCHEMA "audit trail";
CREATE TABLE billing.invoice (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric(12,2),
                              body bytea, created timestamptz DEFAULT now());
CREATE INDEX invoice_customer ON billing.invoice (customer);
INSERT INTO billing.invoice (customer, amount, body)
  SELECT 'customer ' || (g % 37), g * 1.25, decode(md5(g::text), 'hex') FROM generate_series(1, 2500) g;
CREATE SEQUENCE billing.invoice_no START 1000;
SELECT nextval('billing.invoice_no') FROM generate_series(1, 5);
CREATE TABLE "audit trail"."journal ✓ été" (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
INSERT INTO "audit trail"."journal ✓ été" (note) SELECT 'note "' || g || '" it''s' FROM generate_series(1, 321) g;
CREATE TABLE public.files (id int PRIMARY KEY, body oid);
INSERT INTO public.files SELECT g, lo_from_bytea(0, convert_to(repeat('blob ' || g, 50), 'UTF8'))
  FROM generate_series(1, 7) g;
CREATE VIEW billing.big_invoices AS SELECT id, amount FROM billing.invoice WHERE amount > 1000;
CREATE FUNCTION billing.total() RETURNS numeric LANGUAGE sql AS $f$ SELECT sum(amount) FROM billing.invoice $f$;
GRANT USAGE ON SCHEMA billing TO app_reader;
GRANT SELECT ON billing.invoice, billing.big_invoices TO app_reader;
COMMENT ON TABLE billing.invoice IS 'invoices ✓';
"""

ROW_COUNTS = r"""
SELECT format('SELECT %L || ''='' || count(*) FROM %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 \gexec
SELECT 'large_objects=' || count(*) || ':' || coalesce(md5(string_agg(md5(lo_get(oid)), ',' ORDER BY oid)), '')
FROM pg_largeobject_metadata;
SELECT 'invoice_no=' || last_value FROM billing.invoice_no;
"""


class Database(object):
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name

    def facts(self, name=None):
        """Per-table row counts, large objects and sequence state."""
        return self.cluster.psql(ROW_COUNTS, name or self.name).splitlines()

    def schema(self, name=None):
        import subprocess
        argv = ["pg_dump", "--schema-only", "-d", name or self.name]
        if self.cluster.os_user:
            argv = ["runuser", "-u", self.cluster.os_user, "--"] + argv
        out = subprocess.run(argv, capture_output=True, text=True, check=True, env=self.cluster.env()).stdout
        # \restrict lines carry a random key per run (PostgreSQL 15.14+); everything else must match.
        return [line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]


@pytest.fixture
def rich_db(pg_cluster):
    """A fresh database, named with a space, quotes and unicode."""
    name = "src %d ✓ \"q\" 'db'" % next(_counter)
    pg_cluster.psql('CREATE DATABASE :"n";', variables={"n": name})
    pg_cluster.psql(RICH_SCHEMA, name)
    return Database(pg_cluster, name)


@pytest.fixture
def new_db_name():
    return "restored %d ✓ 'x'" % next(_counter)


@pytest.fixture
def backup_dir(tmp_path):
    path = tmp_path / "back ups 'x' ✓"
    path.mkdir()
    return path

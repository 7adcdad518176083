# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a database whole: a scratch database created like it, then one renaming transaction.

CREATE/DROP DATABASE cannot run in a transaction block, but ALTER DATABASE ... RENAME can,
so the two renames commit together or not at all. Everything else a database carries outside
a pg_dump archive (owner, encoding, locale, tablespace, grants, ALTER DATABASE ... SET settings,
comment, connection limit) is copied from the target by SQL that the server quotes itself
(format with %I/%L, then \\gexec), and compared afterwards: any difference stops the restore
before the swap, with the target untouched.
"""

_CREATE_LIKE = r"""
SELECT format('CREATE DATABASE %I WITH TEMPLATE template0 OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TABLESPACE %I%s',
  :'scratch', pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, t.spcname,
  CASE WHEN to_jsonb(d) ->> 'datlocprovider' = 'i'
       THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale'))
       ELSE '' END)
FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = :'target' \gexec
"""

# After the restore: a connection limit of 0 or a read-only default must not stop pg_restore itself.
_CARRY_OVER = r"""
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'scratch') FROM pg_database
 WHERE datname = :'target' AND datacl IS NOT NULL
UNION ALL
SELECT format('REVOKE ALL ON DATABASE %I FROM %I', :'scratch', pg_get_userbyid(datdba)) FROM pg_database
 WHERE datname = :'target' AND datacl IS NOT NULL \gexec
SELECT format('GRANT %s ON DATABASE %I TO %s%s', a.privilege_type, :'scratch',
  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a WHERE d.datname = :'target' \gexec
SELECT format('ALTER %s SET %I TO %s',
  CASE WHEN s.setrole = 0 THEN format('DATABASE %I', :'scratch')
       ELSE format('ROLE %I IN DATABASE %I', pg_get_userbyid(s.setrole), :'scratch') END,
  split_part(c, '=', 1),
  -- list settings are stored as their SQL list form ("$user", public); the rest as one literal
  CASE WHEN split_part(c, '=', 1) IN ('search_path', 'temp_tablespaces', 'session_preload_libraries',
                                      'local_preload_libraries')
       THEN substr(c, strpos(c, '=') + 1) ELSE quote_literal(substr(c, strpos(c, '=') + 1)) END)
FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase CROSS JOIN LATERAL unnest(s.setconfig) c
WHERE d.datname = :'target' \gexec
SELECT format('COMMENT ON DATABASE %I IS %L', :'scratch', shobj_description(oid, 'pg_database')) FROM pg_database
 WHERE datname = :'target' AND shobj_description(oid, 'pg_database') IS NOT NULL
UNION ALL
SELECT format('ALTER DATABASE %I WITH CONNECTION LIMIT %s ALLOW_CONNECTIONS %s IS_TEMPLATE %s', :'scratch',
              datconnlimit, datallowconn::text, datistemplate::text) FROM pg_database
 WHERE datname = :'target' AND (datconnlimit <> -1 OR NOT datallowconn OR datistemplate) \gexec
"""

# Names of the properties that still differ (one line, empty when all match).
_DIFFERENCES = r"""
WITH a AS (SELECT * FROM pg_database WHERE datname = :'target'), b AS (SELECT * FROM pg_database WHERE datname = :'scratch')
SELECT concat_ws(', ',
  (SELECT string_agg(k, ', ') FROM unnest(ARRAY['datdba', 'encoding', 'datlocprovider', 'datcollate', 'datctype',
     'daticulocale', 'datlocale', 'daticurules', 'dattablespace', 'datconnlimit', 'datallowconn', 'datistemplate']) k
   WHERE (SELECT to_jsonb(a) -> k FROM a) IS DISTINCT FROM (SELECT to_jsonb(b) -> k FROM b)),
  CASE WHEN (SELECT array_agg(x::text ORDER BY x::text) FROM a, unnest(a.datacl) x)
       IS DISTINCT FROM (SELECT array_agg(x::text ORDER BY x::text) FROM b, unnest(b.datacl) x) THEN 'grants' END,
  CASE WHEN (SELECT array_agg(s.setrole::text || ':' || c ORDER BY 1) FROM a, pg_db_role_setting s, unnest(s.setconfig) c
             WHERE s.setdatabase = a.oid)
       IS DISTINCT FROM (SELECT array_agg(s.setrole::text || ':' || c ORDER BY 1) FROM b, pg_db_role_setting s,
                         unnest(s.setconfig) c WHERE s.setdatabase = b.oid) THEN 'settings' END,
  CASE WHEN (SELECT shobj_description(oid, 'pg_database') FROM a)
       IS DISTINCT FROM (SELECT shobj_description(oid, 'pg_database') FROM b) THEN 'comment' END);
"""

_SESSIONS = r"""
SELECT count(*) || '|' || coalesce(string_agg(DISTINCT coalesce(nullif(application_name, ''), '(none)'), ', '), '')
FROM pg_stat_activity WHERE datname = :'target' AND pid <> pg_backend_pid();
"""

_SWAP = """BEGIN;
ALTER DATABASE :"target" RENAME TO :"previous";
ALTER DATABASE :"scratch" RENAME TO :"target";
COMMIT;
"""


def other_sessions(conn, database, maintenance_db):
    """(count, application names) of the sessions connected to database, ours excluded."""
    rows = conn.psql(_SESSIONS, maintenance_db, variables={"target": database}, action="connect")
    count, applications = rows[0].split("|", 1)
    return int(count), applications


def create_like(conn, database, scratch, maintenance_db):
    conn.psql(_CREATE_LIKE, maintenance_db, variables={"target": database, "scratch": scratch},
              action="create the scratch database %s" % scratch)


def carry_over(conn, database, scratch, maintenance_db):
    """Copy the database-level properties; returns the names of those that still differ."""
    names = {"target": database, "scratch": scratch}
    conn.psql(_CARRY_OVER, maintenance_db, variables=names, action="copy the grants and settings of %s" % database)
    rows = conn.psql(_DIFFERENCES, maintenance_db, variables=names, action="compare %s with its copy" % database)
    return rows[0] if rows else ""


def swap(conn, database, scratch, previous, maintenance_db):
    conn.psql(_SWAP, maintenance_db, variables={"target": database, "scratch": scratch, "previous": previous},
              action="swap the restored database in")


def drop(conn, database, maintenance_db):
    conn.psql('DROP DATABASE IF EXISTS :"name";\n', maintenance_db, variables={"name": database},
              action="drop database %s" % database)


def drop_role(conn, role, maintenance_db):
    conn.psql('DROP ROLE IF EXISTS :"name";\n', maintenance_db, variables={"name": role},
              action="drop role %s" % role)

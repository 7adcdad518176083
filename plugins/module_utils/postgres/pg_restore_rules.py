# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of an all-or-nothing pg_restore: which mechanism, which roles, what an error means.

Pure functions (no I/O), each with a unit test in tests/unit/plugins/module_utils/postgres/test_pg_restore_rules.py.
"""

import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

NAME_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names, which would break the swap

MECHANISMS = {
    "create": "create the database, restore into it, and drop it again if the restore fails",
    "transaction": "restore in one transaction (--clean --if-exists --single-transaction): a failure rolls back to"
                   " the database as it was",
    "swap": "restore into a scratch database created like the target, and swap names in one transaction only when"
            " it is complete (the previous database is dropped after)",
}


def choose_mechanism(database, exists, replace, jobs, single_transaction=None):
    """How a restore stays all-or-nothing.

    A new database is simply dropped on failure. An existing one is restored either in one
    transaction (replace=objects, one job) or into a scratch database that replaces it whole
    (replace=database, any number of jobs). Parallel jobs commit per worker, so they cannot
    restore objects in place atomically and are refused there.
    """
    if not exists:
        return "create"
    if replace == "database":
        return "swap"
    if jobs > 1:
        raise RecoveryError(
            "jobs: %d cannot restore into the existing database %s all-or-nothing with replace: objects: pg_restore's"
            " parallel workers each commit on their own connection, and --single-transaction needs one connection."
            " Nothing was changed." % (jobs, database),
            fix="use jobs: 1 (the restore then runs in one transaction), or replace: database to restore with parallel"
                " jobs into a scratch database that replaces the target only when it is complete.")
    if single_transaction is False:
        raise RecoveryError(
            "single_transaction: false is refused for a restore into the existing database %s: outside one"
            " transaction a failure part way leaves the objects it dropped gone or empty. Nothing was changed."
            % database,
            fix="remove single_transaction (a restore into an existing database always runs in one transaction),"
                " or use replace: database.")
    return "transaction"


def restore_argv(pg_restore, dbname, jobs, clean, single_transaction, no_owner, exit_on_error):
    """pg_restore's argv (without the archive)."""
    argv = [pg_restore, "--no-password", "--dbname=%s" % dbname, "--jobs=%d" % jobs]
    if clean:
        argv += ["--clean", "--if-exists"]
    if single_transaction:
        argv.append("--single-transaction")  # implies --exit-on-error
    if no_owner:
        argv.append("--no-owner")
    if exit_on_error and not single_transaction:
        argv.append("--exit-on-error")
    return argv


def utf8_prefix(text, limit):
    """The longest prefix of text that fits in limit bytes of UTF-8, never splitting a character."""
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", "ignore")


def scratch_name(database, pid, kind="restore"):
    """A recognisable name for the scratch (or previous) database, at most 63 bytes."""
    suffix = ".vaultops-%s-%d" % (kind, pid)
    return utf8_prefix(database, NAME_BYTES - len(suffix.encode("utf-8"))) + suffix


_IDENT = r'"(?:[^"]|"")*"|[^\s",;()]+'
_IDENT_LIST = r"(?:%s)(?:, (?:%s))*" % (_IDENT, _IDENT)
_ROLE_LINES = (
    ("owner", re.compile(r"^ALTER .+ OWNER TO (%s);$" % _IDENT_LIST)),
    ("grant", re.compile(r"^GRANT .+? TO (%s)(?: WITH (?:GRANT|ADMIN) OPTION)?;$" % _IDENT_LIST)),
    ("grant", re.compile(r"^REVOKE .+? FROM (%s);$" % _IDENT_LIST)),
    ("default privileges", re.compile(r"^ALTER DEFAULT PRIVILEGES FOR ROLE (%s) " % _IDENT)),
)


def _unquote(identifier):
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def roles_in_sql(sql):
    """Roles that pg_restore's SQL (--schema-only -f -) names as owners or grantees: {role: set of uses}."""
    roles = {}
    for line in sql.splitlines():
        for use, pattern in _ROLE_LINES:
            match = pattern.match(line)
            if not match:
                continue
            for identifier in re.findall(_IDENT, match.group(1)):
                if identifier != "PUBLIC":  # the pseudo-role everyone belongs to, written unquoted
                    roles.setdefault(_unquote(identifier), set()).add(use)
            break
    return roles


def missing_roles(needed, existing, created=None):
    """[(role, uses)] of the roles the archive needs that the target lacks, sorted by name."""
    return [(role, sorted(needed[role])) for role in sorted(needed) if role not in existing and role != created]


def missing_roles_error(missing, where):
    described = ", ".join("%s (%s)" % (role, ", ".join(uses)) for role, uses in missing)
    return RecoveryError(
        "the archive's objects need roles that do not exist at %s: %s. Roles are not part of a database dump."
        " Nothing was changed." % (where, described),
        fix="create them on the target first (CREATE ROLE ...), set owner: <role> when it is the database owner's"
            " role (it is then created), or use no_owner: true so the connecting login owns the objects (grants"
            " still need their roles).", missing_roles=[role for role, _uses in missing])


def sessions_error(database, count, applications):
    return RecoveryError(
        "replace: database needs the database %s to itself, but %d other session(s) are connected to it"
        " (application_name: %s). Nothing was changed." % (database, count, applications or "none set"),
        fix="stop the services that use the database (and close other clients) before the restore, then run it"
            " again.")


def first_error(stderr):
    """The first error line of a tool's stderr, with the statement or context line that follows it."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if re.search(r"error", line, re.IGNORECASE):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith(("Command was:", "CONTEXT:", "DETAIL:")):
                line = "%s (%s)" % (line, following)
            return line[:600]
    return (lines[0] if lines else "no message")[:600]


_SETTING_REFUSED = re.compile(
    r'(invalid value for parameter|unrecognized configuration parameter|permission denied to set parameter'
    r'|parameter "[^"]+" cannot be (?:changed|set))[^\n]*')
_CONNECTION = re.compile(r"connection to server .* failed|could not connect to server", re.IGNORECASE)
_MISSING_ROLE = re.compile(r'could not execute query: ERROR:\s+role "((?:[^"]|"")*)" does not exist')
_LOCKS = re.compile(r"out of shared memory|max_locks_per_transaction")
_CORRUPT = re.compile(
    r"could not uncompress data|could not read from input file|unexpected end of file|invalid byte sequence"
    r"|COPY failed for table|Decoding error|Corrupted block|Unknown frame descriptor|could not find block ID"
    r"|unrecognized data block type|did not find magic string|invalid stored block lengths|incorrect data check"
    r"|extra data after last expected column|missing data for column|invalid input syntax")
_SESSIONS = re.compile(r"is being accessed by other users")


def classify_restore_failure(stderr):
    """(message, fix) for what pg_restore (or a stage feeding it) reported, or None for a connection problem."""
    setting = _SETTING_REFUSED.search(stderr)
    if setting:
        return ("the server refused restore_session_settings: %s." % setting.group(0).strip(),
                "correct or remove that setting in restore_session_settings.")
    if _CONNECTION.search(stderr):
        return None  # who cannot log in where: the connection rules know
    role = _MISSING_ROLE.search(stderr)
    if role:
        return ("the archive needs the role %s, which does not exist on the target: %s." % (
            role.group(1).replace('""', '"'), first_error(stderr)),
            "create the role on the target first (roles are not part of a database dump), set owner: <role> when it"
            " is the database owner's role, or use no_owner: true for objects it owns.")
    if _LOCKS.search(stderr):
        return ("the server ran out of lock slots for the one transaction the restore runs in: %s." % (
            first_error(stderr)),
            "raise max_locks_per_transaction on the server (a restart is needed), or use replace: database, which"
            " restores without one big transaction.")
    if _CORRUPT.search(stderr):
        return ("the archive's content is damaged: %s." % first_error(stderr),
                "the archive matches the SHA-256 in its manifest, so its bytes were damaged before it was sealed"
                " (or the manifest was rewritten afterwards): restore another backup, and check the host and"
                " storage that wrote this one.")
    if _SESSIONS.search(stderr):
        return ("another session connected to the database while it was being replaced: %s." % first_error(stderr),
                "stop the services that use the database before the restore, then run it again.")
    return None


def failure_state(mechanism, database, dropped, left):
    """(target_state, changed) after a failed restore.

    dropped and left are [(kind, name)] of what this run created and then dropped, or could not drop.
    """
    if mechanism == "transaction":
        state = "unchanged: the restore ran in one transaction that PostgreSQL rolled back"
    elif mechanism == "swap":
        state = "unchanged: the restore went into a scratch database and the names were never swapped"
    elif ("database", database) in left:
        state = "database %s, which this run created, is left with a partial restore" % database
    else:
        state = "database %s does not exist, as before the run" % database

    def names(items):
        return ", ".join("%s %s" % item for item in items)
    if dropped:
        state += "; this run dropped what it had created (%s)" % names(dropped)
    if left:
        state += "; this run could NOT drop what it created, drop it by hand: %s" % names(left)
    return state, bool(left)

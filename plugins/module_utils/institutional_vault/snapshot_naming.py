# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of managed-database snapshots, backups and renamed instances, and the timestamps recorded with them.

A name comes from a pattern: ``{instance}`` and ``{purpose}`` are replaced, then ``strftime`` codes by the UTC time.
Both RDS identifiers and Azure backup/server names accept letters, digits and single hyphens, starting with a letter,
so one rule serves both providers.
"""

import datetime
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

_VALID = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$")
MAX_LENGTH = 63


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def render(pattern, option, now, **fields):
    """The name made from `pattern` (named by `option` in errors) at `now`."""
    try:
        name = now.strftime(pattern.format(**fields))
    except (KeyError, IndexError, ValueError) as exc:
        raise RecoveryError("%s %r cannot be filled in (%s)." % (option, pattern, exc),
                            fix="use only {instance}, {purpose} and strftime codes such as %%Y%%m%%d-%%H%%M%%S in %s."
                                % option)
    return check(name, option)


def requested_name(params, now):
    """The snapshot or backup name: snapshot_name when given, else made from name_pattern."""
    if params.get("snapshot_name"):
        return check(params["snapshot_name"], "snapshot_name")
    return render(params["name_pattern"], "name_pattern", now, instance=params["instance"], purpose=params["purpose"])


def check(name, option):
    if not _VALID.match(name) or name.endswith("-") or len(name) > MAX_LENGTH:
        raise RecoveryError("%r (from %s) is not a valid snapshot or instance name." % (name, option),
                            fix="use 1-%d letters, digits and single hyphens, starting with a letter and not ending"
                                " with a hyphen, in %s." % (MAX_LENGTH, option))
    return name


def iso(moment):
    """ISO 8601 in UTC with a Z, or None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def parse_time(text, option):
    """An aware UTC datetime from ISO 8601 (a trailing Z allowed; no zone means UTC)."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RecoveryError("%s %r is not an ISO 8601 time." % (option, text),
                            fix="write it like 2026-11-21T10:15:00Z.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)

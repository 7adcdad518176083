# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What may be written as DB_HOST, DB_PORT and DB_NAME: checked before any secret is read.

A db-info secret with a port of 99999 or a host with a space or a newline in it
points every service at nothing, and the services only find out when they
restart. DB_HOST is a DNS host name (RFC 1123: labels of 1 to 63 letters,
digits and hyphens, not starting or ending with a hyphen, 253 characters in
all, an optional trailing dot) or an IPv4 or IPv6 address. IPv6 is written
bare (fd00::5), the form libpq's host parameter takes; brackets belong to URLs
and are refused. DB_PORT is 1 to 65535. DB_NAME is a PostgreSQL database name:
1 to 63 bytes, no control characters.
"""

import ipaddress
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

MAX_HOST_LENGTH = 253
MAX_DB_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1; a longer name is silently truncated by the server
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _ip_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_problem(host):
    """None when host is a DNS host name or an IP address, else what is wrong with it."""
    if _ip_literal(host):
        return None
    if host.startswith("[") and host.endswith("]") and _ip_literal(host[1:-1]):
        return "%r is an IPv6 address in brackets; write it bare (%s)" % (host, host[1:-1])
    name = host[:-1] if host.endswith(".") else host
    if not name:
        return "%r is empty" % host
    if len(name) > MAX_HOST_LENGTH:
        return "%r is %d characters long; a host name has at most %d" % (host, len(name), MAX_HOST_LENGTH)
    bad = [label for label in name.split(".") if not _LABEL.fullmatch(label)]
    if bad:
        return ("%r is not a host name: label %r is not 1 to 63 letters, digits and hyphens starting and ending"
                " with a letter or digit" % (host, bad[0]))
    if name.rsplit(".", 1)[-1].isdigit():
        return "%r looks like an IPv4 address but is not one" % host
    return None


def port_problem(port):
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return "%r is not a TCP port (1 to 65535)" % (port,)
    return None


def db_name_problem(name):
    if not name:
        return "%r is empty" % name
    if _CONTROL.search(name):
        return "%r holds a control character (newline, NUL, tab...)" % name
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_DB_NAME_BYTES:
        return "%r is %d bytes; PostgreSQL database names have at most %d (longer ones are cut)" % (
            name, size, MAX_DB_NAME_BYTES)
    return None


_RULES = (
    ("db_host", host_problem, "a DNS host name such as db.example.internal or an IP address such as 10.0.0.5 or"
                              " fd00::5"),
    ("db_port", port_problem, "a port from 1 to 65535, usually 5432"),
    ("db_name", db_name_problem, "the database's name as PostgreSQL knows it, for example wallet"),
)


def check_connection(host, port=None, name=None):
    """Refuse, in one error naming every bad option, a DB_HOST/DB_PORT/DB_NAME that must not be written."""
    values = dict(db_host=host, db_port=port, db_name=name)
    problems, fixes = [], []
    for option, rule, wanted in _RULES:
        if values[option] is None:
            continue
        problem = rule(values[option])
        if problem:
            problems.append("%s %s" % (option, problem))
            fixes.append("pass as %s %s" % (option, wanted))
    if problems:
        raise RecoveryError("%s. No secret was read or written." % "; ".join(problems), fix="; ".join(fixes) + ".")

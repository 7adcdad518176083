# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and rewrite the connection keys of a db-info secret without touching anything else in its text.

A db-info secret is a JSON object such as {"DB_HOST": "...", "DB_PORT": 5432,
"DB_NAME": "...", "DB_USER": "...", "DB_PASSWORD": "..."}. Only DB_HOST is
documented; every other key must survive byte for byte. A json.loads +
json.dumps round trip may reorder keys, re-escape unicode or turn 1e3 into
1000.0, so the top-level object is scanned for the spans of its values and
only the spans of the keys being changed are replaced.

Error messages name the secret and the problem, never its text: the text
holds passwords.
"""

import json
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

HOST, PORT, NAME = "DB_HOST", "DB_PORT", "DB_NAME"
CONNECTION_KEYS = (HOST, PORT, NAME)
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
# Keys whose values are masked from every output, besides the whole text (belt and braces over no_log).
_SECRET_KEY = re.compile(r"(?i)pass|secret|token|key|pwd|cred")


class Member(object):
    """One top-level member: its key, its parsed value and where the value's text is."""

    def __init__(self, key, value, start, end):
        self.key, self.value, self.start, self.end = key, value, start, end


class DbInfo(object):
    """The parsed top-level object of one secret, with the spans needed to rewrite it."""

    def __init__(self, secret_name, text, members):
        self.secret_name = secret_name
        self.text = text
        self.members = members
        self.by_key = dict((member.key, member) for member in members)

    @property
    def connection(self):
        """{"host", "port", "name"} as stored (port as a string, None for absent keys): safe to print."""
        def shown(key):
            member = self.by_key.get(key)
            return None if member is None else str(member.value)
        return {"host": shown(HOST), "port": shown(PORT), "name": shown(NAME)}

    def sensitive_values(self):
        """Strings to mask from any output: the whole text and every string value of a secret-looking key."""
        values = [self.text]
        for member in self.members:
            if member.key not in CONNECTION_KEYS and _SECRET_KEY.search(member.key) and isinstance(member.value, str):
                values.append(member.value)
        return [value for value in values if value]

    def with_connection(self, host=None, port=None, db_name=None):
        """The text with DB_HOST/DB_PORT/DB_NAME replaced where given; every other byte unchanged.

        A value keeps its JSON type: a port stored as a number stays a number.
        Returns the text unchanged when nothing differs.
        """
        wanted = [(key, value) for key, value in ((HOST, host), (PORT, port), (NAME, db_name)) if value is not None]
        edits = []
        for key, value in wanted:
            member = self.by_key.get(key)
            if member is None:
                raise RecoveryError("Secret %s has no %s key." % (self.secret_name, key),
                                    fix="leave the %s option unset for it; the module changes existing keys only."
                                        % ("db_port" if key == PORT else "db_name"), secret=self.secret_name)
            new_value = _typed_like(member.value, value, key, self.secret_name)
            if new_value != member.value or type(new_value) is not type(member.value):
                edits.append((member, json.dumps(new_value, ensure_ascii=False)))
        text = self.text
        for member, encoded in sorted(edits, key=lambda edit: edit[0].start, reverse=True):
            text = text[:member.start] + encoded + text[member.end:]
        if edits:
            _prove_only_connection_changed(self, text)
        return text


def _typed_like(old, value, key, secret_name):
    if key == PORT and isinstance(old, int) and not isinstance(old, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise RecoveryError("db_port %r is not a number, but %s stores %s as a number." % (
                value, secret_name, PORT), fix="pass db_port as a number such as 5432.")
    if isinstance(old, str):
        return str(value)
    raise RecoveryError("%s in secret %s is not a string%s." % (key, secret_name, " or a number" if key == PORT else ""),
                        fix="correct the secret by hand; the module only replaces string values.",
                        secret=secret_name)


def _prove_only_connection_changed(info, new_text):
    """The new text parses, and differs from the old only in the connection keys (a guard against scanner bugs)."""
    old, new = json.loads(info.text), json.loads(new_text)
    if set(old) != set(new) or any(old[key] != new[key] for key in old if key not in CONNECTION_KEYS):
        raise RecoveryError("Rewriting %s would change more than its connection keys; nothing was written."
                            % info.secret_name, fix="report this as a bug of vaultops.recovery.")


def parse(secret_name, text):
    """A DbInfo, or a RecoveryError naming the secret and what is wrong (never its content)."""
    def refuse(problem):
        return RecoveryError("Secret %s %s; no secret was changed." % (secret_name, problem),
                             fix="correct that secret (it must be a JSON object with a DB_HOST string), or leave"
                                 " its service out of the services option.", secret=secret_name)
    if not isinstance(text, str):
        raise refuse("has no text value (a binary secret?)")
    try:
        members = _scan_object(text)
    except ValueError as exc:
        # The message of a JSON error holds positions only; the text itself is never quoted.
        raise refuse("is not a JSON object (%s)" % _position_only(exc))
    keys = [member.key for member in members]
    duplicates = sorted(set(key for key in keys if keys.count(key) > 1 and key in CONNECTION_KEYS))
    if duplicates:
        raise refuse("has %s more than once" % ", ".join(duplicates))
    info = DbInfo(secret_name, text, members)
    host = info.by_key.get(HOST)
    if host is None:
        raise refuse("has no DB_HOST key")
    if not isinstance(host.value, str) or not host.value:
        raise refuse("has a DB_HOST that is not a non-empty string")
    return info


def _position_only(exc):
    if isinstance(exc, json.JSONDecodeError):
        return "%s at line %d column %d" % (exc.msg, exc.lineno, exc.colno)
    return str(exc)


def _skip(text, index):
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _expect(text, index, char):
    if index >= len(text) or text[index] != char:
        raise json.JSONDecodeError("Expecting %r" % char, text, index)
    return index + 1


def _scan_object(text):
    """The members of the top-level object, each with the span of its value's text."""
    members = []
    index = _expect(text, _skip(text, 0), "{")
    index = _skip(text, index)
    if index < len(text) and text[index] == "}":
        index += 1
    else:
        while True:
            index = _expect(text, _skip(text, index), '"')
            key, index = json.decoder.scanstring(text, index)
            index = _expect(text, _skip(text, index), ":")
            start = _skip(text, index)
            value, end = _DECODER.raw_decode(text, start)
            members.append(Member(key, value, start, end))
            index = _skip(text, end)
            if index < len(text) and text[index] == ",":
                index += 1
                continue
            index = _expect(text, index, "}")
            break
    if _skip(text, index) != len(text):
        raise json.JSONDecodeError("Extra data", text, _skip(text, index))
    return members

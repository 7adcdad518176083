# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse ``vh vault sync info <vault>``: ``Label: value`` lines, the last one ``State``."""

import re

_LINE = re.compile(r"^([A-Za-z][A-Za-z /-]*?):\s+(.*)$")


def parse(text):
    """{label: value} of the output's ``Label: value`` lines (other lines are ignored)."""
    fields = {}
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return fields


def in_sync(fields):
    """True when State says the vault is in sync; vh exits 0 also when it is not."""
    return fields.get("State", "").lower() == "in sync"

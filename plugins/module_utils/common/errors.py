# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception type for every failure an operator can act on."""


class RecoveryError(Exception):
    """What went wrong and, where we know it, the fix.

    Modules turn it into a single ``fail_json`` message, so every bad input
    produces one clear line instead of a traceback.
    """

    def __init__(self, message, fix=None, **facts):
        super(RecoveryError, self).__init__(message)
        self.message = message
        self.fix = fix
        self.facts = facts

    def __str__(self):
        if self.fix:
            return "%s Fix: %s" % (self.message, self.fix)
        return self.message

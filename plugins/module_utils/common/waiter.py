# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a condition with a deadline that is honoured, polling it.

``wait_until(probe, what, timeout, timeout_option, interval)`` calls ``probe()`` until it returns
``(True, state, value)`` and then returns ``value``; ``probe`` returns ``(False, state, None)`` while it is not
there yet and raises a RecoveryError itself for a state that can never get there (failed, deleted). After
``timeout`` seconds the wait fails with a message naming the last state and ``timeout_option``. The clock and the
sleep are parameters so that unit tests prove the deadline without sleeping.
"""

import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def wait_until(probe, what, timeout, timeout_option, interval, clock=time.monotonic, sleep=time.sleep):
    started = clock()
    deadline = started + timeout
    while True:
        done, state, value = probe()
        if done:
            return value
        now = clock()
        if now >= deadline:
            raise RecoveryError(
                "%s did not finish within %s seconds (last state: %s)." % (what, timeout, state),
                fix="raise %s if the operation is just slow, or look at it in the provider's console; nothing was"
                    " rolled back and the operation may still finish." % timeout_option,
                timed_out=True, last_state=state)
        sleep(max(0.0, min(interval, deadline - now)))

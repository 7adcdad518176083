"""Waiting on a condition in tests: poll it until it holds or a deadline passes (never a bare sleep as a wait)."""

import os
import time


def wait_for(condition, timeout=20, what="the condition", interval=0.05):
    """Poll ``condition`` until it returns something true and return that; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(interval)  # the polling interval


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

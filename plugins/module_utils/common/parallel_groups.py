# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run independent groups of work on a few threads, stopping at the first failure.

Network-bound copies spend most of their time waiting, so a few threads
multiply throughput. Work inside one group stays in order (the versions of
one key). Submission is bounded, so millions of groups do not become
millions of pending futures. After a failure no new group starts; the ones
running finish, then the first failure is raised.
"""

import threading
from concurrent.futures import ThreadPoolExecutor


def run_groups(groups, work, workers):
    """[work(group) for group in groups], computed on up to `workers` threads, in group order."""
    groups = list(groups)
    results = [None] * len(groups)
    if workers <= 1 or len(groups) <= 1:
        for position, group in enumerate(groups):
            results[position] = work(group)
        return results
    stop = threading.Event()
    failures = []
    slots = threading.BoundedSemaphore(workers * 2)

    def guarded(position, group):
        try:
            if not stop.is_set():
                results[position] = work(group)
        except BaseException as exc:  # pylint: disable=broad-except
            failures.append(exc)
            stop.set()
        finally:
            slots.release()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for position, group in enumerate(groups):
            slots.acquire()
            if stop.is_set():
                slots.release()
                break
            pool.submit(guarded, position, group)
    if failures:
        raise failures[0]
    return results

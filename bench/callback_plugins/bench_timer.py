# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: per-task wall time and result, written as JSON.

Enabled by bench/pg_backup_bench.py through ANSIBLE_CALLBACK_PLUGINS and
ANSIBLE_CALLBACKS_ENABLED; the output path comes from VAULTOPS_BENCH_TIMER_OUT.
A task's time runs from the executor starting it to its result arriving, so
it includes module packaging, the module's Python start-up and its work,
but not ansible-playbook's own start-up (inventory, parsing, plugin loading).
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Record per-task durations and results for bench/pg_backup_bench.py
description: Writes the tasks of a playbook run, with monotonic start/end times, to VAULTOPS_BENCH_TIMER_OUT.
requirements:
  - enabled through ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._tasks = []
        self._current = None
        self._play_started = time.monotonic()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._current = {"name": task.get_name(), "start": time.monotonic(), "action": task.action,
                         "delegated": bool(task.delegate_to)}
        self._tasks.append(self._current)

    def _finish(self, result, status):
        entry = self._current
        if entry is None:
            return
        entry["end"] = time.monotonic()
        entry["duration"] = round(entry["end"] - entry["start"], 3)
        entry["status"] = status
        data = dict(result._result)
        data.pop("invocation", None)
        entry["result"] = data

    def v2_runner_on_ok(self, result):
        self._finish(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("VAULTOPS_BENCH_TIMER_OUT")
        if not path:
            return
        with open(path, "w") as handle:
            json.dump({"tasks": self._tasks, "play_started": self._play_started,
                       "play_ended": time.monotonic()}, handle, default=str)

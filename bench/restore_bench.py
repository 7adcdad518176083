# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recovery time of playbooks/restore.yml against the bare commands it runs.

Run it through bench/restore.sh. One run, on one lab host (a podman container):

1. scripts/vaulthalla-lab.sh up with --data-mb of vault bodies, then a table
   ``bench_payload`` (owner vaulthalla) grown until database vaulthalla is
   --db-mb on disk;
2. playbooks/backup.yml takes a recovery set (fetched under .tmp/bench-restore);
3. rounds, each after destroying the host's data as
   extensions/molecule/shared/destroy_data.yml does (except ``intact``):
   ``bare`` commands then ``safety`` restore.yml (default, safety copy on),
   ``bare`` again then ``nosafety`` restore.yml with
   vaulthalla_restore_safety_copy=false, and ``intact`` restore.yml over the
   restored host, where the safety copy has a full host to copy (on a
   destroyed host it copies almost nothing);
4. bare commands on the same staged artifacts inside the container:
   ``zstd -dc <config-state> | tar -xpf - -C <scratch>`` and
   ``zstd -dc <db dump> | pg_restore -d <scratch db> --no-owner`` (one job);
5. writes bench/results/restore-<UTC>.json and prints the table.

Per-task times come from bench/callback_plugins/bench_timer.py; a task's time
runs from its start to the next task's start, so includes and skipped tasks
are counted in the step they belong to and the steps add up to the play.
It is a benchmark, not a test: it exits 1 when a restore fails, never because
a goal is missed.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "tests"))

from support.collection import collections_root  # noqa: E402

GOAL = 1.15
STAGING = "/var/backups/vaultops"
SCRATCH_DIR = "/var/tmp/vh-bench-scratch"
SCRATCH_DB = "vh_bench_scratch"

RESTORE_STEP = "database restore | files meanwhile"
# Step of a task, by the start of its name (role tasks are "<role> : <name>").
# Tasks not listed belong to the step of the task before them (rehearsal stops, includes).
STEPS = [
    ("verify", ["Run the vaulthalla_restore role", "Refuse a restore without", "Decide where the artifacts",
                "Refuse a signed set", "Verify the set's completeness", "Read the set's manifest"]),
    ("read target", ["Read the target ("]),
    ("preflight", ["Compare the target", "Decide the version rule", "Refuse a target", "Refuse to move",
                   "Refuse a swtpm set", "Find which parts", "Refuse a set whose", "Decide whether the database password",
                   "Refuse a reseed", "Show the restore plan"]),
    ("stage", ["Point at the host's copy", "Verify every SHA-256 of the host's copy", "Create a private staging directory",
               "Remember the staging directory", "Copy each artifact"]),
    ("stop", ["Record the starting point", "Stop the services"]),
    ("safety copy", ["Create the safety copy directory", "Safety copy of"]),
    # The database restore runs in the background while the file steps run; this step spans all of it.
    (RESTORE_STEP, ["Enter the database step", "Create the owner role", "Restore PostgreSQL", "Enter the config step",
                    "Restore /etc/vaulthalla and /var/lib/vaulthalla", "Enter the swtpm step", "Restore the swtpm state",
                    "Fill missing or empty S3/R2", "Enter the bucket step", "Restore each S3/R2",
                    "Enter the step that waits", "Wait for the PostgreSQL restore",
                    "Collect the PostgreSQL restore"]),
    ("reseed", ["Reseed the database password", "Enter the reseed step", "Check that the secret export",
                "Take db-password", "Keep the owner role's", "Give the owner role", "Create /run/vaulthalla",
                "Write the database password"]),
    ("start+checks", ["Enter the start step", "Start the services", "Wait for vh status"]),
    ("record", ["Describe the restore", "Record the restore in the recovery log",
                "Tell syslog", "Remove the staged copy", "List the restored hosts", "Fail the run when"]),
]
STEP_NAMES = [step[0] for step in STEPS]
# The step that does what the bare commands do (plus the swtpm state and buckets, which the bare commands do not).
MATCHING_STEPS = (RESTORE_STEP,)


def log(message):
    print("restore-bench: %s" % message, file=sys.stderr, flush=True)


def run(argv, env=None, capture=True, check=True, stdin=None):
    proc = subprocess.run(argv, env=env, input=stdin, text=True, check=False,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if check and proc.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s\n%s" % (
            proc.returncode, " ".join(shlex.quote(a) for a in argv), proc.stdout or "", proc.stderr or ""))
    return proc


def machine_state():
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    return {"at": utc_now(), "uptime": run(["uptime"]).stdout.strip(), "load_average": [float(x) for x in load]}


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab(object):
    """The lab host: podman exec into it, ansible-playbook against it (over SSH or podman exec)."""

    def __init__(self, args, work):
        self.container = args.container
        self.connection = args.connection
        self.venv = args.venv
        self.work = work
        self.gnupghome = os.path.join(work, "gnupg")
        self.inventory = None
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
        self.lab_env = dict(os.environ, VH_LAB_CONTAINER=self.container, VH_LAB_GNUPGHOME=self.gnupghome,
                            VENV=self.venv, VH_LAB_DATA_MB=str(args.data_mb))
        self.podman_inventory = None
        self.ssh_port = None
        if self.connection == "ssh":
            # sshd in the container, reached on a port published on 127.0.0.1 (never the bridge address)
            self.ssh_port = free_port()
            self.lab_env["VH_LAB_PODMAN_ARGS"] = "-p 127.0.0.1:%d:22" % self.ssh_port

    def up(self):
        started = time.monotonic()
        with open(os.path.join(self.work, "lab-up.log"), "w") as progress:
            proc = subprocess.run([os.path.join(REPO, "scripts", "vaulthalla-lab.sh"), "up"], env=self.lab_env,
                                  stdout=subprocess.PIPE, stderr=progress, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit("lab host did not come up, see %s" % os.path.join(self.work, "lab-up.log"))
        self.inventory = self.podman_inventory = proc.stdout.strip().splitlines()[-1]
        if self.connection == "ssh":
            self.inventory = self.ssh_inventory()
        log("lab host %s up in %.0f s (inventory %s)" % (self.container, time.monotonic() - started, self.inventory))

    def ssh_inventory(self):
        """The lab inventory with OpenSSH and pipelining instead of podman exec: what an operator's inventory uses.

        Ansible's default ssh_args already keep a ControlPersist master, so only the first task pays the handshake.
        """
        import yaml  # PyYAML comes with ansible-core in the same virtualenv
        self.sh("command -v sshd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                "apt-get install -y -qq --no-install-recommends openssh-server >/dev/null; }")
        key = os.path.join(self.work, "ssh_key")
        if not os.path.exists(key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vaultops-bench", "-f", key])
        with open(key + ".pub") as handle:
            self.sh("install -d -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys && "
                    "chmod 0600 /root/.ssh/authorized_keys && systemctl enable --now ssh >/dev/null 2>&1 && "
                    "systemctl is-active ssh", stdin=handle.read())
        with open(self.podman_inventory) as handle:
            inventory = yaml.safe_load(handle)
        common = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        for group in inventory.values():
            for host_vars in (group.get("hosts") or {}).values():
                host_vars.update(ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=self.ssh_port,
                                 ansible_user="root", ansible_ssh_private_key_file=key,
                                 ansible_ssh_common_args=common, ansible_pipelining=True)
        path = os.path.join(self.work, "inventory-ssh.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(inventory, handle, allow_unicode=True)
        probe = ["ssh", "-p", str(self.ssh_port), "-i", key, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"] + \
            common.split() + ["root@127.0.0.1", "true"]
        deadline = time.monotonic() + 60
        while run(probe, check=False).returncode != 0:  # sshd listens a moment after systemctl returns
            if time.monotonic() > deadline:
                raise SystemExit("sshd in %s does not answer on 127.0.0.1:%d" % (self.container, self.ssh_port))
            time.sleep(0.5)
        return path

    def down(self):
        run([os.path.join(REPO, "scripts", "vaulthalla-lab.sh"), "down", "--purge"], env=self.lab_env, check=False)

    def sh(self, script, check=True, stdin=None):
        argv = ["podman", "exec"] + (["-i"] if stdin is not None else []) + [self.container, "bash", "-c", script]
        return run(argv, check=check, stdin=stdin)

    def psql(self, sql, database="vaulthalla"):
        return self.sh("runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -d %s" % database, stdin=sql).stdout

    def playbook(self, playbook, extra_vars, log_name, timer_out=None, inventory=None):
        env = dict(self.env)
        if timer_out:
            env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH_DIR, "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_timer", VAULTOPS_BENCH_TIMER_OUT=timer_out)
        argv = [os.path.join(self.venv, "bin", "ansible-playbook"), "-i", inventory or self.inventory, playbook,
                "-e", json.dumps(extra_vars)]
        log_path = os.path.join(self.work, log_name)
        started = time.monotonic()
        with open(log_path, "w") as handle:
            rc = subprocess.call(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
        finished = time.monotonic()
        return {"rc": rc, "started": started, "finished": finished, "wall_seconds": round(finished - started, 2),
                "log": log_path}


def load_database(lab, target_mb):
    """Grow table bench_payload until database vaulthalla is target_mb on disk."""
    started = time.monotonic()
    lab.psql("""
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE IF NOT EXISTS bench_payload (
    id bigint PRIMARY KEY, vault_id integer NOT NULL, path text NOT NULL,
    created_at timestamptz NOT NULL, note text NOT NULL, body bytea NOT NULL);
ALTER TABLE bench_payload OWNER TO vaulthalla;
""")
    target = target_mb * 1024 * 1024
    batch = 40000
    while True:
        size = int(lab.psql("SELECT pg_database_size('vaulthalla');").strip())
        if size >= target * 0.97:
            break
        # Rows of ~4.4 KiB: a path, a compressible note and 1-8 KiB of random (encrypted-like) bytes
        # (gen_random_bytes gives at most 1024 bytes a call).
        rows = max(1000, min(batch, int((target - size) / 4500)))
        lab.psql("""
INSERT INTO bench_payload
SELECT n, n %% 97, '/vault/' || (n %% 5000) || '/' || md5(n::text) || '.bin',
       now() - n * interval '1 second', repeat('shared note ' || (n %% 200) || ' ', 8),
       (SELECT string_agg(gen_random_bytes(1024), ''::bytea) FROM generate_series(0, n %% 7))
FROM generate_series(coalesce((SELECT max(id) FROM bench_payload), 0) + 1,
                     coalesce((SELECT max(id) FROM bench_payload), 0) + %d) AS n;
""" % rows)
    lab.psql("""
CREATE INDEX IF NOT EXISTS bench_payload_vault_path ON bench_payload (vault_id, path);
CREATE INDEX IF NOT EXISTS bench_payload_created ON bench_payload (created_at);
DROP EXTENSION pgcrypto;
VACUUM (FREEZE, ANALYZE) bench_payload;
CHECKPOINT;
""")
    facts = lab.psql("SELECT pg_database_size('vaulthalla'), (SELECT count(*) FROM bench_payload),"
                     " pg_total_relation_size('bench_payload');").strip().split("|")
    result = {"database_bytes": int(facts[0]), "bench_payload_rows": int(facts[1]),
              "bench_payload_bytes": int(facts[2]), "seconds": round(time.monotonic() - started, 1)}
    log("database vaulthalla: %.0f MiB (%d bench_payload rows) in %.0f s" % (
        result["database_bytes"] / 1048576.0, result["bench_payload_rows"], result["seconds"]))
    return result


def destroy_data(lab):
    """Lose the host's data as extensions/molecule's destroy_data tasks do (now lab/playbooks/lab_destroy_vaulthalla.yml)."""
    playbook = os.path.join(REPO, "lab", "playbooks", "lab_destroy_vaulthalla.yml")
    if not os.path.exists(playbook):
        shared = os.path.join(REPO, "extensions", "molecule", "shared")
        tasks = [path for path in (os.path.join(shared, "tasks", "destroy_data.yml"),
                                   os.path.join(shared, "destroy_data.yml")) if os.path.exists(path)]
        if not tasks:
            raise SystemExit("no destroy playbook or task file found (lab/playbooks/lab_destroy_vaulthalla.yml)")
        playbook = os.path.join(lab.work, "destroy.yml")
        with open(playbook, "w") as handle:
            handle.write("---\n- name: Destroy the lab host's Vaulthalla data\n  hosts: vaulthalla\n"
                         "  gather_facts: false\n  tasks:\n    - name: Destroy\n"
                         "      ansible.builtin.import_tasks: %s\n" % tasks[0])
    outcome = lab.playbook(playbook, {}, "destroy.log")
    if outcome["rc"] != 0:
        raise SystemExit("destroying the data failed, see %s" % outcome["log"])
    log("host data destroyed with %s (%.1f s)" % (os.path.relpath(playbook, REPO), outcome["wall_seconds"]))


def step_of(name, previous):
    short = name.split(" : ", 1)[-1]
    for step, prefixes in STEPS:
        if any(short.startswith(prefix) for prefix in prefixes):
            return step
    return previous


def breakdown(timer, outcome):
    """Per-task and per-step seconds; a task lasts until the next one starts."""
    tasks = timer["tasks"]
    steps = dict((name, 0.0) for name in STEP_NAMES)
    steps["ansible-playbook start-up"] = tasks[0]["start"] - outcome["started"] if tasks else 0.0
    steps["ansible-playbook exit"] = outcome["finished"] - timer["play_ended"]
    rows = []
    step = "verify"
    for index, task in enumerate(tasks):
        end = tasks[index + 1]["start"] if index + 1 < len(tasks) else timer["play_ended"]
        step = step_of(task["name"], step)
        seconds = end - task["start"]
        steps[step] += seconds
        result = task.get("result") or {}
        rows.append({"task": task["name"], "step": step, "seconds": round(seconds, 3), "status": task.get("status"),
                     "module_duration": result.get("duration") if isinstance(result, dict) else None})
    return {k: round(v, 2) for k, v in steps.items()}, rows


def settle(lab):
    """Flush what earlier rounds wrote (PostgreSQL's dirty buffers and WAL, the page cache) before a timed round.

    A 1 GiB pg_restore leaves about 1 GiB of WAL whose checkpoint would otherwise land in the next round's time.
    """
    lab.sh("runuser -u postgres -- psql -X -q -d postgres -c CHECKPOINT; sync")


def restore_round(lab, label, set_dir, safety):
    timer_out = os.path.join(lab.work, "timer-%s.json" % label)
    extra = {"vaulthalla_restore_set_dir": set_dir, "vaulthalla_restore_gnupg_home": lab.gnupghome,
             "vaulthalla_restore_safety_copy": safety}
    settle(lab)
    before = machine_state()
    outcome = lab.playbook(os.path.join(REPO, "playbooks", "restore.yml"), extra, "restore-%s.log" % label, timer_out)
    outcome["machine_before"] = before
    outcome["machine_after"] = machine_state()
    if outcome["rc"] != 0:
        raise SystemExit("restore.yml (%s) failed, see %s" % (label, outcome["log"]))
    with open(timer_out) as handle:
        timer = json.load(handle)
    outcome["steps"], outcome["tasks"] = breakdown(timer, outcome)
    outcome["sequential_round_trips"] = sequential_round_trips(timer)
    reused = [t for t in timer["tasks"] if "Verify every SHA-256 of the host's copy" in t["name"]]
    outcome["stage"] = "reused the host's staging copy (verified there)" if reused and reused[0].get("status") == "ok" \
        else "copied from the controller"
    record = [t for t in timer["tasks"] if t["name"].endswith("Describe the restore")]
    if record:
        facts = record[0]["result"].get("ansible_facts", {}).get("vaulthalla_restore_result", {})
        outcome["role_recovery_seconds"] = facts.get("recovery_seconds")
        outcome["checks"] = facts.get("checks")
    outcome["module_durations"] = dict(
        (row["task"].split(" : ", 1)[-1], row["module_duration"]) for row in outcome["tasks"] if row["module_duration"])
    log("restore.yml %s: %.1f s (%s)" % (label, outcome["wall_seconds"], outcome["stage"]))
    return outcome


# Tasks that run on the controller only (no round trip through the connection).
CONTROLLER_ACTIONS = ("set_fact", "fail", "debug", "assert", "include_tasks", "import_tasks", "include_role", "meta")


def sequential_round_trips(timer):
    """Module runs through the connection one after another: outside the step whose tasks overlap the background
    database restore, and outside the safety copy (reported on its own line)."""
    trips, step = 0, "verify"
    for task in timer["tasks"]:
        step = step_of(task["name"], step)
        action = (task.get("action") or "").rsplit(".", 1)[-1]
        if step in (RESTORE_STEP, "safety copy") or task.get("status") in (None, "skipped") \
                or task.get("delegated") or action in CONTROLLER_ACTIONS:
            continue
        trips += 1
    return trips


def round_trip_cost(lab, count=9, inventory=None):
    """Median seconds of one small module run (stat) on the lab host: the connection's price per task."""
    playbook = os.path.join(lab.work, "round-trip.yml")
    with open(playbook, "w") as handle:
        handle.write("---\n- name: One module run per task\n  hosts: vaulthalla\n  gather_facts: false\n  tasks:\n")
        for index in range(count):
            handle.write("    - name: Round trip %d\n      ansible.builtin.stat:\n        path: /etc/hostname\n" % index)
    timer_out = os.path.join(lab.work, "timer-round-trip.json")
    outcome = lab.playbook(playbook, {}, "round-trip.log", timer_out, inventory=inventory)
    if outcome["rc"] != 0:
        raise SystemExit("round-trip playbook failed, see %s" % outcome["log"])
    with open(timer_out) as handle:
        tasks = json.load(handle)["tasks"]
    seconds = statistics.median(t["duration"] for t in tasks[1:])  # the first one also pays the play's set-up
    log("one module run through %s: %.2f s (median of %d)" % (inventory or lab.inventory, seconds, len(tasks) - 1))
    return round(seconds, 3)


def timed_in_host(lab, script):
    """Seconds a shell script takes inside the container (timed there, without podman exec's cost)."""
    out = lab.sh("set -euo pipefail; s=$(date +%%s.%%N); %s; e=$(date +%%s.%%N); echo \"$s $e\"" % script).stdout
    start, end = out.strip().splitlines()[-1].split()
    return float(end) - float(start)


def bare_round(lab, set_dir_host, state_artifact, db_artifact):
    state = "%s/%s" % (set_dir_host, state_artifact)
    dump = "%s/%s" % (set_dir_host, db_artifact)
    lab.sh("rm -rf %s && mkdir -p %s; runuser -u postgres -- dropdb --if-exists %s" % (
        SCRATCH_DIR, SCRATCH_DIR, SCRATCH_DB))
    settle(lab)
    before = machine_state()
    tar_s = timed_in_host(lab, "zstd -dc %s | tar -xpf - -C %s" % (shlex.quote(state), SCRATCH_DIR))
    lab.sh("runuser -u postgres -- createdb %s" % SCRATCH_DB)
    settle(lab)
    reader = "zstd -dc %s" % shlex.quote(dump) if dump.endswith(".zst") else "cat %s" % shlex.quote(dump)
    pg_s = timed_in_host(lab, "%s | runuser -u postgres -- pg_restore -d %s --no-owner" % (reader, SCRATCH_DB))
    rows = lab.psql("SELECT count(*) FROM bench_payload;", database=SCRATCH_DB).strip()
    lab.sh("rm -rf %s; runuser -u postgres -- dropdb %s" % (SCRATCH_DIR, SCRATCH_DB))
    log("bare: tar extract %.1f s, pg_restore %.1f s" % (tar_s, pg_s))
    return {"tar_extract_seconds": round(tar_s, 2), "pg_restore_seconds": round(pg_s, 2),
            "total_seconds": round(tar_s + pg_s, 2), "restored_bench_payload_rows": int(rows),
            "machine_before": before, "machine_after": machine_state()}


# The modules doing the bare commands' work; their own "duration" leaves out Ansible's per-task cost.
MATCHING_MODULES = ("Restore /etc/vaulthalla and /var/lib/vaulthalla", "Collect the PostgreSQL restore",
                    "Wait for the PostgreSQL restore")  # the last: results before the wait became wait_for


def ratios(restore, bare_total):
    matching = sum(restore["steps"].get(s, 0.0) for s in MATCHING_STEPS)
    modules = sum(seconds for task, seconds in restore["module_durations"].items()
                  if task.startswith(MATCHING_MODULES))
    return {"matching_steps_seconds": round(matching, 2),
            "matching_steps_vs_bare": round(matching / bare_total, 3),
            "matching_modules_seconds": round(modules, 2),
            "matching_modules_vs_bare": round(modules / bare_total, 3),
            "whole_restore_vs_bare": round(restore["wall_seconds"] / bare_total, 3)}


def summarize(report):
    report["bare_median_seconds"] = round(statistics.median(b["total_seconds"] for b in report["bare"]), 2)
    report["ratios"] = dict((label, ratios(r, report["bare_median_seconds"])) for label, r in report["restores"].items())
    nosafety = [label for label in report["ratios"] if label.startswith("nosafety")]
    if nosafety:
        report["nosafety_median"] = dict(
            (key, round(statistics.median(report["ratios"][label][key] for label in nosafety), 3))
            for key in ("matching_steps_vs_bare", "matching_modules_vs_bare", "whole_restore_vs_bare"))
        report["nosafety_median"]["wall_seconds"] = round(statistics.median(
            report["restores"][label]["wall_seconds"] for label in nosafety), 2)


def print_table(report):
    rounds = report["restores"]
    labels = list(rounds)
    print()
    print("restore.yml on %s: %d MiB vault data, database %.0f MiB; load %s -> %s" % (
        report["container"], report["data_mb"], report["database"]["database_bytes"] / 1048576.0,
        report["machine_start"]["load_average"], report["machine_end"]["load_average"]))
    print("%-40s" % "seconds" + "".join("%14s" % label for label in labels))
    print("%-40s" % "restore.yml wall time" + "".join("%14.1f" % rounds[l]["wall_seconds"] for l in labels))
    for step in ["ansible-playbook start-up"] + STEP_NAMES + ["ansible-playbook exit"]:
        if step == "safety copy":
            continue
        print("%-40s" % ("  " + step) + "".join("%14.1f" % rounds[l]["steps"].get(step, 0.0) for l in labels))
    print("%-40s" % "safety copy (own line)" + "".join("%14.1f" % rounds[l]["steps"]["safety copy"] for l in labels))
    print("%-40s" % "stage" + "".join("%14s" % ("reused" if "reused" in rounds[l]["stage"] else "copied") for l in labels))
    print()
    for index, bare in enumerate(report["bare"]):
        print("bare #%d: zstd -dc | tar -xpf %.1f s, zstd -dc | pg_restore --no-owner %.1f s, total %.1f s" % (
            index + 1, bare["tar_extract_seconds"], bare["pg_restore_seconds"], bare["total_seconds"]))
    print("bare (median) %.1f s" % report["bare_median_seconds"])
    print()
    print("%-58s%10s%10s" % ("ratio (goal <= %.2f)" % GOAL, "ratio", "goal"))
    rows = (("database restore | files meanwhile step / bare", "matching_steps_vs_bare"),
            ("their modules' own durations / bare", "matching_modules_vs_bare"),
            ("whole restore.yml / bare", "whole_restore_vs_bare"))
    if report.get("round_trip_seconds_podman"):
        print("one module run through podman exec (the lab's default connection): %.2f s" % report["round_trip_seconds_podman"])
    if report.get("round_trip_seconds"):
        print("one module run through the connection (%s): %.2f s; module runs one after another outside the restore"
              " step and the safety copy: %s" % (report.get("connection", "podman"), report["round_trip_seconds"], ", ".join(
                  "%s %s (%.1f s)" % (l, rounds[l].get("sequential_round_trips"),
                                      (rounds[l].get("sequential_round_trips") or 0) * report["round_trip_seconds"])
                  for l in labels)))
    for label in labels:
        ratios = report["ratios"][label]
        for text, key in rows:
            if ratios.get(key) is None:
                continue
            verdict = "met" if ratios[key] <= GOAL else "MISSED"
            print("%-58s%10.3f%10s" % ("%s: %s" % (label, text), ratios[key], verdict))
    if report.get("nosafety_median"):
        for text, key in rows:
            ratio = report["nosafety_median"][key]
            print("%-58s%10.3f%10s" % ("median of the nosafety rounds: %s" % text, ratio, "met" if ratio <= GOAL else "MISSED"))
    print()
    print("results: %s" % report["path"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--data-mb", type=int, default=1024, help="MiB of vault bodies (VH_LAB_DATA_MB)")
    parser.add_argument("--db-mb", type=int, default=1024, help="size of database vaulthalla on disk, MiB")
    parser.add_argument("--container", default="vh-bench-restore")
    parser.add_argument("--no-intact", action="store_true", help="skip the restore over the intact host")
    parser.add_argument("--keep", action="store_true", help="leave the lab host running")
    parser.add_argument("--connection", choices=("ssh", "podman"), default="ssh",
                        help="how ansible-playbook reaches the lab host: OpenSSH with pipelining, as operators run it"
                             " (default; sshd is installed in the container), or the lab's podman exec")
    parser.add_argument("--nosafety-rounds", type=int, default=2,
                        help="destroy + bare + restore.yml without safety copy, this many times (the goal's figure)")
    parser.add_argument("--venv", default=os.environ.get("VENV", os.path.join(REPO, ".venv")))
    parser.add_argument("--table", metavar="JSON", help="print the table of an earlier result file and exit")
    args = parser.parse_args()
    if args.table:
        with open(args.table) as handle:
            report = json.load(handle)
        summarize(report)
        print_table(report)
        return
    work = os.path.join(REPO, ".tmp", "bench-restore")
    results = os.path.join(BENCH_DIR, "results")
    os.makedirs(work, exist_ok=True)
    os.makedirs(results, exist_ok=True)
    run(["rm", "-rf", os.path.join(work, "sets"), os.path.join(work, "gnupg")])
    started = time.monotonic()
    report = {"what": "playbooks/restore.yml wall time and per-step breakdown vs the bare commands it runs",
              "container": args.container, "data_mb": args.data_mb, "db_mb_target": args.db_mb,
              "machine": {"nproc": os.cpu_count(), "platform": platform.platform()},
              "machine_start": machine_state(), "goal_ratio": GOAL, "restores": {}, "bare": []}
    report["connection"] = args.connection
    lab = Lab(args, work)
    try:
        if args.connection == "ssh":
            run(["podman", "rm", "-f", "-t", "10", args.container], check=False)  # its published port is new
        lab.up()
        report["database"] = load_database(lab, args.db_mb)
        report["round_trip_seconds"] = round_trip_cost(lab)
        if args.connection == "ssh":
            report["round_trip_seconds_podman"] = round_trip_cost(lab, inventory=lab.podman_inventory)
        backup = lab.playbook(os.path.join(REPO, "playbooks", "backup.yml"),
                              {"vaulthalla_backup_fetch_dir": os.path.join(work, "sets")}, "backup.log")
        if backup["rc"] != 0:
            raise SystemExit("backup.yml failed, see %s" % backup["log"])
        set_dir = os.path.dirname(glob.glob(os.path.join(work, "sets", "*", "manifest.json"))[0])
        with open(os.path.join(set_dir, "manifest.json")) as handle:
            manifest = json.load(handle)
        kinds = dict((a.get("kind"), a) for a in manifest["artifacts"])
        state_artifact, db_artifact = kinds["path_archive"]["name"], kinds["pg_dump"]["name"]
        set_dir_host = "%s/%s" % (STAGING, os.path.basename(set_dir))
        report["backup"] = {"wall_seconds": backup["wall_seconds"], "set": set_dir, "set_bytes": manifest.get("total_bytes"),
                            "artifacts": dict((a["name"], a.get("size")) for a in manifest["artifacts"])}
        log("backup.yml: %.1f s, set %s" % (backup["wall_seconds"], set_dir))
        rounds = [("safety", True)] + [("nosafety" if index == 0 else "nosafety-%d" % (index + 1), False)
                                       for index in range(args.nosafety_rounds)]
        rounds += [] if args.no_intact else [("intact", True)]
        for label, safety in rounds:
            if label != "intact":
                destroy_data(lab)
                # On the destroyed host, as the restore finds it (no daemon, no autovacuum on a restored database).
                report["bare"].append(bare_round(lab, set_dir_host, state_artifact, db_artifact))
            report["restores"][label] = restore_round(lab, label, set_dir, safety)
    finally:
        report["machine_end"] = machine_state()
        report["seconds"] = round(time.monotonic() - started, 1)
        stamp = utc_now()
        report["path"] = os.path.join(results, "restore-%s.json" % stamp)
        if report["bare"]:
            summarize(report)
        with open(report["path"], "w") as handle:
            json.dump(report, handle, indent=2)
        if not args.keep:
            lab.down()
    print_table(report)


if __name__ == "__main__":
    main()

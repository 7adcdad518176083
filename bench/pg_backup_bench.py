# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark vaultops.recovery.pg_backup against bare pg_dump and community.postgresql.

Run it through bench/run.sh. One run:

1. starts a throwaway PostgreSQL cluster (tests/support/pg_cluster.TempCluster)
   with the same server settings for every side;
2. prunes the candidate "fast modes" on a small database (one workflow each);
3. generates the full production-like database (bench/vault_data.py);
4. sweeps maintenance_work_mem for the best candidate's restore at full size;
5. interleaves --repeat repetitions of
   a. bare ``pg_dump -Fc -f file db`` vs the pg_backup default dump (through
      ansible-playbook, and in-process through module_utils);
   b. community.postgresql.postgresql_db dump + create + restore vs the
      pg_backup finalists' dump + verify + restore, checking that every
      restored database has the source's row counts, indexes and foreign keys;
6. writes every sample, medians, ratios and pass/fail per goal to
   bench/results/pg_backup-<UTC timestamp>.json and prints a short table.

It is a benchmark, not a test: it fails (exit 1) only when a restore is
wrong or a task fails, never because a goal is missed.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, BENCH_DIR)

from support.collection import install_import_path  # noqa: E402
from support.pg_cluster import TempCluster  # noqa: E402

import vault_data  # noqa: E402

COLLECTIONS_ROOT = install_import_path()

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_dumper  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import ClientTools  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import PgConnection  # noqa: E402

MODULE = "vaultops.recovery.pg_backup"
BASELINE_MODULE = "community.postgresql.postgresql_db"

# Applied to the one cluster both sides use. Larger shared_buffers and WAL
# limits than the initdb defaults, as any server holding a GB-sized database
# has; maintenance_work_mem stays at the default (64MB) so the session
# setting pg_backup passes to its restore is what is being measured.
SERVER_SETTINGS = {
    "shared_buffers": "'1GB'",
    "max_wal_size": "'8GB'",
    "min_wal_size": "'1GB'",
    "checkpoint_timeout": "'30min'",
    "log_checkpoints": "on",
}

# Candidate fast modes: how pg_backup dumps, and how it restores.
# maintenance_work_mem is filled in from the sweep (it cannot be told apart on a small database).
CANDIDATES = {
    "default-gzip/restore-j1": {"dump": {}, "restore": {"jobs": 1}},
    "zstd/restore-j1": {"dump": {"compressor": "zstd"}, "restore": {"jobs": 1}},
    "zstd/restore-j2": {"dump": {"compressor": "zstd"}, "restore": {"jobs": 2}},
    "zstd1/restore-j1": {"dump": {"compressor": "zstd", "compress_level": 1}, "restore": {"jobs": 1}},
    "zstd1/restore-j2": {"dump": {"compressor": "zstd", "compress_level": 1}, "restore": {"jobs": 2}},
    "gzip1/restore-j2": {"dump": {"compress_level": 1}, "restore": {"jobs": 2}},
    "none/restore-j2": {"dump": {"compressor": "none"}, "restore": {"jobs": 2}},
    "dir-j2-gzip1/restore-j2": {"dump": {"format": "directory", "jobs": 2, "compress_level": 1},
                                "restore": {"jobs": 2}},
    "dir-j2-gzip/restore-j2": {"dump": {"format": "directory", "jobs": 2}, "restore": {"jobs": 2}},
}
# A backup mode that makes archives much larger than pg_dump -Fc's is measured and reported,
# but not chosen: storage and transfer of every backup pay for it (see bench/README.md).
MAX_SIZE_RATIO = 1.25
PRUNE_MWM = "512MB"
MWM_SWEEP = ["default", "256MB", "512MB", "1GB"]

GOALS = {
    "dump_overhead": {"max_ratio": 1.05,
                      "what": "pg_backup default (custom, gzip) dump / bare pg_dump -Fc -f file db"},
    "fast_workflow": {"max_ratio": 0.7,
                      "what": "pg_backup fastest mode dump+verify+restore / postgresql_db dump+restore"},
}


def log(message=""):
    print(message, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


# ---------------------------------------------------------------------------- machine facts

def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def loadavg():
    parts = _read("/proc/loadavg").split()
    return [float(p) for p in parts[:3]] if parts else None


def cpu_jiffies():
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    fields = [int(v) for v in _read("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def machine_info(cluster):
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    cpu_model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                      if line.startswith("model name")), platform.processor())
    import ansible
    from ansible.release import __version__ as ansible_core_version
    cp_manifest = os.path.join(os.path.dirname(ansible.__file__), "..", "ansible_collections", "community",
                               "postgresql", "MANIFEST.json")
    try:
        with open(cp_manifest) as handle:
            cp_version = json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError):
        cp_version = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_bytes": mem_kb * 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible_core": ansible_core_version,
        "community_postgresql": cp_version,
        "pg_server": cluster.psql("SELECT version();"),
        "pg_dump": tool_version(["pg_dump", "--version"]),
        "pg_restore": tool_version(["pg_restore", "--version"]),
        "zstd": tool_version(["zstd", "--version"]),
        "server_settings": dict(SERVER_SETTINGS),
        "loadavg_at_start": loadavg(),
    }


# ---------------------------------------------------------------------------- measuring

class Sample(object):
    """Times one measured action: wall clock, CPU of waited-for children, machine busy share."""

    def __enter__(self):
        self.load_before = loadavg()
        self.rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.jiffies = cpu_jiffies()
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.wall = time.monotonic() - self.started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = cpu_jiffies()
        self.facts = {
            "wall_seconds": round(self.wall, 3),
            "children_cpu_user_seconds": round(after.ru_utime - self.rusage.ru_utime, 3),
            "children_cpu_system_seconds": round(after.ru_stime - self.rusage.ru_stime, 3),
            "machine_cpu_busy_share": round((busy - self.jiffies[0]) / float(max(1, total - self.jiffies[1])), 3),
            "loadavg_before": self.load_before,
            # other work on the machine: the 1-minute load was above the core count when the sample began
            "contended": bool(self.load_before and self.load_before[0] > (os.cpu_count() or 1)),
        }
        return False


class BenchFailure(Exception):
    pass


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.workdir = args.workdir or tempfile.mkdtemp(prefix="vaultops-bench-")
        os.makedirs(self.workdir, exist_ok=True)
        self.cluster = None
        self.samples = []
        self.conn = None
        self.passfile = None
        self.counter = 0

    # -- cluster and databases ------------------------------------------------------------
    def start(self):
        self.cluster = TempCluster(settings=dict(SERVER_SETTINGS)).start()
        self.conn = self.cluster.tcp_params()
        self.passfile = os.path.join(self.workdir, "pgpass")
        with open(self.passfile, "w") as handle:
            handle.write("*:*:*:*:%s\n" % self.cluster.superuser_password)
        os.chmod(self.passfile, 0o600)

    def stop(self):
        if self.cluster and not self.args.keep_cluster:
            self.cluster.stop()

    def client_env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST="127.0.0.1", PGPORT=str(self.cluster.port), PGUSER="postgres", PGPASSFILE=self.passfile)
        env.update(extra)
        return env

    def drop_database(self, name):
        self.cluster.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE);' % name)

    def settle(self):
        """Same starting point for every sample: no dirty buffers or WAL debt from the previous one."""
        self.cluster.psql("CHECKPOINT;")

    def check_restored(self, source_facts, restored_db):
        counts = vault_data.table_row_counts(self.cluster, restored_db)
        shape = self.cluster.psql(vault_data.SHAPE_SQL, restored_db).split("|")
        expected = source_facts["row_counts"]
        if counts != expected or [int(v) for v in shape] != [source_facts["indexes"], source_facts["foreign_keys"]]:
            raise BenchFailure("restored database %s differs from the source: rows %s (expected %s), "
                               "indexes/foreign keys %s (expected %s/%s)" % (
                                   restored_db, counts, expected, shape, source_facts["indexes"],
                                   source_facts["foreign_keys"]))
        return {"row_counts_match": True, "indexes": int(shape[0]), "foreign_keys": int(shape[1])}

    def fresh_dir(self, label):
        self.counter += 1
        path = os.path.join(self.workdir, "%03d-%s" % (self.counter, label.replace("/", "_")))
        os.makedirs(path)
        return path

    # -- ansible-playbook ----------------------------------------------------------------
    def playbook(self, directory, name, tasks):
        """Run tasks in one ansible-playbook; returns (wall facts, [task records])."""
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
        path = os.path.join(directory, "%s.playbook.json" % name)
        timer = os.path.join(directory, "%s.timer.json" % name)
        with open(path, "w") as handle:
            json.dump(play, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT,
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH_DIR, "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="bench_timer", VAULTOPS_BENCH_TIMER_OUT=timer,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False")
        env = {k: v for k, v in env.items() if not k.startswith("PG")}
        with Sample() as sample:
            proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), path],
                                  capture_output=True, text=True, env=env, cwd=directory, check=False)
        tasks_done = []
        if os.path.exists(timer):
            with open(timer) as handle:
                tasks_done = json.load(handle)["tasks"]
        failed = [t for t in tasks_done if t.get("status") != "ok"]
        if proc.returncode != 0 or failed or len(tasks_done) != len(tasks):
            detail = failed[0]["result"].get("msg") if failed else proc.stdout[-3000:] + proc.stderr[-3000:]
            raise BenchFailure("playbook %s failed: %s" % (name, detail))
        return sample.facts, tasks_done

    # -- the measured actions ------------------------------------------------------------
    def bare_dump(self, db, label="bare-pg_dump-Fc"):
        self.settle()
        directory = self.fresh_dir(label)
        path = os.path.join(directory, "bare.dump")
        with Sample() as sample:
            subprocess.run(["pg_dump", "-Fc", "-f", path, db], env=self.client_env(), check=True,
                           capture_output=True)
        record = dict(sample.facts, label=label, group="dump_overhead", seconds=sample.facts["wall_seconds"],
                      archive_bytes=os.path.getsize(path))
        shutil.rmtree(directory)
        return record

    def module_dump(self, db, label="pg_backup-default-dump"):
        self.settle()
        directory = self.fresh_dir(label)
        facts, tasks = self.playbook(directory, "dump", [{
            "name": "pg_backup default dump",
            MODULE: dict(self.conn, database=db, dest_dir=directory, name_pattern="bench.dump"),
        }])
        result = tasks[0]["result"]
        # manifest_data, not "size": Ansible's add_path_info() overwrites "size" with the stat of
        # "path", which for a directory-format archive is the directory's own 4096 bytes.
        record = dict(facts, label=label, group="dump_overhead", seconds=tasks[0]["duration"],
                      task_seconds=tasks[0]["duration"], module_reported_seconds=result.get("duration"),
                      archive_bytes=result["manifest_data"]["size"])
        shutil.rmtree(directory)
        return record

    def inprocess_dump(self, db, label="pg_backup-module_utils-dump"):
        """pg_dumper.dump() called directly: the wrapper's cost without Ansible's."""
        self.settle()
        directory = self.fresh_dir(label)
        params = dict(login_host="127.0.0.1", port=self.cluster.port, login_user="postgres",
                      login_password=self.cluster.superuser_password, login_unix_socket=None, ssl_mode="prefer",
                      ca_cert=None, ssl_cert=None, ssl_key=None, connect_timeout=10, os_user=None)
        tools = ClientTools(shutil.which)
        with Sample() as sample:
            with PgConnection(params, tools.path) as conn:
                request = pg_dumper.DumpRequest(db, directory, name_pattern="bench.dump")
                manifest, _path = pg_dumper.dump(conn, tools, request)
        record = dict(sample.facts, label=label, group="dump_overhead", seconds=sample.facts["wall_seconds"],
                      archive_bytes=manifest["size"])
        shutil.rmtree(directory)
        return record

    def baseline_workflow(self, db, source_facts, label="postgresql_db-dump+restore"):
        self.settle()
        directory = self.fresh_dir(label)
        target = os.path.join(directory, "baseline.pgc")
        restored = "r_baseline_%d" % self.counter
        conn = dict(self.conn)
        facts, tasks = self.playbook(directory, "baseline", [
            {"name": "dump", BASELINE_MODULE: dict(conn, name=db, state="dump", target=target)},
            {"name": "create", BASELINE_MODULE: dict(conn, name=restored, state="present")},
            {"name": "restore", BASELINE_MODULE: dict(conn, name=restored, state="restore", target=target)},
        ])
        archive_bytes = os.path.getsize(target)
        check = self.check_restored(source_facts, restored)
        durations = {t["name"]: t["duration"] for t in tasks}
        record = dict(facts, label=label, group="fast_workflow", seconds=round(sum(durations.values()), 3),
                      task_seconds=durations, archive_bytes=archive_bytes, restored_check=check)
        self.drop_database(restored)
        shutil.rmtree(directory)
        return record

    def candidate_workflow(self, db, source_facts, name, mode, mwm, label=None):
        self.settle()
        label = label or name
        directory = self.fresh_dir(label)
        restored = "r_cand_%d" % self.counter
        dump_args = dict(self.conn, database=db, dest_dir=directory,
                         name_pattern="bench.dir" if mode["dump"].get("format") == "directory" else "bench.dump")
        dump_args.update(mode["dump"])
        restore_args = dict(self.conn, state="restore", path="{{ dumped.path }}", database=restored,
                            create_database=True, jobs=mode["restore"]["jobs"])
        if mwm and mwm != "default":
            restore_args["restore_session_settings"] = {"maintenance_work_mem": mwm}
        facts, tasks = self.playbook(directory, "pg_backup", [
            {"name": "dump", MODULE: dump_args, "register": "dumped"},
            {"name": "verify", MODULE: {"state": "verify", "path": "{{ dumped.path }}"}},
            {"name": "restore", MODULE: restore_args},
        ])
        check = self.check_restored(source_facts, restored)
        durations = {t["name"]: t["duration"] for t in tasks}
        reported = {t["name"]: t["result"].get("duration") for t in tasks}
        record = dict(facts, label=label, group="fast_workflow", mode=name, maintenance_work_mem=mwm,
                      seconds=round(sum(durations.values()), 3), task_seconds=durations,
                      module_reported_seconds=reported, archive_bytes=tasks[0]["result"]["manifest_data"]["size"],
                      restored_check=check)
        self.drop_database(restored)
        shutil.rmtree(directory)
        return record

    def mwm_sweep(self, db, source_facts, name, mode, values, repeat=1):
        """One dump with the mode, then restore it repeat times per maintenance_work_mem value (interleaved)."""
        self.settle()
        directory = self.fresh_dir("mwm-sweep")
        dump_args = dict(self.conn, database=db, dest_dir=directory,
                         name_pattern="bench.dir" if mode["dump"].get("format") == "directory" else "bench.dump")
        dump_args.update(mode["dump"])
        _facts, tasks = self.playbook(directory, "dump", [{"name": "dump", MODULE: dump_args}])
        path = tasks[0]["result"]["path"]
        records = []
        for rep_index in range(repeat):
            for value in rotate(values, rep_index):
                records.append(self._sweep_restore(directory, path, source_facts, name, mode, value, rep_index))
        shutil.rmtree(directory)
        return records

    def _sweep_restore(self, directory, path, source_facts, name, mode, value, rep_index):
        self.settle()
        self.counter += 1
        restored = "r_sweep_%d" % self.counter
        args = dict(self.conn, state="restore", path=path, database=restored, create_database=True,
                    jobs=mode["restore"]["jobs"])
        if value != "default":
            args["restore_session_settings"] = {"maintenance_work_mem": value}
        facts, tasks = self.playbook(directory, "restore-%s-%d" % (value, rep_index),
                                     [{"name": "restore", MODULE: args}])
        check = self.check_restored(source_facts, restored)
        self.drop_database(restored)
        return dict(facts, label="restore %s mwm=%s" % (name, value), group="mwm_sweep", mode=name,
                    maintenance_work_mem=value, seconds=tasks[0]["duration"], restored_check=check)

    def add(self, record, stage, repetition=None):
        record = dict(record, stage=stage, repetition=repetition)
        self.samples.append(record)
        log("  [%s%s] %-36s %7.2f s%s" % (
            stage, "" if repetition is None else " #%d" % repetition, record["label"], record["seconds"],
            "  (%.1f MB)" % (record["archive_bytes"] / 1e6) if record.get("archive_bytes") else ""))
        return record


# ---------------------------------------------------------------------------- the run

def rotate(items, shift):
    shift %= max(1, len(items))
    return items[shift:] + items[:shift]


def choose_mwm(records):
    """Per value the fastest of its restores (other work only adds time); the smallest setting within 3% of the
    overall fastest wins, since every parallel job may use that much memory per index build."""
    order = {v: i for i, v in enumerate(MWM_SWEEP)}
    best_per_value = {}
    for record in records:
        value = record["maintenance_work_mem"]
        best_per_value[value] = min(best_per_value.get(value, float("inf")), record["seconds"])
    best = min(best_per_value.values())
    within = [v for v, seconds in best_per_value.items() if seconds <= best * 1.03]
    return sorted(within, key=lambda v: order.get(v, 99))[0]


def summarize(samples, stage):
    by_label = {}
    for sample in samples:
        if sample["stage"] != stage:
            continue
        entry = by_label.setdefault(sample["label"], {"seconds": [], "wall_seconds": [], "archive_bytes": [],
                                                      "task_seconds": {}, "contended": 0})
        entry["seconds"].append(sample["seconds"])
        entry["contended"] += 1 if sample.get("contended") else 0
        entry["wall_seconds"].append(sample["wall_seconds"])
        if sample.get("archive_bytes"):
            entry["archive_bytes"].append(sample["archive_bytes"])
        if isinstance(sample.get("task_seconds"), dict):
            for task, value in sample["task_seconds"].items():
                entry["task_seconds"].setdefault(task, []).append(value)
    medians = {}
    for label, entry in by_label.items():
        medians[label] = {
            "n": len(entry["seconds"]),
            "seconds": median(entry["seconds"]),
            "min_seconds": round(min(entry["seconds"]), 3),
            "wall_seconds": median(entry["wall_seconds"]),
            "contended_samples": entry["contended"],
            "archive_bytes": int(median(entry["archive_bytes"])) if entry["archive_bytes"] else None,
            "task_seconds": {task: median(values) for task, values in entry["task_seconds"].items()},
        }
    return medians


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=1.1,
                        help="target pg_database_size of the benchmark database in GB (default 1.1)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every measurement (default 3)")
    parser.add_argument("--baseline-repeat", type=int,
                        help="repetitions of the slow postgresql_db baseline (default: --repeat)")
    parser.add_argument("--dump-repeat", type=int,
                        help="repetitions of the dump-overhead trio, whose 5%% goal needs more samples"
                             " than the workflows (default: --repeat + 2)")
    parser.add_argument("--prune-size-gb", type=float, default=0.15,
                        help="database size for pruning the candidates (default 0.15; 0 skips pruning)")
    parser.add_argument("--prune-repeat", type=int, default=2,
                        help="repetitions of each candidate while pruning (default 2; the fastest counts)")
    parser.add_argument("--sweep-repeat", type=int, default=2,
                        help="repetitions of each maintenance_work_mem restore (default 2; the fastest counts)")
    parser.add_argument("--max-size-ratio", type=float, default=MAX_SIZE_RATIO,
                        help="largest archive size, relative to pg_dump -Fc, a mode may have to be chosen"
                             " (default %.2f)" % MAX_SIZE_RATIO)
    parser.add_argument("--finalists", type=int, default=2,
                        help="candidates kept after pruning for the full-size runs (default 2)")
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help="comma-separated candidate names (default: all: %s)" % ", ".join(CANDIDATES))
    parser.add_argument("--mwm-sweep", default=",".join(MWM_SWEEP),
                        help="maintenance_work_mem values to sweep at full size ('' skips; default %s)"
                             % ",".join(MWM_SWEEP))
    parser.add_argument("--skip-dump-overhead", action="store_true", help="skip measurement a")
    parser.add_argument("--workdir", help="scratch directory for archives (default: a new one under $TMPDIR)")
    parser.add_argument("--results-dir", default=os.path.join(BENCH_DIR, "results"))
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running (debugging)")
    args = parser.parse_args(argv)
    args.baseline_repeat = min(args.repeat, args.repeat if args.baseline_repeat is None else args.baseline_repeat)
    args.dump_repeat = args.repeat + 2 if args.dump_repeat is None else args.dump_repeat
    args.candidates = [c for c in args.candidates.split(",") if c]
    unknown = [c for c in args.candidates if c not in CANDIDATES]
    if unknown:
        parser.error("unknown candidates %s" % unknown)
    args.mwm_sweep = [v for v in args.mwm_sweep.split(",") if v]
    return args


def main(argv=None):
    args = parse_args(argv)
    started_utc = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    bench = Bench(args)
    report = {"tool": "bench/pg_backup_bench.py", "started_at": started_utc.isoformat(),
              "arguments": dict(vars(args)), "goals": GOALS}
    exit_code = 0
    try:
        log("Starting a throwaway PostgreSQL cluster ...")
        bench.start()
        report["machine"] = machine_info(bench.cluster)
        report["workdir"] = bench.workdir
        log("  %s, %d cores, %.1f GB RAM" % (report["machine"]["pg_server"].split(" on ")[0],
                                             report["machine"]["nproc"], report["machine"]["memory_bytes"] / 2**30))

        # -- pruning on a small database ------------------------------------------------
        finalists = list(args.candidates)
        if args.prune_size_gb > 0 and len(args.candidates) > args.finalists:
            log("\nPruning %d candidates on a %.2f GB database (%d workflows each, mwm %s) ..." % (
                len(args.candidates), args.prune_size_gb, args.prune_repeat, PRUNE_MWM))
            small = vault_data.generate(bench.cluster, "vault_small", args.prune_size_gb, log=log)
            report["prune_data"] = small
            log("  database %.1f MB" % (small["database_bytes"] / 1e6))
            for rep_index in range(args.prune_repeat):
                bench.add(bench.baseline_workflow("vault_small", small), "prune", rep_index)
                for name in rotate(list(args.candidates), rep_index):
                    bench.add(bench.candidate_workflow("vault_small", small, name, CANDIDATES[name], PRUNE_MWM),
                              "prune", rep_index)
            prune = summarize(bench.samples, "prune")
            baseline_bytes = prune["postgresql_db-dump+restore"]["archive_bytes"]
            ranking = []
            for name in args.candidates:
                records = [r for r in bench.samples if r["stage"] == "prune" and r["label"] == name]
                ranking.append({
                    "mode": name,
                    # the modules' own durations: Ansible's per-task cost is the same for every candidate
                    # and would only blur the ranking on a small database; the fastest repetition, since
                    # other work on the machine only ever adds time
                    "module_seconds": min(round(sum(r["module_reported_seconds"].values()), 3) for r in records),
                    "task_seconds": min(r["seconds"] for r in records),
                    "size_ratio_to_pg_dump_Fc": ratio(records[-1]["archive_bytes"], baseline_bytes),
                })
            for entry in ranking:
                entry["eligible"] = entry["size_ratio_to_pg_dump_Fc"] <= args.max_size_ratio
            ranking.sort(key=lambda e: e["module_seconds"])
            finalists = [e["mode"] for e in ranking if e["eligible"]][:args.finalists]
            report["prune"] = {"medians": prune, "ranking": ranking, "finalists": finalists,
                               "max_size_ratio": args.max_size_ratio}
            for entry in ranking:
                log("  %-26s module time %6.2f s, size x%.2f of pg_dump -Fc%s" % (
                    entry["mode"], entry["module_seconds"], entry["size_ratio_to_pg_dump_Fc"],
                    "" if entry["eligible"] else "  (not eligible: archive too large)"))
            log("  finalists: %s" % ", ".join(finalists))
            bench.drop_database("vault_small")
        report["finalists"] = finalists

        # -- the full database ---------------------------------------------------------
        log("\nGenerating the %.2f GB benchmark database ..." % args.size_gb)
        data = vault_data.generate(bench.cluster, "vault", args.size_gb, log=log)
        report["data"] = data
        log("  pg_database_size %.2f GB (tables %.2f GB, indexes %.2f GB)" % (
            data["database_bytes"] / 1e9, data["table_bytes"] / 1e9, data["index_bytes"] / 1e9))

        # -- maintenance_work_mem sweep at full size -----------------------------------
        mwm = PRUNE_MWM
        if args.mwm_sweep:
            log("\nSweeping maintenance_work_mem for %s's restore at full size ..." % finalists[0])
            sweep = bench.mwm_sweep("vault", data, finalists[0], CANDIDATES[finalists[0]], args.mwm_sweep,
                                    repeat=args.sweep_repeat)
            for index, record in enumerate(sweep):
                bench.add(record, "mwm_sweep", index // len(args.mwm_sweep))
            mwm = choose_mwm(sweep)
            report["mwm_sweep"] = {"mode": finalists[0], "chosen": mwm, "rule": choose_mwm.__doc__.strip(),
                                   "seconds": {v: sorted(r["seconds"] for r in sweep if r["maintenance_work_mem"] == v)
                                               for v in args.mwm_sweep}}
            log("  chosen maintenance_work_mem: %s" % mwm)

        # -- interleaved repetitions ---------------------------------------------------
        log("\nMeasuring: %d repetitions (dump overhead %d, baseline %d) ..." % (
            args.repeat, args.dump_repeat, args.baseline_repeat))
        for rep in range(max(args.repeat, args.dump_repeat)):
            if not args.skip_dump_overhead and rep < args.dump_repeat:
                group_a = [("bare", lambda: bench.bare_dump("vault")),
                           ("module", lambda: bench.module_dump("vault")),
                           ("inproc", lambda: bench.inprocess_dump("vault"))]
                for _name, action in rotate(group_a, rep):
                    bench.add(action(), "final", rep)
            group_b = [("cand-%s" % n, (lambda n=n: bench.candidate_workflow("vault", data, n, CANDIDATES[n], mwm)))
                       for n in finalists]
            if rep >= args.repeat:
                group_b = []
            if rep < args.baseline_repeat:
                group_b.append(("baseline", lambda: bench.baseline_workflow("vault", data)))
            for _name, action in rotate(group_b, rep):
                bench.add(action(), "final", rep)

        # -- results --------------------------------------------------------------------
        medians = summarize(bench.samples, "final")
        report["medians"] = medians
        results = {}
        if not args.skip_dump_overhead:
            bare = medians["bare-pg_dump-Fc"]
            module = medians["pg_backup-default-dump"]
            inproc = medians["pg_backup-module_utils-dump"]
            results["dump_overhead"] = {
                "ratio": ratio(module["seconds"], bare["seconds"]),
                "ratio_definition": "median ansible task time of pg_backup (AnsiballZ, module start, probe,"
                                    " pg_dump, SHA-256, TOC check, fsync, manifest) / median wall time of bare pg_dump",
                "ratio_playbook_wall": ratio(module["wall_seconds"], bare["seconds"]),
                "ratio_in_process": ratio(inproc["seconds"], bare["seconds"]),
                "ratio_of_minimums": ratio(module["min_seconds"], bare["min_seconds"]),
                "bare_seconds": bare["seconds"], "pg_backup_task_seconds": module["seconds"],
                "pg_backup_playbook_wall_seconds": module["wall_seconds"],
                "pg_backup_in_process_seconds": inproc["seconds"],
                "bare_archive_bytes": bare["archive_bytes"], "pg_backup_archive_bytes": module["archive_bytes"],
            }
        baseline = medians.get("postgresql_db-dump+restore")
        reference_bytes = (baseline or medians.get("bare-pg_dump-Fc") or {}).get("archive_bytes")
        eligible = [n for n in finalists
                    if not reference_bytes or medians[n]["archive_bytes"] <= reference_bytes * args.max_size_ratio]
        fastest = min(eligible or finalists, key=lambda n: medians[n]["seconds"])
        chosen = medians[fastest]
        results["fast_workflow"] = {
            "chosen_mode": fastest,
            "chosen_options": dict(CANDIDATES[fastest], maintenance_work_mem=mwm),
            "ratio": ratio(chosen["seconds"], baseline["seconds"]) if baseline else None,
            "ratio_definition": "median over repetitions of the summed ansible task times: pg_backup"
                                " dump+verify+restore / postgresql_db dump+create+restore",
            "ratio_playbook_wall": ratio(chosen["wall_seconds"], baseline["wall_seconds"]) if baseline else None,
            "ratio_of_minimums": ratio(chosen["min_seconds"], baseline["min_seconds"]) if baseline else None,
            "pg_backup_seconds": chosen["seconds"], "pg_backup_per_task_medians": chosen["task_seconds"],
            "baseline_seconds": baseline["seconds"] if baseline else None,
            "baseline_per_task_medians": baseline["task_seconds"] if baseline else None,
            "pg_backup_archive_bytes": chosen["archive_bytes"],
            "baseline_archive_bytes": baseline["archive_bytes"] if baseline else None,
            "finalists": {n: {"seconds": medians[n]["seconds"], "min_seconds": medians[n]["min_seconds"],
                              "archive_bytes": medians[n]["archive_bytes"], "eligible": n in eligible}
                          for n in finalists},
        }
        for goal, result in results.items():
            result["goal_max_ratio"] = GOALS[goal]["max_ratio"]
            result["pass"] = result["ratio"] is not None and result["ratio"] <= GOALS[goal]["max_ratio"]
            if result.get("ratio_playbook_wall") is not None:
                result["pass_playbook_wall"] = result["ratio_playbook_wall"] <= GOALS[goal]["max_ratio"]
        report["results"] = results
        report["contended_samples"] = sum(1 for r in bench.samples if r["stage"] == "final" and r.get("contended"))
        log("\nRestoring the %s archive with the standard tools only ..." % fastest)
        report["standard_tools_check"] = standard_tools_check(bench, "vault", data, fastest, mwm)
    except BenchFailure as exc:
        report["error"] = str(exc)
        log("\nFAILED: %s" % exc)
        exit_code = 1
    finally:
        report["samples"] = bench.samples
        report["machine_loadavg_at_end"] = loadavg()
        report["duration_seconds"] = round(time.monotonic() - started, 1)
        try:
            report["server_log_tail"] = bench.cluster.log()[-4000:] if bench.cluster else None
        except OSError:
            report["server_log_tail"] = None
        bench.stop()
        if not args.workdir:
            shutil.rmtree(bench.workdir, ignore_errors=True)
        os.makedirs(args.results_dir, exist_ok=True)
        out = os.path.join(args.results_dir, "pg_backup-%s.json" % started_utc.strftime("%Y%m%dT%H%M%SZ"))
        with open(out, "w") as handle:
            json.dump(report, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
    print_table(report)
    log("\nResults: %s (%.1f min)" % (out, report["duration_seconds"] / 60))
    return exit_code


def standard_tools_check(bench, db, source_facts, mode_name, mwm):
    """Restore the chosen mode's archive with nothing but the standard tools, as bench/README.md documents."""
    mode = CANDIDATES[mode_name]
    directory = bench.fresh_dir("standard-tools")
    dump_args = dict(bench.conn, database=db, dest_dir=directory,
                     name_pattern="bench.dir" if mode["dump"].get("format") == "directory" else "bench.dump")
    dump_args.update(mode["dump"])
    _facts, tasks = bench.playbook(directory, "dump", [{"name": "dump", MODULE: dump_args}])
    result = tasks[0]["result"]
    path = result["path"]
    restored = "r_standard_tools"
    jobs = mode["restore"]["jobs"]
    if mode["dump"].get("compressor") == "zstd" and jobs > 1:
        plain = os.path.join(directory, "plain.dump")
        command = "zstd -q -dc %s > %s && pg_restore -j%d -d %s %s" % (path, plain, jobs, restored, plain)
    elif mode["dump"].get("compressor") == "zstd":
        command = "zstd -q -dc %s | pg_restore -d %s" % (path, restored)
    else:
        command = "pg_restore -j%d -d %s %s" % (jobs, restored, path)
    env = bench.client_env()
    if mwm and mwm != "default":
        env["PGOPTIONS"] = "-c maintenance_work_mem=%s" % mwm
    check = {"command": command, "pgoptions": env.get("PGOPTIONS")}
    if os.path.isfile(path):
        digest = subprocess.run(["sha256sum", path], capture_output=True, text=True, check=True).stdout.split()[0]
        check["sha256sum_matches_manifest"] = digest == result["sha256"]
    bench.settle()
    with Sample() as sample:
        subprocess.run(["createdb", restored], env=env, check=True)
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env, capture_output=True, text=True,
                              check=False)
    check.update(rc=proc.returncode, stderr=proc.stderr[-2000:], seconds=sample.facts["wall_seconds"])
    if proc.returncode == 0:
        check["restored_check"] = bench.check_restored(source_facts, restored)
    bench.drop_database(restored)
    shutil.rmtree(directory)
    if check["rc"] != 0 or check.get("sha256sum_matches_manifest") is False:
        raise BenchFailure("the standard tools could not restore the %s archive: %s" % (mode_name, check))
    log("  standard tools: %s  (%.1f s, row counts match)" % (command, check["seconds"]))
    return check


def print_table(report):
    log("\n%-38s %4s %10s %10s %10s %10s" % ("median (stage final)", "n", "task/s", "min/s", "wall/s",
                                             "archive MB"))
    for label, entry in sorted((report.get("medians") or {}).items()):
        size = "%.1f" % (entry["archive_bytes"] / 1e6) if entry["archive_bytes"] else "-"
        log("%-38s %4d %10.2f %10.2f %10.2f %10s" % (label, entry["n"], entry["seconds"], entry["min_seconds"],
                                                     entry["wall_seconds"], size))
    for goal, result in sorted((report.get("results") or {}).items()):
        log("%-15s ratio %.3f (goal <= %.2f) %s; playbook wall ratio %s; ratio of minimums %s%s" % (
            goal, result["ratio"] or float("nan"), result["goal_max_ratio"], "PASS" if result["pass"] else "MISS",
            result.get("ratio_playbook_wall"), result.get("ratio_of_minimums"),
            "; chosen mode %s, mwm %s" % (result["chosen_mode"], result["chosen_options"]["maintenance_work_mem"])
            if goal == "fast_workflow" else ""))
    if report.get("contended_samples"):
        log("note: %d measured samples began with the 1-minute load above the core count (other work on the"
            " machine); compare medians with the minimums" % report["contended_samples"])
    if report.get("error"):
        log("ERROR: %s" % report["error"])


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where pg_backup's time goes: a companion of pg_backup_bench.py (bench/run.sh --profile).

Against the same kind of database as the benchmark, interleaved and repeated:

dump  - bare ``pg_dump -Fc -f file`` against pg_dumper.dump() as it is
        (pg_dump's stdout streamed through Python: SHA-256 while writing) and
        against a prototype that lets pg_dump write the hidden temporary file
        itself (``--file``) and hashes it afterwards from the page cache.
        Reports wall time, pg_dump's CPU and the Python process's own CPU.
phases - the in-process dump's phases (probe, pg_dump pipeline, TOC listing,
        fsync and publish, manifest), the same for zstd.
restore - pg_restore variants of the same data, with every statement's
        duration taken from the server log and summed per kind (COPY, CREATE
        INDEX, constraints, other): piped zstd with one job, unpacked zstd with
        two jobs, maintenance_work_mem default against 512MB, and two-job
        restores of an archive written to a file (with data offsets) against
        one streamed through a pipe (without).

Results: bench/results/profile-<UTC timestamp>.json and a printed summary.
"""

import argparse
import datetime
import functools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pg_backup_bench as pbb  # noqa: E402  (sets up the import path of the collection)
import vault_data  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_dumper  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import AtomicFile, sha256_file  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import ClientTools  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import PgConnection  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run_pipeline  # noqa: E402

log = pbb.log


def cpu_self():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dump_file_backed(conn, tools, request):
    """Prototype of the recommended change: pg_dump writes the hidden temporary file itself.

    Same guarantees as pg_dumper.dump() (0600 hidden temporary name, fsync,
    link without replacing, manifest last), but nothing flows through Python:
    SHA-256 is computed afterwards from the page cache, and the archive gets
    pg_dump's data offsets because its output is seekable.
    """
    server = pg_dumper.precheck(conn, request)
    started_clock = time.time()
    argv = [tools.path("pg_dump"), "--no-password", "--format=custom",
            "--compress=%d" % request.pg_dump_compression()]
    with AtomicFile(request.path) as out:
        run_pipeline([argv + ["--file=%s" % out.temp_path]], env=conn.env(request.database), run_as=conn.run_as)
        digest, size = sha256_file(out.temp_path)
        manifest = pg_dumper._manifest(conn, tools, request, server, started_clock, size, digest,
                                       pg_dumper.list_toc(out.temp_path, {"compressor": "none"}, tools))
        out.commit()
    # the names pg_dumper itself uses, wherever they live (they moved between module_utils before)
    pg_dumper.write_json_atomic(pg_dumper.manifest_path_for(request.path), manifest)
    return manifest


class Profiler(object):
    def __init__(self, bench):
        self.bench = bench
        self.cluster = bench.cluster
        self.tools = ClientTools(shutil.which)

    def params(self):
        return dict(login_host="127.0.0.1", port=self.cluster.port, login_user="postgres",
                    login_password=self.cluster.superuser_password, login_unix_socket=None, ssl_mode="prefer",
                    ca_cert=None, ssl_cert=None, ssl_key=None, connect_timeout=10, os_user=None)

    # -- dump A/B/C ---------------------------------------------------------------------------
    def dump_variant(self, variant, db):
        self.bench.settle()
        directory = self.bench.fresh_dir("profile-" + variant)
        path = os.path.join(directory, "x.dump")
        cpu0, self0, started = cpu_children(), cpu_self(), time.monotonic()
        if variant == "bare pg_dump -Fc -f":
            subprocess.run(["pg_dump", "-Fc", "-f", path, db], env=self.bench.client_env(), check=True)
        else:
            with PgConnection(self.params(), self.tools.path) as conn:
                request = pg_dumper.DumpRequest(db, directory, name_pattern="x.dump")
                if variant == "pg_dumper.dump (streamed)":
                    pg_dumper.dump(conn, self.tools, request)
                else:
                    dump_file_backed(conn, self.tools, request)
        wall = time.monotonic() - started
        record = {"variant": variant, "wall_seconds": round(wall, 3),
                  "children_cpu_seconds": round(cpu_children() - cpu0, 3),
                  "python_cpu_seconds": round(cpu_self() - self0, 3), "loadavg": pbb.loadavg(),
                  "archive_bytes": os.path.getsize(path)}
        shutil.rmtree(directory)
        return record

    def dump_phases(self, db, **options):
        """pg_dumper.dump() with its phases timed (wrappers around the functions it calls)."""
        spent = {}
        patched = []

        def wrap(owner, name, label):
            original = getattr(owner, name)

            @functools.wraps(original)
            def timed(*args, **kwargs):
                started = time.monotonic()
                try:
                    return original(*args, **kwargs)
                finally:
                    spent[label] = spent.get(label, 0.0) + time.monotonic() - started
            setattr(owner, name, timed)
            patched.append((owner, name, original))
        wrap(pg_dumper, "precheck", "probe (psql)")
        wrap(pg_dumper, "run_pipeline", "pg_dump pipeline, read, SHA-256, write")
        wrap(pg_dumper, "list_toc", "TOC listing (pg_restore --list)")
        wrap(AtomicFile, "commit", "fsync and publish")
        wrap(pg_dumper, "write_json_atomic", "manifest")
        wrap(ClientTools, "version_text", "tool versions")
        self.bench.settle()
        directory = self.bench.fresh_dir("profile-phases")
        try:
            started = time.monotonic()
            with PgConnection(self.params(), self.tools.path) as conn:
                request = pg_dumper.DumpRequest(db, directory, name_pattern="x.dump", **options)
                manifest = pg_dumper.dump(conn, self.tools, request)[0]
            total = time.monotonic() - started
        finally:
            for owner, name, original in patched:
                setattr(owner, name, original)
        shutil.rmtree(directory)
        return {"options": options, "total_seconds": round(total, 3), "archive_bytes": manifest["size"],
                "phases_seconds": {k: round(v, 3) for k, v in spent.items()}}

    # -- restore ------------------------------------------------------------------------------
    def statement_times(self, log_offset):
        """Durations (log_min_duration_statement = 0) since log_offset, summed per kind."""
        text = self.cluster.log()[log_offset:]
        kinds = {"COPY (data load)": 0.0, "CREATE INDEX": 0.0, "ADD CONSTRAINT (PK, FK)": 0.0, "other": 0.0}
        top = []
        for match in re.finditer(r"duration: ([0-9.]+) ms  statement: (.*)", text):
            ms, statement = float(match.group(1)), match.group(2)
            if statement.startswith("COPY "):
                kind = "COPY (data load)"
            elif statement.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):
                kind = "CREATE INDEX"
            elif statement.startswith("ALTER TABLE"):
                kind = "ADD CONSTRAINT (PK, FK)"
            else:
                kind = "other"
            kinds[kind] += ms / 1000.0
            top.append((ms / 1000.0, statement[:80]))
        top.sort(reverse=True)
        return {k: round(v, 2) for k, v in kinds.items()}, [[round(s, 2), t] for s, t in top[:8]]

    def restore_variant(self, name, command, mwm, source_facts):
        self.bench.settle()
        target = "r_profile"
        env = self.bench.client_env()
        if mwm != "default":
            env["PGOPTIONS"] = "-c maintenance_work_mem=%s" % mwm
        subprocess.run(["createdb", target], env=env, check=True)
        offset = len(self.cluster.log())
        started = time.monotonic()
        subprocess.run(["bash", "-o", "pipefail", "-c", command.format(db=target)], env=env, check=True)
        wall = time.monotonic() - started
        kinds, top = self.statement_times(offset)
        self.bench.check_restored(source_facts, target)
        self.bench.drop_database(target)
        return {"variant": name, "maintenance_work_mem": mwm, "command": command, "wall_seconds": round(wall, 3),
                "statement_seconds_by_kind": kinds, "slowest_statements": top, "loadavg": pbb.loadavg()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--size-gb", type=float, default=1.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-restore", action="store_true")
    parser.add_argument("--results-dir", default=os.path.join(pbb.BENCH_DIR, "results"))
    args = parser.parse_args(argv)
    started_utc = datetime.datetime.now(datetime.timezone.utc)
    bench_args = pbb.parse_args(["--size-gb", str(args.size_gb)])
    bench = pbb.Bench(bench_args)
    pbb.SERVER_SETTINGS["log_min_duration_statement"] = "0"  # every statement's duration, for the restore split
    report = {"tool": "bench/profile_pg_backup.py", "started_at": started_utc.isoformat(),
              "arguments": vars(args)}
    try:
        bench.start()
        report["machine"] = pbb.machine_info(bench.cluster)
        log("Generating %.2f GB ..." % args.size_gb)
        data = vault_data.generate(bench.cluster, "vault", args.size_gb, log=log)
        report["data"] = data
        profiler = Profiler(bench)

        log("\nDump: bare vs streamed (as is) vs file-backed (prototype), %d rounds ..." % args.repeat)
        variants = ["bare pg_dump -Fc -f", "pg_dumper.dump (streamed)", "file-backed prototype"]
        dumps = []
        for rep in range(args.repeat):
            for variant in pbb.rotate(variants, rep):
                record = profiler.dump_variant(variant, "vault")
                dumps.append(record)
                log("  %-28s wall %6.2f s  pg_dump cpu %6.2f s  python cpu %5.2f s" % (
                    variant, record["wall_seconds"], record["children_cpu_seconds"], record["python_cpu_seconds"]))
        report["dump_samples"] = dumps
        report["dump_medians"] = {
            v: {key: round(statistics.median(r[key] for r in dumps if r["variant"] == v), 3)
                for key in ("wall_seconds", "children_cpu_seconds", "python_cpu_seconds")} for v in variants}

        log("\nDump phases (in-process) ...")
        report["dump_phases"] = [profiler.dump_phases("vault"), profiler.dump_phases("vault", compressor="zstd")]
        for entry in report["dump_phases"]:
            log("  %s total %.2f s: %s" % (entry["options"] or "default", entry["total_seconds"],
                                           ", ".join("%s %.2f" % kv for kv in entry["phases_seconds"].items())))

        if not args.skip_restore:
            log("\nRestore variants (statement times from the server log) ...")
            directory = bench.fresh_dir("profile-archives")
            env = bench.client_env()
            zst = os.path.join(directory, "x.dump.zst")
            subprocess.run("pg_dump -Fc -Z0 vault | zstd -q -T0 -3 > %s" % zst, shell=True, env=env, check=True)
            filed = os.path.join(directory, "filed.dump")
            streamed = os.path.join(directory, "streamed.dump")
            subprocess.run(["pg_dump", "-Fc", "-Z0", "-f", filed, "vault"], env=env, check=True)
            subprocess.run("pg_dump -Fc -Z0 vault > %s" % streamed, shell=True, env=env, check=True)
            plain = os.path.join(directory, "unpacked.dump")
            variants = [
                ("zstd piped, jobs 1", "zstd -q -dc %s | pg_restore -d {db}" % zst, "default"),
                ("zstd piped, jobs 1", "zstd -q -dc %s | pg_restore -d {db}" % zst, "512MB"),
                ("zstd unpacked, jobs 2", "zstd -q -dc %s > %s && pg_restore -j2 -d {db} %s && rm -f %s" % (
                    zst, plain, plain, plain), "default"),
                ("zstd unpacked, jobs 2", "zstd -q -dc %s > %s && pg_restore -j2 -d {db} %s && rm -f %s" % (
                    zst, plain, plain, plain), "512MB"),
                ("file-written archive (data offsets), jobs 2", "pg_restore -j2 -d {db} %s" % filed, "512MB"),
                ("streamed archive (no data offsets), jobs 2", "pg_restore -j2 -d {db} %s" % streamed, "512MB"),
            ]
            restores = []
            for rep in range(max(1, args.repeat - 1)):
                for name, command, mwm in pbb.rotate(variants, rep):
                    record = profiler.restore_variant(name, command, mwm, data)
                    restores.append(record)
                    log("  %-46s mwm %-7s %6.2f s  %s" % (name, mwm, record["wall_seconds"], ", ".join(
                        "%s %.1f" % kv for kv in record["statement_seconds_by_kind"].items())))
            report["restore_samples"] = restores
            medians = {}
            for name, _command, mwm in variants:
                key = "%s, mwm %s" % (name, mwm)
                rows = [r for r in restores if r["variant"] == name and r["maintenance_work_mem"] == mwm]
                medians[key] = {"wall_seconds": round(statistics.median(r["wall_seconds"] for r in rows), 3),
                                "statement_seconds_by_kind": {
                                    k: round(statistics.median(r["statement_seconds_by_kind"][k] for r in rows), 2)
                                    for k in rows[0]["statement_seconds_by_kind"]}}
            report["restore_medians"] = medians
            shutil.rmtree(directory)
    finally:
        report["loadavg_at_end"] = pbb.loadavg()
        bench.stop()
        shutil.rmtree(bench.workdir, ignore_errors=True)
        os.makedirs(args.results_dir, exist_ok=True)
        out = os.path.join(args.results_dir, "profile-%s.json" % started_utc.strftime("%Y%m%dT%H%M%SZ"))
        with open(out, "w") as handle:
            json.dump(report, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
    log("\nDump medians:")
    for variant, entry in report.get("dump_medians", {}).items():
        log("  %-28s wall %6.2f s  pg_dump cpu %6.2f s  python cpu %5.2f s" % (
            variant, entry["wall_seconds"], entry["children_cpu_seconds"], entry["python_cpu_seconds"]))
    log("Restore medians:")
    for key, entry in report.get("restore_medians", {}).items():
        log("  %-60s %6.2f s  %s" % (key, entry["wall_seconds"], entry["statement_seconds_by_kind"]))
    log("\nResults: %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

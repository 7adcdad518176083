# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark vaultops.recovery.path_archive against the seed's ``tar -C / -czf``.

Run it through bench/path_archive.sh. One run:

1. builds a Vaulthalla-like tree below a scratch root: etc/vaulthalla with a
   little compressible configuration, and var/lib/vaulthalla with the three
   sealed key blobs and --size-gb of incompressible (random, like encrypted
   vault bodies) files of mixed sizes (seeded, so every run has the same shape);
2. reads it once so every side starts with the same warm page cache;
3. interleaves --repeat repetitions, rotating the order, of
   a. the seed: ``tar -C root -czf out.tgz etc/vaulthalla var/lib/vaulthalla``;
   b. the module through ansible-playbook, as users run it (wall time of the
      whole ansible-playbook process, start-up included);
   c. the module in-process (path_archiver.archive, what the task itself costs);
   each output is measured and deleted before the next;
4. measures what per-file SHA-256 would add (hashing every file once more,
   warm cache), then one verify and one restore of the module's archive;
5. writes samples, medians, ratios and pass/fail per goal to
   bench/results/path_archive-<UTC timestamp>.json and prints a short table.

It is a benchmark, not a test: it exits non-zero only when a task fails or a
restore differs, never because a goal is missed.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "tests"))

from support.collection import install_import_path  # noqa: E402

COLLECTIONS_ROOT = install_import_path()

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_archiver, path_restorer, path_tar, path_verifier  # noqa: E402

MODULE = "vaultops.recovery.path_archive"
RELS = ["etc/vaulthalla", "var/lib/vaulthalla"]
GOALS = {"wall_ratio_max": 0.2, "size_ratio_max": 1.05}
# (share of the bytes, smallest, largest file size): many small bodies, some medium, a few large.
SIZE_CLASSES = [(0.15, 4 << 10, 64 << 10), (0.35, 64 << 10, 1 << 20), (0.30, 1 << 20, 16 << 20),
                (0.20, 32 << 20, 96 << 20)]
CHUNK = 4 << 20


def write_random(path, size):
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            handle.write(block)
            left -= len(block)


def build_tree(root, size_bytes, seed=20261121):
    """The Vaulthalla-like tree; returns its description."""
    rng = random.Random(seed)
    etc = os.path.join(root, "etc/vaulthalla")
    state = os.path.join(root, "var/lib/vaulthalla")
    os.makedirs(etc)
    os.makedirs(state)
    compressible = 0
    config = "".join("server:\n  port: %d\n  host: 0.0.0.0\nauth:\n  token_ttl: %d\ncache:\n  policy: lru\n"
                     % (8000 + n, 3600 + n) for n in range(2000))
    for name, text in (("config.yaml", config), ("pricing.yaml", config.replace("server", "pricing")),
                       ("sharing.json", json.dumps([{"share": n, "role": "reader", "vault": n % 7}
                                                    for n in range(20000)], indent=2))):
        with open(os.path.join(etc, name), "w") as handle:
            handle.write(text)
        compressible += len(text.encode())
    os.chmod(os.path.join(etc, "config.yaml"), 0o640)
    for key in ("psql", "master", "vault_master"):
        blob = os.path.join(state, ".sealed_%s.blob" % key)
        os.mkdir(blob, 0o700)
        for suffix, size in (("priv", 734), ("pub", 402)):
            write_random(os.path.join(blob, "%s.%s" % (key, suffix)), size)
    files = 0
    random_bytes = 0
    for share, low, high in SIZE_CLASSES:
        budget = int(size_bytes * share)
        while budget > 0:
            size = min(budget, rng.randint(low, high))
            vault = os.path.join(state, "vaults", "vault-%02d" % rng.randint(1, 12), "%02x" % rng.randint(0, 255))
            os.makedirs(vault, exist_ok=True)
            write_random(os.path.join(vault, "%016x.enc" % rng.getrandbits(64)), size)
            budget -= size
            random_bytes += size
            files += 1
    return dict(random_files=files, random_bytes=random_bytes, compressible_bytes=compressible,
                sealed_blobs=3, size_classes=[dict(share=s, min=lo, max=hi) for s, lo, hi in SIZE_CLASSES])


def all_files(root):
    for rel in RELS:
        for dirpath, _dirs, filenames in os.walk(os.path.join(root, rel)):
            for name in filenames:
                yield os.path.join(dirpath, name)


def read_everything(root):
    """Read every file once (warms the page cache); returns bytes read."""
    total = 0
    for path in all_files(root):
        with open(path, "rb") as handle:
            while True:
                block = handle.read(CHUNK)
                if not block:
                    break
                total += len(block)
    return total


def sha256_every_file(root):
    """What per-file checksums would cost: hash each file on its own (a second read of every byte)."""
    started = time.perf_counter()
    count = 0
    for path in all_files(root):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while True:
                block = handle.read(1 << 20)
                if not block:
                    break
                digest.update(block)
        digest.hexdigest()
        count += 1
    return time.perf_counter() - started, count


def clear(directory):
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))


# ------------------------------------------------------------------------ sides

def run_seed(root, dest):
    out = os.path.join(dest, "vaulthalla-config-state.tgz")
    started = time.perf_counter()
    subprocess.run(["tar", "-C", root, "-czf", out] + RELS, check=True)
    wall = time.perf_counter() - started
    return dict(wall_s=wall, size=os.path.getsize(out))


def run_ansible(root, dest, workdir):
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "archive config and state", MODULE: {
                 "paths": [os.path.join(root, rel) for rel in RELS], "root": root, "dest_dir": dest}}]}]
    playbook = os.path.join(workdir, "path_archive_bench.yml")
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n%s" % proc.stdout[-4000:])
    archives = [name for name in os.listdir(dest) if name.endswith(".tar.zst")]
    with open(os.path.join(dest, archives[0] + ".manifest.json")) as handle:
        manifest = json.load(handle)
    return dict(wall_s=wall, size=manifest["size"], module_duration_s=manifest["duration_seconds"],
                member_count=manifest["member_count"], sealed_blobs=len(manifest["sealed_blobs"]))


def module_params(root, dest, **extra):
    params = dict(paths=[os.path.join(root, rel) for rel in RELS], root=root, dest_dir=dest, compressor="zstd",
                  compress_level=None, threads=0, exclude=[], one_file_system=False, xattrs=False,
                  name_pattern=None, prefix="bench")
    params.update(extra)
    return params


def run_inproc(root, dest):
    tools = path_tar.Tools(shutil.which)
    started = time.perf_counter()
    result = path_archiver.archive(tools, module_params(root, dest), False)
    wall = time.perf_counter() - started
    return dict(wall_s=wall, size=result["size"], path=result["path"], member_count=result["member_count"])


SIDES = {"seed_tar_czf": run_seed, "module_ansible": None, "module_inproc": run_inproc}


def tool_version(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False).stdout
    except OSError:
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def median(samples, key="wall_s"):
    return statistics.median(sample[key] for sample in samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="incompressible state bytes, in GiB (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every side (default 3)")
    parser.add_argument("--workdir", help="scratch directory (default: a new one below /var/tmp, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--out", default=os.path.join(BENCH_DIR, "results"), help="directory for the JSON result")
    args = parser.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="path_archive_bench-", dir="/var/tmp")
    root = os.path.join(workdir, "root")
    dest = os.path.join(workdir, "dest")
    os.makedirs(dest, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    try:
        print("building %.2f GiB tree in %s ..." % (args.size_gb, root), flush=True)
        started = time.perf_counter()
        dataset = build_tree(root, int(args.size_gb * (1 << 30)))
        dataset["build_s"] = round(time.perf_counter() - started, 2)
        dataset["total_bytes"] = read_everything(root)
        samples = dict((side, []) for side in SIDES)
        order = list(SIDES)
        for rep in range(args.repeat):
            for side in order[rep % len(order):] + order[:rep % len(order)]:
                clear(dest)
                if side == "module_ansible":
                    sample = run_ansible(root, dest, workdir)
                else:
                    sample = SIDES[side](root, dest)
                sample.pop("path", None)
                sample.update(rep=rep, load_avg_1m=os.getloadavg()[0])
                samples[side].append(sample)
                print("rep %d %-15s %7.2f s  %d bytes" % (rep, side, sample["wall_s"], sample["size"]), flush=True)
        clear(dest)

        sha_samples = []
        for _rep in range(args.repeat):
            seconds, count = sha256_every_file(root)
            sha_samples.append(dict(wall_s=seconds, files=count))

        # One verify and one restore of the module's own archive (for the restore drill's time budget).
        tools = path_tar.Tools(shutil.which)
        made = run_inproc(root, dest)
        started = time.perf_counter()
        path_verifier.verify(tools, made["path"])
        verify_s = time.perf_counter() - started
        restore_root = os.path.join(workdir, "restore-root")
        for rel in RELS:
            os.makedirs(os.path.dirname(os.path.join(restore_root, rel)), exist_ok=True)
        started = time.perf_counter()
        restored = path_restorer.restore(tools, dict(path=made["path"], manifest=None, root=restore_root,
                                                     owners="numeric", keep_safety_copy=False), False)
        restore_s = time.perf_counter() - started
        if restored["member_count"] != made["member_count"]:
            raise SystemExit("restore differs: %r" % restored)
        clear(dest)

        medians = dict((side, round(median(samples[side]), 3)) for side in SIDES)
        sizes = dict((side, int(median(samples[side], "size"))) for side in SIDES)
        seed = medians["seed_tar_czf"]
        ratios = dict(
            wall_module_ansible_vs_seed=round(medians["module_ansible"] / seed, 4),
            wall_module_inproc_vs_seed=round(medians["module_inproc"] / seed, 4),
            size_module_vs_seed=round(sizes["module_inproc"] / float(sizes["seed_tar_czf"]), 5),
        )
        sha_median = statistics.median(sample["wall_s"] for sample in sha_samples)
        per_file = dict(
            seconds_median=round(sha_median, 3), files=sha_samples[0]["files"],
            mib_per_s=round(dataset["total_bytes"] / (1 << 20) / sha_median, 1),
            added_to_module_inproc=round(sha_median / medians["module_inproc"], 3),
            wall_ratio_with_it=round((medians["module_inproc"] + sha_median) / seed, 4),
            decision="not recorded: the archive SHA-256 (computed while writing) and zstd's frame checksum cover"
                     " the content; per-file hashes would be a second read of every byte")
        goals = dict(
            wall_ratio=dict(goal="<= %s" % GOALS["wall_ratio_max"],
                            module_ansible=ratios["wall_module_ansible_vs_seed"] <= GOALS["wall_ratio_max"],
                            module_inproc=ratios["wall_module_inproc_vs_seed"] <= GOALS["wall_ratio_max"]),
            size_ratio=dict(goal="<= %s" % GOALS["size_ratio_max"],
                            passed=ratios["size_module_vs_seed"] <= GOALS["size_ratio_max"]))
        report = dict(
            benchmark="path_archive", started_utc=stamp, repeat=args.repeat,
            host=dict(cpus=os.cpu_count(), machine=platform.machine(), python=platform.python_version(),
                      load_avg_at_end=os.getloadavg(), tar=tool_version(["tar", "--version"]),
                      zstd=tool_version(["zstd", "--version"]), gzip=tool_version(["gzip", "--version"])),
            dataset=dataset, samples=samples, medians_s=medians, sizes_bytes=sizes, ratios=ratios, goals=goals,
            per_file_sha256=per_file, per_file_sha256_samples=sha_samples,
            module_verify_s=round(verify_s, 3), module_restore_s=round(restore_s, 3),
            notes=["module sides fsync the archive and manifest; the seed's tar -czf does not",
                   "module_ansible is the wall time of the whole ansible-playbook process, start-up included",
                   "warm page cache for every side (the tree is read once before the first sample)"])
        os.makedirs(args.out, exist_ok=True)
        out = os.path.join(args.out, "path_archive-%s.json" % stamp)
        with open(out, "w") as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\n%-34s %10s %14s" % ("median of %d" % args.repeat, "wall s", "size bytes"))
    for side in SIDES:
        print("%-34s %10.2f %14d" % (side, medians[side], sizes[side]))
    print("wall ratio (ansible-playbook / seed) %.3f   goal <= %s: %s" % (
        ratios["wall_module_ansible_vs_seed"], GOALS["wall_ratio_max"], goals["wall_ratio"]["module_ansible"]))
    print("wall ratio (in-process / seed)       %.3f   goal <= %s: %s" % (
        ratios["wall_module_inproc_vs_seed"], GOALS["wall_ratio_max"], goals["wall_ratio"]["module_inproc"]))
    print("size ratio (module / seed)           %.4f  goal <= %s: %s" % (
        ratios["size_module_vs_seed"], GOALS["size_ratio_max"], goals["size_ratio"]["passed"]))
    print("per-file sha256 (second read): %.2f s = +%.0f%% of the in-process archive" % (
        per_file["seconds_median"], 100 * per_file["added_to_module_inproc"]))
    print("verify %.2f s, restore %.2f s" % (verify_s, restore_s))
    print("result: %s" % out)


if __name__ == "__main__":
    main()

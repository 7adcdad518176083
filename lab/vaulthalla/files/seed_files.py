#!/usr/bin/env python
# LAB-ONLY seeding helper (lab/vaulthalla/provision.yml runs it on the host as
# root with ansible.builtin.script; the spec comes in $VH_LAB_SEED_SPEC as JSON). Stores the known files through `vh vault put` (so local bodies
# and upstream-encrypted objects are encrypted by the daemon with the vault keys),
# S3 files in several versions, optional random bulk data for benchmarks, and
# writes the facts file the drills compare against:
#   {"recipient_fingerprint", "vaults": {...}, "files": [{vault, path, storage,
#    size, sha256, versions, previous_sha256}], "bulk": {...}}
# Idempotent: known files are seeded once; bulk data only grows to --data-mb.
"""Seed the Vaulthalla lab's vault files and record their SHA-256 values."""

import hashlib
import json
import os
import shutil
import subprocess
import sys


def vh(*args):
    proc = subprocess.run(["vh"] + list(args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit("vh %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    return proc.stdout


def put(workdir, vault, path, body, tag):
    source = os.path.join(workdir, tag)
    with open(source, "wb") as handle:
        handle.write(body)
    vh("vault", "put", vault, path, "--from", source)
    os.unlink(source)


def body_for(spec, version):
    if "text" in spec:
        text = spec["text"]
        if spec.get("versions", 1) > 1:
            text += "\n(version %d of %d)\n" % (version, spec["versions"])
        return text.encode("utf-8")
    return os.urandom(int(spec["random_kib"]) * 1024)


def main():
    spec = json.loads(os.environ["VH_LAB_SEED_SPEC"])
    facts_path = spec["facts"]
    workdir = spec["workdir"]
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    facts = {}
    if os.path.exists(facts_path):
        with open(facts_path) as handle:
            facts = json.load(handle)
    before = json.dumps(facts, sort_keys=True)

    vaults = {v["name"]: v for v in json.loads(vh("vault", "list", "--json"))}
    facts["vaults"] = {
        name: {"id": v["id"], "type": v["type"], "bucket": v["bucket"],
               "storage": "local" if v["type"] == "local" else ("s3-encrypted" if v["encrypt_upstream"] else "s3")}
        for name, v in vaults.items()}

    if not facts.get("files"):
        records = []
        for index, item in enumerate(spec["files"]):
            versions = int(item.get("versions", 1))
            digests = []
            size = 0
            for version in range(1, versions + 1):
                body = body_for(item, version)
                put(workdir, item["vault"], item["path"], body, "file-%d.v%d" % (index, version))
                digests.append(hashlib.sha256(body).hexdigest())
                size = len(body)
            records.append({"vault": item["vault"], "path": item["path"],
                            "storage": facts["vaults"][item["vault"]]["storage"], "size": size,
                            "sha256": digests[-1], "versions": versions, "previous_sha256": digests[:-1]})
        facts["files"] = records

    facts["recipient_fingerprint"] = spec["recipient_fingerprint"]

    bulk = facts.get("bulk") or {"vault": spec["bulk_vault"], "prefix": "/bulk", "mb": 0, "files": {}}
    want = int(spec.get("data_mb") or 0)
    if want > bulk["mb"]:
        bulk_dir = os.path.join(workdir, "bulk")
        shutil.rmtree(bulk_dir, ignore_errors=True)
        os.makedirs(bulk_dir, mode=0o700)
        for number in range(bulk["mb"], want):
            body = os.urandom(1 << 20)
            name = "blob-%05d.bin" % number
            with open(os.path.join(bulk_dir, name), "wb") as handle:
                handle.write(body)
            bulk["files"]["%s/%s" % (bulk["prefix"], name)] = hashlib.sha256(body).hexdigest()
        vh("vault", "put", bulk["vault"], bulk["prefix"], "--from", bulk_dir)
        shutil.rmtree(bulk_dir)
        bulk["mb"] = want
    bulk["bytes"] = bulk["mb"] << 20
    facts["bulk"] = bulk

    changed = json.dumps(facts, sort_keys=True) != before
    if changed:
        tmp = facts_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(facts, handle, indent=2, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, facts_path)
    print(json.dumps({"changed": changed, "facts": facts_path, "files": len(facts["files"]), "bulk_mb": bulk["mb"]}))


if __name__ == "__main__":
    main()

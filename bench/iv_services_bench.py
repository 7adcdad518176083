# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ordered stop and start of the Institutional Vault services: the role against bare kubectl, per tier.

Run it through bench/iv_services.sh. One run brings the IV lab up (tests/support/iv_lab.py: the Kubernetes API
stand-in whose pods are real service processes, two PostgreSQL clusters, moto), then, for each round:

1. ``role``: playbooks/institutional_vault_services.yml's role stops the seed's tiers (wallet, policy nodes,
   nats) and starts them again, through ansible-playbook; the per-tier seconds are the module's
   (``tier_seconds``), the whole is the ansible-playbook wall time;
2. ``bare``: the same order with kubectl alone, as a runbook would: ``kubectl scale --replicas=0`` for each
   workload of a tier, then ``kubectl get pods -l ... -o json`` every poll interval until none is left (stop), or
   ``kubectl scale --replicas=<n>`` and the same listing until n pods are Ready (start). ``kubectl wait`` is not
   used: it watches, which the stand-in does not serve.

Both sides poll every --poll seconds (default 0.25). The lab's pods take their shutdown time (wallet 1.5 s, the
rest 0.3 s) and their start time, so most of a tier's time is the services', the same on both sides; the ratio
shows what the role adds (ansible-playbook start, the plan read first, annotations and the run-state file).
Writes bench/results/iv_services-<UTC>.json and prints a table. A benchmark, not a test: it exits 1 only when a
stop or start fails.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO, "tests"))

from support.collection import collections_root  # noqa: E402
from support.iv_lab import NAME_LABEL, WORKLOADS, IVLab  # noqa: E402

SEED_TIERS = [("wallet", ["wallet"]), ("policy-nodes", ["policy-node0", "policy-node1", "policy-node2"]),
              ("nats", ["nats"])]
KINDS = dict((name, kind) for name, kind, _replicas, _probe, _shutdown in WORKLOADS)
REPLICAS = dict((name, replicas) for name, _kind, replicas, _probe, _shutdown in WORKLOADS)


def run_role(lab, workdir, state, poll):
    """(wall seconds, tier_seconds) of one role run."""
    result_file = os.path.join(workdir, "result-%s.json" % state)
    play = [{"name": "bench", "hosts": "institutional_vault", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "vaultops.recovery.institutional_vault_services"}},
        {"ansible.builtin.copy": {"dest": result_file, "mode": "0600",
                                  "content": "{{ institutional_vault_services_result | to_json }}"},
         "delegate_to": "localhost"}]}]
    playbook = os.path.join(workdir, "bench.yml")
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1")
    extra = {"institutional_vault_services_state": state, "institutional_vault_services_poll_interval": poll}
    started = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", lab.inventory,
                           playbook, "-e", json.dumps(extra)], capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("role %s failed:\n%s" % (state, proc.stdout[-4000:]))
    with open(result_file) as handle:
        result = json.load(handle)
    return wall, dict((t["tier"], t["seconds"]) for t in result["tier_seconds"])


def kubectl(lab, *args):
    return subprocess.run(["kubectl", "--kubeconfig", lab.api.kubeconfig, "-n", lab.namespace] + list(args),
                          capture_output=True, text=True, check=True).stdout


def pods_of(lab, names):
    selector = "%s in (%s)" % (NAME_LABEL, ",".join(names))
    return json.loads(kubectl(lab, "get", "pods", "-l", selector, "-o", "json"))["items"]


def ready(pod):
    return not pod["metadata"].get("deletionTimestamp") and all(
        c.get("ready") for c in pod["status"].get("containerStatuses") or [{}])


def run_bare(lab, state, poll):
    """(wall seconds, tier seconds) of the same order done with kubectl."""
    tiers = SEED_TIERS if state == "stopped" else list(reversed(SEED_TIERS))
    seconds, started = {}, time.monotonic()
    for tier, names in tiers:
        begun = time.monotonic()
        want = 0
        for name in names:
            count = 0 if state == "stopped" else REPLICAS[name]
            want += count
            kubectl(lab, "scale", "%s/%s" % (KINDS[name].lower(), name), "--replicas=%d" % count)
        while True:
            pods = pods_of(lab, names)
            if (not pods) if state == "stopped" else (len(pods) == want and all(ready(p) for p in pods)):
                break
            time.sleep(poll)  # the polling interval, as the role's
        seconds[tier] = time.monotonic() - begun
    return time.monotonic() - started, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.25)
    parser.add_argument("--provider", choices=["aws", "azure"], default="aws")
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="vaultops-bench-iv-")
    lab = IVLab(os.path.join(workdir, "lab"), provider=args.provider)
    lab_started = time.monotonic()
    lab.start()
    samples = {"role": {"stopped": [], "started": []}, "bare": {"stopped": [], "started": []}}
    try:
        lab_seconds = time.monotonic() - lab_started
        for _round in range(args.rounds):
            for state in ("stopped", "started"):
                samples["role"][state].append(run_role(lab, workdir, state, args.poll))
            for state in ("stopped", "started"):
                samples["bare"][state].append(run_bare(lab, state, args.poll))
    finally:
        lab.stop()
    rows = []
    for state in ("stopped", "started"):
        order = [t for t, _n in (SEED_TIERS if state == "stopped" else reversed(SEED_TIERS))]
        for tier in order + ["whole"]:
            role = statistics.median((wall if tier == "whole" else tiers[tier]) for wall, tiers in samples["role"][state])
            bare = statistics.median((wall if tier == "whole" else tiers[tier]) for wall, tiers in samples["bare"][state])
            rows.append({"state": state, "tier": tier, "role_s": round(role, 3), "bare_s": round(bare, 3),
                         "ratio": round(role / bare, 2) if bare else None})
    document = {"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "rounds": args.rounds, "poll": args.poll, "provider": args.provider,
                "lab_up_seconds": round(lab_seconds, 1), "rows": rows, "samples": samples}
    os.makedirs(os.path.join(BENCH_DIR, "results"), exist_ok=True)
    out = os.path.join(BENCH_DIR, "results", "iv_services-%s.json" % document["when"].replace(":", ""))
    with open(out, "w") as handle:
        json.dump(document, handle, indent=2)
    print("IV lab up in %.1f s; %d rounds, poll %.2f s (median seconds)" % (lab_seconds, args.rounds, args.poll))
    print("%-8s %-13s %8s %8s %6s" % ("state", "tier", "role", "kubectl", "ratio"))
    for row in rows:
        print("%-8s %-13s %8.2f %8.2f %6s" % (row["state"], row["tier"], row["role_s"], row["bare_s"], row["ratio"]))
    print("results: %s" % out)


if __name__ == "__main__":
    main()

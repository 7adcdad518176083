#!/usr/bin/env bash
# Full Vaulthalla recovery set wall time on a lab host holding N MiB of vault data
# (default 1024): brings up a dedicated lab host (scripts/vaulthalla-lab.sh with
# VH_LAB_DATA_MB), runs playbooks/backup.yml once as an operator would, and writes
# bench/results/recovery_set-<UTC>.json with the wall time, the per-task times
# (ansible.posix.profile_tasks) and the size of every artifact. Not a timed test.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
data_mb=${1:-1024}
container=vaultops-lab-vh-bench
work=$repo/.tmp/bench-recovery-set
results=$repo/bench/results
mkdir -p "$work" "$results"
rm -rf "$work/sets"

inventory=$(VH_LAB_CONTAINER=$container VH_LAB_DATA_MB=$data_mb "$repo/scripts/vaulthalla-lab.sh" up)
trap 'VH_LAB_CONTAINER=$container "$repo/scripts/vaulthalla-lab.sh" down --purge' EXIT

ANSIBLE_COLLECTIONS_PATH=$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
started=$(date +%s.%N)
"$VENV/bin/ansible-playbook" -i "$inventory" "$repo/playbooks/backup.yml" \
  -e "{\"vaulthalla_backup_fetch_dir\": \"$work/sets\"}" > "$work/backup.log"
finished=$(date +%s.%N)

"$VENV/bin/python" - "$work" "$results" "$data_mb" "$started" "$finished" <<'PY'
import datetime, glob, json, os, re, sys
work, results, data_mb, started, finished = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
manifest_path = glob.glob(os.path.join(work, "sets", "*", "manifest.json"))[0]
manifest = json.load(open(manifest_path))
tasks = []
for line in open(os.path.join(work, "backup.log")):
    match = re.match(r"^(.*?) -+ (\d+\.\d+)s$", line.strip())
    if match:
        tasks.append({"task": match.group(1).strip(), "seconds": float(match.group(2))})
report = {
    "what": "playbooks/backup.yml wall time, one lab host, %d MiB of vault data" % data_mb,
    "machine": {"nproc": os.cpu_count(), "load_average": os.getloadavg()},
    "wall_seconds": round(finished - started, 2),
    "set_bytes": manifest["total_bytes"],
    "artifacts": manifest["artifacts"],
    "slowest_tasks": sorted(tasks, key=lambda t: -t["seconds"])[:15],
}
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
path = os.path.join(results, "recovery_set-%s.json" % stamp)
json.dump(report, open(path, "w"), indent=2)
print(json.dumps({k: report[k] for k in ("what", "wall_seconds", "set_bytes")}, indent=2))
for task in report["slowest_tasks"][:8]:
    print("%8.2f s  %s" % (task["seconds"], task["task"]))
print("results:", path)
PY

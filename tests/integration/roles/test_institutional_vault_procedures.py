"""backup.yml, restore.yml and drill.yml for Institutional Vault, run as an operator runs them (ansible-playbook
against the lab's inventory) on the IV lab (tests/support/iv_lab.py): real PostgreSQL, real pods (processes)
behind the Kubernetes API stand-in, the secret store on moto (AWS) or the Key Vault stand-in (Azure).

One lab per provider for the module; the tests run in file order and each leaves the lab as the next expects
(services up, secrets and EMPs as planted), so the story reads top to bottom: backup, plan, guard, in-place
restore, refused EMP mismatch, a policy node that never becomes Ready and the rerun, redirected restore, drills.
"""

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from support import iv_database
from support.collection import REPO, collections_root
from support.iv_lab import APP_PASSWORD, EMPS, NODES, PLANTED, IVLab, secret_name

DB_SERVICES = ("orchestrator",) + NODES + ("wallet",)
WRONG_EMP = "planted-EMP-wrong-77c1d0"
ORIGINAL = {"wallet": 2, "policy-node0": 1, "policy-node1": 1, "policy-node2": 1, "orchestrator": 0, "nats": 3}


class Story(object):
    """The lab, where runs write, and every transcript (for the leak check at the end)."""

    def __init__(self, lab, work):
        self.lab, self.work, self.texts, self.runs = lab, str(work), [], 0
        self.sets = os.path.join(self.work, "recovery-sets")
        self.reports = os.path.join(self.work, "reports")

    def env(self):
        return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1",
                    **self.lab.controller_env())

    def run(self, playbook, check=False, **variables):
        """rc and the whole output (stdout, stderr, log) of ansible-playbook <playbook> on the lab inventory."""
        self.runs += 1
        name = "%02d-%s" % (self.runs, playbook.replace(".yml", ""))
        log = os.path.join(self.work, name + ".log")
        secrets = os.path.join(self.work, name + ".secrets.json")  # the password never on a command line
        fd = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.lab.controller_vars(), handle)
        variables.setdefault("institutional_vault_backup_dest", self.sets)
        variables.setdefault("institutional_vault_restore_report_dir", self.reports)
        variables.setdefault("institutional_vault_drill_report_dir", self.reports)
        variables.setdefault("institutional_vault_restore_verify_timeout", 60)
        variables.setdefault("institutional_vault_services_poll_interval", 0.25)
        # a collection playbook by its name (vaultops.recovery.drill) or the repository's file
        target = playbook if playbook.startswith("vaultops.") else os.path.join(REPO, "playbooks", playbook)
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", self.lab.inventory,
                target, "-e", "@" + secrets, "-e", json.dumps(variables)]
        try:
            proc = subprocess.run(argv + (["--check"] if check else []), capture_output=True, text=True, timeout=600,
                                  env=dict(self.env(), ANSIBLE_LOG_PATH=log), check=False)
        finally:
            os.unlink(secrets)
        with open(log) as handle:
            output = proc.stdout + proc.stderr + handle.read()
        self.texts.append(output)
        return proc.returncode, output

    def latest_set(self):
        sets = sorted(os.listdir(self.sets))
        return os.path.join(self.sets, [name for name in sets if name != "safety-backups"][-1])

    def latest_report(self, kind):
        names = sorted(name for name in os.listdir(self.reports) if name.startswith(kind) and name.endswith(".json"))
        with open(os.path.join(self.reports, names[-1])) as handle:
            return json.load(handle)

    def report_count(self):
        return len(os.listdir(self.reports)) if os.path.isdir(self.reports) else 0


def checks(report):
    return dict((check["name"], check["passed"]) for check in report["checks"])


def facts(report):
    return report["facts"]


def replicas(lab, namespace=None):
    return dict((name, lab.api.get(kind, namespace or lab.namespace, name)["spec"]["replicas"]) for name, kind in (
        ("wallet", "Deployment"), ("policy-node0", "Deployment"), ("policy-node1", "Deployment"),
        ("policy-node2", "Deployment"), ("orchestrator", "Deployment"), ("nats", "StatefulSet")))


def db_infos(lab, namespace=None):
    return dict((service, lab.secret_value(secret_name(lab.environment, namespace or lab.namespace, service,
                                                       "db-info"))) for service in DB_SERVICES)


def changes(lab, since, namespace):
    return [r for r in lab.api.requests[since:] if r[0] in ("PATCH", "PUT", "POST", "DELETE")
            and "/namespaces/%s/" % namespace in r[1]]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    lab = IVLab(tmp_path_factory.mktemp("iv-lab"), provider="aws").start()
    yield Story(lab, tmp_path_factory.mktemp("iv-story"))
    lab.stop()


def test_backup_in_check_mode_reads_and_writes_nothing(story):
    rc, output = story.run("backup.yml", check=True)
    assert rc == 0, output[-4000:]
    assert "would dump ivault into" in output and "12 accounts, 3 pending operations" in output
    assert not os.path.exists(story.sets)


def test_backup_records_the_counts_the_emp_digests_and_a_verified_dump(story):
    rc, output = story.run("backup.yml")
    assert rc == 0, output[-4000:]
    set_dir = story.latest_set()
    with open(os.path.join(set_dir, "manifest.json")) as handle:
        manifest = json.load(handle)
    assert manifest["product"] == "institutional_vault" and manifest["method"] == "pg_dump"
    assert manifest["accounts_count"] == 12 and manifest["pending_operations"] == 3
    assert manifest["emp_digests"] == dict((node, hashlib.sha256(EMPS[node].encode()).hexdigest()) for node in NODES)
    assert manifest["dump"].startswith("wallet-backup-") and manifest["dump"].endswith(".dump")
    assert [a["kind"] for a in manifest["artifacts"]] == ["pg_dump"] and manifest["complete"] is True
    assert manifest["backup_time"].startswith(manifest["sealed_at"][:10])
    assert oct(os.stat(set_dir).st_mode & 0o777) == "0o700"
    # Vaulthalla's play had no hosts and said nothing more than that
    assert "Could not match supplied host pattern" not in output


def test_restore_in_check_mode_prints_the_plan_and_changes_nothing(story):
    lab, since = story.lab, len(story.lab.api.requests)
    rc, output = story.run("restore.yml", check=True, institutional_vault_restore_set_dir=story.latest_set())
    assert rc == 0, output[-4000:]
    assert "1. verify the recovery set" in output and "3 operation(s) were pending" in output
    assert changes(lab, since, lab.namespace) == [] and replicas(lab) == ORIGINAL
    assert story.report_count() == 0


def test_production_needs_the_environment_named(story):
    lab, since = story.lab, len(story.lab.api.requests)
    rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set(),
                           institutional_vault_production=True)
    assert rc != 0 and "Nothing was changed" in output
    assert "-e institutional_vault_confirm_environment=lab" in output
    rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set(),
                           institutional_vault_production=True, institutional_vault_confirm_environment="prod")
    assert rc != 0 and "is 'prod' but this run is against environment 'lab'" in output
    assert changes(lab, since, lab.namespace) == [] and replicas(lab) == ORIGINAL


def test_in_place_restore_loses_what_came_after_the_backup(story):
    lab = story.lab
    lab.add_accounts(5)
    assert lab.wallet_get("/api/v2/accounts")[1]["total"] == 17
    rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set())
    assert rc == 0, output[-4000:]
    assert lab.account_count() == 12 and lab.wallet_get("/api/v2/accounts")[1]["total"] == 12
    assert replicas(lab) == ORIGINAL
    report = story.latest_report("restore")
    assert report["passed"] is True
    assert set(checks(report)) >= {"set_verified", "emp_digests_match", "safety_backup_taken", "services_stopped",
                                   "database_restored", "services_started", "pods_ready", "wallet_health",
                                   "accounts_count"}
    with open(os.path.join(story.latest_set(), "manifest.json")) as handle:
        backup_time = json.load(handle)["backup_time"][:19] + "Z"
    assert facts(report)["restore_point"] == backup_time and facts(report)["loss_window"]
    assert any("3 operation(s) were pending" in warning for warning in facts(report)["warnings"])
    assert set(facts(report)["timings_seconds"]) >= {"verify_set", "stop_services", "restore_database",
                                                     "start_services", "verify_services"}
    assert os.path.exists(facts(report)["safety_backup"])


def test_a_redirected_restore_with_a_changed_emp_is_refused_before_anything_changes(story):
    lab, since = story.lab, len(story.lab.api.requests)
    before = db_infos(lab)
    lab.set_emp("policy-node2", WRONG_EMP)
    try:
        rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set(),
                               institutional_vault_restore_target="redirected")
    finally:
        lab.set_emp("policy-node2", EMPS["policy-node2"])
    assert rc != 0 and "policy-node2 differs" in output
    assert "must be carried over unchanged" in output and "Nothing was changed" in output
    assert db_infos(lab) == before and changes(lab, since, lab.namespace) == [] and replicas(lab) == ORIGINAL
    report = story.latest_report("restore")
    assert checks(report)["emp_digests_match"] is False and "policy-node2 differs" in json.dumps(report)
    assert facts(report)["state_left"] == "nothing was changed"


def test_a_policy_node_that_never_becomes_ready_stops_the_start_and_a_rerun_continues(story):
    lab = story.lab
    node1 = secret_name(lab.environment, lab.namespace, "policy-node1", "db-info")
    lab.put_secret(node1, iv_database.db_info("127.0.0.1", 1, iv_database.DEFAULT_APP_USER, APP_PASSWORD))
    try:
        rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set(),
                               institutional_vault_services_start_timeout=12)
        assert rc != 0 and "policy-node1" in output
        # the failure itself says the environment was changed
        assert re.search(r'FAILED! => \{[^}]*"changed": true,[^}]*"msg": "The restore failed at step start_services',
                         output), output[-3000:]
        assert replicas(lab)["wallet"] == 0 and lab.workload_pods("wallet") == []
        report = story.latest_report("restore")
        assert report["passed"] is False and checks(report)["completed"] is False
        assert "policy-node1" in json.dumps(report["checks"])
        assert "services down" in facts(report)["state_left"] and "restored from the set" in facts(report)["state_left"]
    finally:
        lab.put_db_info("policy-node1", lab.source)
    rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set())
    assert rc == 0, output[-4000:]
    assert replicas(lab) == ORIGINAL and lab.wallet_get("/api/v2/accounts")[1]["total"] == 12


def test_a_redirected_restore_points_every_db_info_at_the_target(story):
    lab = story.lab
    before = dict((service, json.loads(text)) for service, text in db_infos(lab).items())
    rc, output = story.run("restore.yml", institutional_vault_restore_set_dir=story.latest_set(),
                           institutional_vault_restore_target="redirected")
    assert rc == 0, output[-4000:]
    after = dict((service, json.loads(text)) for service, text in db_infos(lab).items())
    for service in DB_SERVICES:
        assert after[service]["DB_PORT"] in (lab.target.port, str(lab.target.port))
        unchanged = dict((key, value) for key, value in before[service].items() if key not in ("DB_HOST", "DB_PORT"))
        assert dict((key, after[service][key]) for key in unchanged) == unchanged and set(after[service]) == set(
            before[service])
    # the wallet answers from the target: the source losing its table changes nothing
    lab.disaster_drop_accounts()
    assert lab.wallet_get("/api/v2/accounts")[1]["total"] == 12
    report = story.latest_report("restore")
    assert report["passed"] is True and facts(report)["mode"] == "redirected"
    assert len(facts(report)["secrets_db_host"]) == len(DB_SERVICES)


def test_a_drill_proves_the_set_in_the_drill_namespace_and_leaves_production_alone(story):
    lab, since = story.lab, len(story.lab.api.requests)
    rc, output = story.run("drill.yml", institutional_vault_drill_set_dir=story.latest_set())
    assert rc == 0, output[-4000:]
    report = story.latest_report("drill")
    assert report["passed"] is True
    assert all(checks(report)[name] for name in ("accounts_count", "pods_ready", "policy_nodes_ready",
                                                 "wallet_health", "emp_digests_match", "services_started"))
    assert lab.account_count("target", "ivault_drill") == 12
    assert changes(lab, since, lab.namespace) == []
    assert replicas(lab, lab.drill_namespace) == dict((name, 0) for name in ORIGINAL)


def test_a_drill_fails_when_the_drill_targets_emps_differ_from_the_set(story):
    lab = story.lab
    lab.set_emp("policy-node0", WRONG_EMP, namespace=lab.drill_namespace)
    try:
        rc, output = story.run("drill.yml", institutional_vault_drill_set_dir=story.latest_set())
    finally:
        lab.set_emp("policy-node0", EMPS["policy-node0"], namespace=lab.drill_namespace)
    assert rc != 0
    report = story.latest_report("drill")
    assert report["passed"] is False and checks(report)["emp_digests_match"] is False


def test_a_drill_into_production_is_refused(story):
    lab, since = story.lab, len(story.lab.api.requests)
    rc, output = story.run("vaultops.recovery.drill", institutional_vault_drill_set_dir=story.latest_set(),
                           institutional_vault_drill_namespace=lab.namespace)
    assert rc != 0 and "is the production namespace" in output
    assert changes(lab, since, lab.namespace) == []


def test_an_rds_snapshot_set_is_taken_verified_and_planned(story):
    """The aws_snapshot method against moto's RDS: the snapshot is taken and waited on, the set records it, and a
    restore in check mode finds it available and plans the snapshot restore (moto's instance runs no PostgreSQL,
    so the restore itself is proven by managed_snapshot's own tests)."""
    import boto3
    rds = boto3.client("rds", endpoint_url=story.lab.store.url, region_name="us-east-1", **dict(
        aws_access_key_id=story.lab.controller_env()["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=story.lab.controller_env()["AWS_SECRET_ACCESS_KEY"]))
    rds.create_db_instance(DBInstanceIdentifier="iv-lab-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="postgres", MasterUserPassword="planted-rds-pw-0")
    inventory = json.load(open(story.lab.inventory))["all"]["children"]["institutional_vault"]["hosts"]["iv_lab"]
    databases = inventory["institutional_vault_databases"]
    databases["source"]["instance"] = "iv-lab-db"
    common = dict(institutional_vault_databases=databases, institutional_vault_rds_endpoint_url=story.lab.store.url)
    rc, output = story.run("backup.yml", institutional_vault_backup_method="aws_snapshot",
                           institutional_vault_backup_wait_timeout=60, **common)
    assert rc == 0, output[-4000:]
    with open(os.path.join(story.latest_set(), "manifest.json")) as handle:
        manifest = json.load(handle)
    assert manifest["method"] == "aws_snapshot" and manifest["snapshot"]["name"].startswith("iv-lab-db-pre-upgrade-")
    assert manifest["accounts_count"] == 12 and manifest["artifacts"] == []
    snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier=manifest["snapshot"]["name"])["DBSnapshots"]
    assert snapshots[0]["Status"] == "available"
    rc, output = story.run("restore.yml", check=True, institutional_vault_restore_set_dir=story.latest_set(),
                           **common)
    assert rc == 0, output[-4000:]
    assert "restore the RDS snapshot in place" in output


def test_no_planted_secret_in_any_output_report_or_set(story):
    texts = list(story.texts)
    for root in (story.sets, story.reports):
        for directory, _dirs, files in os.walk(root):
            for name in files:
                if not name.endswith(".dump"):
                    with open(os.path.join(directory, name), errors="replace") as handle:
                        texts.append(handle.read())
    everything = "\n".join(texts)
    assert len(texts) > 15 and [value for value in PLANTED + [WRONG_EMP] if value in everything] == []


# Azure: the Key Vault stand-in holds the secrets ----------------------------------------------------------------
@pytest.fixture(scope="module")
def azure_story(tmp_path_factory):
    lab = IVLab(tmp_path_factory.mktemp("iv-lab-azure"), provider="azure").start()
    yield Story(lab, tmp_path_factory.mktemp("iv-story-azure"))
    lab.stop()


def test_azure_redirected_restore_keeps_every_other_key_byte_for_byte(azure_story):
    lab = azure_story.lab
    rc, output = azure_story.run("backup.yml")
    assert rc == 0, output[-4000:]
    before = dict((service, json.loads(text)) for service, text in db_infos(lab).items())
    rc, output = azure_story.run("restore.yml", institutional_vault_restore_set_dir=azure_story.latest_set(),
                                 institutional_vault_restore_target="redirected")
    assert rc == 0, output[-4000:]
    for service, text in db_infos(lab).items():
        after = json.loads(text)
        assert after["DB_PORT"] in (lab.target.port, str(lab.target.port))
        assert dict((k, v) for k, v in after.items() if k not in ("DB_HOST", "DB_PORT")) == dict(
            (k, v) for k, v in before[service].items() if k not in ("DB_HOST", "DB_PORT"))
    lab.disaster_drop_accounts()
    assert lab.wallet_get("/api/v2/accounts")[1]["total"] == 12
    report = azure_story.latest_report("restore")
    assert report["passed"] is True and len(facts(report)["secrets_db_host"]) == len(DB_SERVICES)
    assert facts(report)["restore_point"] and facts(report)["warnings"]


def test_azure_environment_migration_carries_the_emps_over_unchanged(azure_story):
    """The seed's third use: the set restored into another environment (here the drill namespace, whose EMPs were
    regenerated - the mistake the seed warns of), with carry_over_emp naming where the EMPs come from."""
    lab = azure_story.lab
    new_ns = lab.drill_namespace
    for node in NODES:
        lab.set_emp(node, WRONG_EMP, namespace=new_ns)
    inventory = json.load(open(lab.inventory))["all"]["children"]["institutional_vault"]["hosts"]["iv_lab"]
    new_environment = dict(
        institutional_vault_namespace=new_ns, institutional_vault_wallet_url=inventory[
            "institutional_vault_drill_wallet_url"],
        institutional_vault_databases={"source": dict(inventory["institutional_vault_databases"]["target"],
                                                      name="ivault_drill")},
        institutional_vault_restore_set_dir=azure_story.latest_set(), institutional_vault_restore_safety_backup=False)
    rc, output = azure_story.run("restore.yml", **new_environment)
    assert rc != 0 and "must be carried over unchanged" in output  # without carry-over: refused, nothing changed
    assert replicas(lab, new_ns) == dict((name, 0) for name in ORIGINAL)
    rc, output = azure_story.run("restore.yml", institutional_vault_restore_carry_over_emp=lab.environment,
                                 institutional_vault_restore_carry_over_source={"namespace": lab.namespace},
                                 **new_environment)
    assert rc == 0, output[-4000:]
    for node in NODES:
        assert lab.secret_value(secret_name(lab.environment, new_ns, node, "encryptor-master-password")) == EMPS[node]
    assert all(pod["status"]["phase"] == "Running" for node in NODES for pod in lab.workload_pods(node, new_ns))
    report = azure_story.latest_report("restore")
    assert report["passed"] is True and sorted(facts(report)["emp_carried_over"]["nodes"]) == list(NODES)
    everything = "\n".join(azure_story.texts + [json.dumps(report)])
    assert [value for value in PLANTED + [WRONG_EMP] if value in everything] == []

"""The Institutional Vault lab: one environment of the platform, on this machine, brought up and down whole.

Stands in for: an Institutional Vault environment on Kubernetes with its managed PostgreSQL and its secret
store. What it is made of:

- two REAL PostgreSQL 15 clusters (tests/support/pg_cluster.py): ``source`` (the environment's database, seeded
  by tests/support/iv_database.py with accounts, balances, pending operations and the key shares encrypted under
  each policy node's EMP) and ``target`` (an empty database for a redirected restore);
- the secret store: AWS Secrets Manager (a real moto server, boto3 over HTTP) or the Azure Key Vault stand-in,
  holding ``<environment>.<namespace>.<service>.db-info`` for every service and each policy node's
  ``...encryptor-master-password``;
- the Kubernetes API stand-in (tests/support/kube_apiserver.py) with the services as Deployments (wallet x2,
  policy-node0..2, orchestrator at 0 replicas) and nats as a StatefulSet (x3); every pod is a real process of
  tests/support/iv_service.py that reads its secrets at start;
- one certificate for the lab's HTTPS services (127.0.0.1/localhost, made once per lab by
  azure_https.make_certificate; self-signed, so it is its own CA): ``lab.ca_cert`` and ``lab.tls_key`` (0600,
  under DIR/tls), given to the wallet, orchestrator and policy-node pods as IV_TLS_CERT / IV_TLS_KEY;
- the wallet's Service + Ingress stand-in (tests/support/service_proxy.py): ``lab.wallet_url``
  (``https://127.0.0.1:<port>``, fixed while the lab runs; ``IVLab(wallet_port=N)`` to choose it), a TCP relay
  to a Ready wallet pod; with none Ready the connection is reset at once;
- a drill namespace ``lab.drill_namespace`` (``<namespace>-drill``): the same workloads (IV_NAMESPACE = the drill
  namespace), created STOPPED as the services role leaves a namespace (replicas 0, annotation
  ``vaultops.recovery/replicas-before-stop: "<normal count>"``), its iv-cloud-credentials Secret, db-info secrets
  ``<env>.<drill ns>.<service>.db-info`` pointing at the TARGET cluster's database ``ivault_drill`` (which does
  not exist: a drill restores into it; the iv_app role exists on target) and EMP secrets equal to production's.

In a test: ``lab = IVLab(directory, provider="aws").start()`` ... ``lab.stop()``. For a person:
``lab/iv-up.sh`` / ``lab/iv-down.sh`` (this file's ``serve`` command, kept running in the background).
``lab.inventory`` is an Ansible inventory (YAML) for the environment: one host ``iv_lab`` (local connection)
with institutional_vault_environment, _namespace, _provider, the kubeconfig, the secret store endpoint, the
two databases' connections (no passwords: the services' password is in the db-info secrets),
institutional_vault_wallet_url, institutional_vault_wallet_ca_cert and institutional_vault_drill_namespace.

Helpers for tests: ``wallet_get(path)`` -> (status, JSON) through the Service stand-in with the certificate
verified; ``scale(name, replicas, namespace=None)``; ``workload_pods(name, namespace=None)``;
``disaster_drop_accounts()`` (DROP TABLE accounts CASCADE on source); ``account_count(cluster="source",
database="ivault")`` (None when the database or table is missing; cluster "source", "target" or a TempCluster);
``add_accounts(n, cluster="source", database="ivault")`` -> new ids; ``secret_value(name)`` (the store's
current value); ``start_store()`` (only the store, no pods); ``set_emp(node, value, namespace=None)``; ``put_db_info(service, cluster, namespace=None,
database="ivault")``.

Planted secret values (``PLANTED``): the services' database password, the EMPs, the API bearer token and the
PostgreSQL superuser password; tests assert none of them appears in any output.
"""

import argparse
import json
import os
import shlex
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from support import azure_https, iv_database  # noqa: E402
from support.collection import install_import_path  # noqa: E402
from support.kube_apiserver import KubeApiServer  # noqa: E402
from support.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoServer  # noqa: E402
from support.pg_cluster import TempCluster  # noqa: E402
from support.service_proxy import ServiceProxy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE_SCRIPT = os.path.join(HERE, "iv_service.py")
NODES = ("policy-node0", "policy-node1", "policy-node2")
DB_SERVICES = ("wallet", "orchestrator") + NODES
APP_PASSWORD = "planted-IVapp-pw-\u00e9-5d1b7c"
TOKEN = "planted-k8s-token-4b7e2a9c0d"
EMPS = dict((node, "planted-EMP-lab-%s-0c4e91" % node) for node in NODES)
PLANTED = [APP_PASSWORD, TOKEN, TempCluster.superuser_password] + list(EMPS.values())
# (name, kind, replicas, readiness probe, seconds a pod takes to shut down after SIGTERM)
WORKLOADS = (
    ("wallet", "Deployment", 2, "https", 1.5),
    ("policy-node0", "Deployment", 1, "https", 0.3),
    ("policy-node1", "Deployment", 1, "https", 0.3),
    ("policy-node2", "Deployment", 1, "https", 0.3),
    ("orchestrator", "Deployment", 0, "https", 0.3),
    ("nats", "StatefulSet", 3, "tcp", 0.3),
)
NAME_LABEL = "app.kubernetes.io/name"
CONTROLLER_FILES = ("controller.env", "controller-vars.json")
# what the collection's services role leaves on a stopped workload (service_tiers.DEFAULT_ANNOTATION_KEY)
REPLICAS_ANNOTATION = "vaultops.recovery/replicas-before-stop"
DRILL_DATABASE = "ivault_drill"


def secret_name(environment, namespace, service, kind):
    return "%s.%s.%s.%s" % (environment, namespace, service, kind)


class IVLab(object):
    def __init__(self, directory, provider="aws", environment="lab", namespace="iv-lab", accounts=12,
                 drill_namespace=None, wallet_port=0):
        if provider not in ("aws", "azure"):
            raise ValueError("provider is aws or azure, not %r" % provider)
        self.directory = os.path.abspath(str(directory))
        self.provider, self.environment, self.namespace, self.accounts = provider, environment, namespace, accounts
        self.drill_namespace = drill_namespace or "%s-drill" % namespace
        self.wallet_port = wallet_port
        self.source = self.target = self.store = self.api = self.wallet = self.drill_wallet = None
        self.ca_cert = self.tls_key = None
        self.inventory = os.path.join(self.directory, "inventory.yml")

    # secret store -----------------------------------------------------------------------------------------
    def start_store(self):
        """Only the secret store (start() does it too): for tests of the store helpers without pods."""
        if self.provider == "aws":
            self.store = MotoServer()
            self.store.start()
            import boto3
            self._secrets = boto3.client("secretsmanager", endpoint_url=self.store.url, region_name=REGION,
                                         aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        else:
            from support.azure_key_vault import KeyVaultStandIn
            self.store = KeyVaultStandIn(os.path.join(self.directory, "key-vault"))
            self.store.start()

    def put_secret(self, name, value):
        """Create or update a secret in the environment's store (a new version each time, as the clouds do)."""
        if self.provider == "aws":
            try:
                self._secrets.put_secret_value(SecretId=name, SecretString=value)
            except self._secrets.exceptions.ResourceNotFoundException:
                self._secrets.create_secret(Name=name, SecretString=value)
        else:
            install_import_path()
            from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_naming
            self.store.set(db_info_naming.key_vault_name(name), value)

    def secret_value(self, name):
        """The current value of a secret in the store, by its ``<environment>.<namespace>.<service>.<kind>`` name."""
        if self.provider == "aws":
            return self._secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
        install_import_path()
        from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_naming
        return self.store.latest(db_info_naming.key_vault_name(name))["value"]

    def set_emp(self, node, value, namespace=None):
        self.put_secret(secret_name(self.environment, namespace or self.namespace, node, "encryptor-master-password"),
                        value)

    def put_db_info(self, service, cluster, namespace=None, database=iv_database.DEFAULT_DATABASE):
        self.put_secret(secret_name(self.environment, namespace or self.namespace, service, "db-info"),
                        iv_database.db_info("127.0.0.1", cluster.port, iv_database.DEFAULT_APP_USER, APP_PASSWORD,
                                            database=database))

    def store_env(self, namespace=None):
        """The environment a pod needs to reach the store (credentials come from a Kubernetes Secret)."""
        env = [{"name": "IV_ENVIRONMENT", "value": self.environment},
               {"name": "IV_NAMESPACE", "value": namespace or self.namespace},
               {"name": "IV_SECRET_PROVIDER", "value": self.provider}]
        if self.provider == "aws":
            env += [{"name": "IV_AWS_ENDPOINT_URL", "value": self.store.url},
                    {"name": "AWS_DEFAULT_REGION", "value": REGION}]
            keys = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        else:
            params = self.store.connection_params()
            env += [{"name": "IV_KEY_VAULT_URL", "value": self.store.url},
                    {"name": "IV_AZURE_AUTHORITY_HOST", "value": params["authority_host"]},
                    {"name": "IV_CA_BUNDLE", "value": params["azure_ca_bundle"]}]
            keys = {"AZURE_TENANT_ID": params["tenant_id"], "AZURE_CLIENT_ID": params["client_id"],
                    "AZURE_CLIENT_SECRET": params["secret"]}
        env += [{"name": key, "valueFrom": {"secretKeyRef": {"name": "iv-cloud-credentials", "key": key}}}
                for key in sorted(keys)]
        return env, keys

    # kubernetes objects -----------------------------------------------------------------------------------
    def objects(self, namespace=None, stopped=False):
        """The namespace, its cloud credentials Secret and the workloads; stopped: at 0 with the role's annotation.

        A stopped namespace looks as the collection's services role leaves one: every workload at 0 replicas and
        annotated ``vaultops.recovery/replicas-before-stop: "<its normal count>"``, which a start brings back.
        """
        namespace = namespace or self.namespace
        env, keys = self.store_env(namespace)
        tls = ([{"name": "IV_TLS_CERT", "value": self.ca_cert}, {"name": "IV_TLS_KEY", "value": self.tls_key}]
               if self.ca_cert else [])
        objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                   {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": {"name": "iv-cloud-credentials", "namespace": namespace},
                    "stringData": keys}]
        for name, kind, replicas, probe, shutdown in WORKLOADS:
            labels = {NAME_LABEL: name, "app.kubernetes.io/part-of": "institutional-vault"}
            readiness = ({"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTPS"}, "periodSeconds": 1}
                         if probe == "https" else {"tcpSocket": {"port": "client"}, "periodSeconds": 1})
            container = {"name": name, "image": "vaultops-lab/iv-%s:stand-in" % name,
                         "command": [sys.executable, SERVICE_SCRIPT, name], "readinessProbe": readiness,
                         "env": env + (tls if probe == "https" else [])
                         + [{"name": "LAB_SHUTDOWN_SECONDS", "value": str(shutdown)}]}
            spec = {"replicas": replicas, "selector": {"matchLabels": {NAME_LABEL: name}},
                    "template": {"metadata": {"labels": labels},
                                 "spec": {"terminationGracePeriodSeconds": 30, "containers": [container]}}}
            if kind == "StatefulSet":
                spec.update(serviceName=name, updateStrategy={"type": "RollingUpdate"})
            metadata = {"name": name, "namespace": namespace, "labels": labels}
            if stopped:
                spec["replicas"] = 0
                metadata["annotations"] = {REPLICAS_ANNOTATION: str(replicas)}
            objects.append({"apiVersion": "apps/v1", "kind": kind, "spec": spec, "metadata": metadata})
        return objects

    def workload_pods(self, name, namespace=None):
        return self.api.pods(namespace or self.namespace, "%s=%s" % (NAME_LABEL, name))

    def scale(self, name, replicas, namespace=None):
        """Set a workload's spec.replicas through the API stand-in (as kubectl scale would); returns the object."""
        kind = dict((w[0], w[1]) for w in WORKLOADS)[name]
        obj = self.api.get(kind, namespace or self.namespace, name)
        obj["spec"]["replicas"] = replicas
        return self.api.apply(obj)

    def wait_settled(self, timeout=120):
        """Until every workload has its replicas Ready and nothing is terminating (the controller's own view)."""
        if not self.api.wait_idle(timeout=timeout):
            raise RuntimeError("the IV lab did not settle within %ss: %s" % (timeout, self.describe()))

    def describe(self):
        lines = []
        for pod in self.api.pods(self.namespace) + self.api.pods(self.drill_namespace):
            status = pod.get("status") or {}
            ready = [c.get("ready") for c in status.get("containerStatuses") or []]
            lines.append("%s %s ready=%s%s" % (pod["metadata"]["name"], status.get("phase"), ready,
                                               " terminating" if pod["metadata"].get("deletionTimestamp") else ""))
        return "; ".join(lines)

    # lifecycle --------------------------------------------------------------------------------------------
    def start(self, timeout=120):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        try:
            # each part is assigned before it starts, so stop() also cleans up one a signal interrupted
            # (lab/iv-up.sh's timeout, lab/iv-down.sh while starting)
            self.source = TempCluster()  # postgres must reach it: not under the 0700 lab dir
            self.source.start()
            self.target = TempCluster()  # postgres must reach it: not under the 0700 lab dir
            self.target.start()
            iv_database.seed(self.source, EMPS, accounts=self.accounts, app_password=APP_PASSWORD)
            iv_database.seed(self.target, {}, accounts=0, app_password=APP_PASSWORD)
            self.start_store()
            for service in DB_SERVICES:
                self.put_db_info(service, self.source)
                # the drill reads the TARGET; ivault_drill does not exist until a drill restores into it
                self.put_db_info(service, self.target, namespace=self.drill_namespace, database=DRILL_DATABASE)
            for node in NODES:
                self.set_emp(node, EMPS[node])
                self.set_emp(node, EMPS[node], namespace=self.drill_namespace)
            self._make_certificate()
            self.api = KubeApiServer(os.path.join(self.directory, "kube"), token=TOKEN)
            self.api.start()
            for obj in self.objects() + self.objects(self.drill_namespace, stopped=True):
                self.api.apply(obj)
            self.wallet = ServiceProxy(self.api, self.namespace, {NAME_LABEL: "wallet"}, port=self.wallet_port)
            self.wallet.start()
            self.drill_wallet = ServiceProxy(self.api, self.drill_namespace, {NAME_LABEL: "wallet"})
            self.drill_wallet.start()
            self.wait_settled(timeout)
            self.write_inventory()
            self.write_controller_files()
        except BaseException:
            self.stop()
            raise
        return self

    def _make_certificate(self):
        """The lab's one certificate for its HTTPS services (127.0.0.1/localhost; self-signed, so also the CA)."""
        directory = os.path.join(self.directory, "tls")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.ca_cert, self.tls_key = azure_https.make_certificate(directory)
        os.chmod(self.ca_cert, 0o600)

    def stop(self):
        for part in (self.wallet, self.drill_wallet, self.api, self.store, self.source, self.target):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # every part is stopped even when one fails
                    pass
        self.wallet = self.drill_wallet = self.api = self.store = self.source = self.target = None
        for name in CONTROLLER_FILES:  # the planted credentials do not outlive the lab
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                os.unlink(path)

    def controller_env(self):
        """The secret store's credentials as the controller gets them (AWX's cloud credentials inject the same
        AWS_* / AZURE_* variables)."""
        if self.provider == "aws":
            return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        params = self.store.connection_params()
        return {"AZURE_TENANT_ID": params["tenant_id"], "AZURE_CLIENT_ID": params["client_id"],
                "AZURE_CLIENT_SECRET": params["secret"]}

    def controller_vars(self):
        """The secret extra vars of a run (what an operator keeps in ansible-vault or an AWX credential)."""
        return {"institutional_vault_db_login_password": TempCluster.superuser_password}

    def write_controller_files(self):
        """For a person at the shell (scripts/lab-iv-demo.sh): controller.env (export lines) and controller-vars.json
        (-e @file), both 0600 in the lab's 0700 directory and removed by stop()."""
        env_text = "".join("export %s=%s\n" % (key, shlex.quote(value)) for key, value in
                           sorted(self.controller_env().items()))
        for name, text in zip(CONTROLLER_FILES, (env_text, json.dumps(self.controller_vars()))):
            path = os.path.join(self.directory, name)
            fd = os.open(path + ".partial", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(path + ".partial", path)

    # helpers for tests --------------------------------------------------------------------------------------
    @property
    def wallet_url(self):
        return self.wallet.url()

    def wallet_get(self, path, timeout=5):
        """(status, parsed JSON) of GET <wallet_url><path>, the certificate verified against the lab CA.

        Connection failures (no Ready wallet pod: the Service stand-in resets the connection) raise OSError
        (urllib.error.URLError, ConnectionResetError, ssl.SSLError).
        """
        context = ssl.create_default_context(cafile=self.ca_cert)
        try:
            with urllib.request.urlopen(self.wallet_url + path, context=context, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def cluster(self, cluster):
        """A TempCluster from "source", "target" or a TempCluster."""
        return {"source": self.source, "target": self.target}.get(cluster, cluster) \
            if isinstance(cluster, str) else cluster

    def account_count(self, cluster="source", database=iv_database.DEFAULT_DATABASE):
        """Rows in accounts on cluster/database; None when the database or the table does not exist."""
        import psycopg2
        try:
            conn = iv_database.connect(self.cluster(cluster), database)
        except psycopg2.OperationalError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass('public.accounts')")
                if cur.fetchone()[0] is None:
                    return None
                cur.execute("SELECT count(*) FROM accounts")
                return cur.fetchone()[0]
        finally:
            conn.close()

    def add_accounts(self, count, cluster="source", database=iv_database.DEFAULT_DATABASE):
        """Insert count accounts after the highest id (rows a restore to an earlier point must lose); their ids."""
        conn = iv_database.connect(self.cluster(cluster), database)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT coalesce(max(id), 0) FROM accounts")
                first = cur.fetchone()[0] + 1
                ids = list(range(first, first + count))
                for number in ids:
                    cur.execute("INSERT INTO accounts (id, name, asset) VALUES (%s, %s, %s)",
                                (number, "after-backup-%04d" % number, iv_database.ASSETS[number % 4]))
            return ids
        finally:
            conn.close()

    def disaster_drop_accounts(self):
        """The disaster: DROP TABLE accounts CASCADE on the source database (balances lose their foreign key)."""
        drop_accounts(self.source)

    def database(self, cluster):
        return {"host": "127.0.0.1", "port": cluster.port, "name": iv_database.DEFAULT_DATABASE,
                "user": iv_database.DEFAULT_APP_USER}

    def host_vars(self):
        if self.provider == "aws":
            store = {"endpoint_url": self.store.url, "region": REGION}
        else:
            params = self.store.connection_params()
            store = {"vault_url": self.store.url, "authority_host": params["authority_host"],
                     "azure_ca_bundle": params["azure_ca_bundle"]}
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "institutional_vault_environment": self.environment,
            "institutional_vault_namespace": self.namespace,
            "institutional_vault_provider": self.provider,
            "institutional_vault_kubeconfig": self.api.kubeconfig,
            "institutional_vault_secret_store": store,
            "institutional_vault_databases": {"source": self.database(self.source),
                                              "target": self.database(self.target)},
            "institutional_vault_services_namespace": self.namespace,
            "institutional_vault_services_kubeconfig": self.api.kubeconfig,
            "institutional_vault_services_run_state_dir": os.path.join(self.directory, "run-state"),
            "institutional_vault_wallet_url": self.wallet_url,
            "institutional_vault_wallet_ca_cert": self.ca_cert,
            "institutional_vault_drill_namespace": self.drill_namespace,
            "institutional_vault_drill_wallet_url": self.drill_wallet.url(),
        }

    def write_inventory(self, path=None):
        """An Ansible inventory (JSON is YAML) for the environment, 0600."""
        document = {"all": {"children": {"institutional_vault": {"hosts": {"iv_lab": self.host_vars()}}}}}
        path = path or self.inventory
        fd = os.open(path + ".partial", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
        os.replace(path + ".partial", path)
        return path


class _Stop(BaseException):
    """SIGTERM/SIGINT while the lab is still coming up: start() stops what it started and re-raises."""


def serve(argv=None):
    """``iv_lab.py serve --dir DIR [--provider aws|azure]``: up until SIGTERM; DIR/lab.json says it is ready.

    lab.json: pid, inventory, kubeconfig, namespace, provider, wallet_url, wallet_ca_cert, drill_namespace,
    seconds_to_ready, and the two clusters' data
    directories (``clusters``; lab/iv-down.sh checks their postmasters are gone). A SIGTERM before ready stops
    whatever was already started (no lab.json is written); after ready it stops the lab and removes lab.json.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve", "disaster"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--provider", choices=["aws", "azure"], default="aws")
    args = parser.parse_args(argv)
    if args.command == "disaster":
        return disaster(args.dir)
    stopping = threading.Event()

    def early(signum, _frame):
        raise _Stop(signum)
    signal.signal(signal.SIGTERM, early)
    signal.signal(signal.SIGINT, early)
    lab = IVLab(args.dir, provider=args.provider)
    started = time.monotonic()
    try:
        lab.start()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
    except _Stop as stop:
        lab.stop()   # start() already stopped its parts when the signal came inside it; stop() is idempotent
        print("IV lab: signal %s before it was ready; stopped what had started" % stop.args[0], flush=True)
        return 1
    ready = os.path.join(lab.directory, "lab.json")
    try:
        with open(ready + ".partial", "w") as handle:
            json.dump({"pid": os.getpid(), "inventory": lab.inventory, "kubeconfig": lab.api.kubeconfig,
                       "namespace": lab.namespace, "provider": lab.provider, "wallet_url": lab.wallet_url,
                       "wallet_ca_cert": lab.ca_cert, "drill_namespace": lab.drill_namespace,
                       "seconds_to_ready": round(time.monotonic() - started, 1),
                       "clusters": [lab.source.datadir, lab.target.datadir], "source_port": lab.source.port},
                      handle)
        os.replace(ready + ".partial", ready)
        print("IV lab (%s) up in %.1fs: inventory %s" % (lab.provider, time.monotonic() - started, lab.inventory),
              flush=True)
        stopping.wait()
    finally:
        lab.stop()
        for path in (ready, ready + ".partial"):
            if os.path.exists(path):
                os.unlink(path)
    print("IV lab down", flush=True)
    return 0


def drop_accounts(target):
    """DROP TABLE accounts CASCADE in the lab database of target (a TempCluster or psycopg2 kwargs)."""
    conn = iv_database.connect(target, iv_database.DEFAULT_DATABASE)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DROP TABLE accounts CASCADE")
    finally:
        conn.close()


def disaster(directory):
    """``iv_lab.py disaster --dir DIR``: the README story's disaster on a running lab - DROP TABLE accounts."""
    with open(os.path.join(directory, "lab.json")) as handle:
        port = json.load(handle)["source_port"]
    drop_accounts({"host": "127.0.0.1", "port": port, "user": "postgres",
                   "password": TempCluster.superuser_password})
    print("IV lab: table accounts dropped on the source database (127.0.0.1:%s/%s)"
          % (port, iv_database.DEFAULT_DATABASE), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(serve())

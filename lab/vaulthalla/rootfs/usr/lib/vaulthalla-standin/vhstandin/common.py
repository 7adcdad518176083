# LAB STAND-IN for Vaulthalla's shared runtime (the real product is a C++ daemon
# that cannot be installed here). Reproduces these facts from
# shared/notes/product-facts.md:
# - paths: /etc/vaulthalla/config.yaml (database block without a password),
#   /var/lib/vaulthalla (state, local vault bodies, sealed key blobs
#   .sealed_<name>.blob/<name>.priv + .pub for psql, master, vault_master),
#   /run/vaulthalla (cli.sock, db_password hand-off), /usr/share/vaulthalla/psql;
# - the TPM is chosen from VH_TPM_TCTI, TSS2_TCTI or TPM2TOOLS_TCTI, else
#   /dev/tpmrm0, /dev/tpm0, else swtpm on 127.0.0.1:2321; keys are sealed and
#   unsealed with tpm2-tools (tpm2_flushcontext -t after each object operation,
#   as there is no resource manager in front of swtpm);
# - vault keys and internal secrets are AES-256-GCM ciphertext.
"""Paths, configuration, TPM sealing and AES-256-GCM helpers shared by the
stand-in daemon, the `vh` client and the web service."""

import os
import subprocess
import tempfile

VERSION = "1.1.0"
VERSION_TEXT = "Vaulthalla v%s" % VERSION

CONFIG_PATH = os.environ.get("VH_CONFIG", "/etc/vaulthalla/config.yaml")
STATE_DIR = os.environ.get("VH_STATE_DIR", "/var/lib/vaulthalla")
RUN_DIR = os.environ.get("VH_RUN_DIR", "/run/vaulthalla")
SOCKET_PATH = os.path.join(RUN_DIR, "cli.sock")
DB_PASSWORD_HANDOFF = os.path.join(RUN_DIR, "db_password")
SQL_DIR = os.environ.get("VH_SQL_DIR", "/usr/share/vaulthalla/psql")
VAULTS_DIR = os.path.join(STATE_DIR, "vaults")
GNUPGHOME = os.path.join(STATE_DIR, ".gnupg")
KEY_NAMES = ("psql", "master", "vault_master")
DEFAULT_SWTPM_TCTI = "swtpm:host=127.0.0.1,port=2321"


class VhError(Exception):
    """An error `vh` prints as `vh: <message>` and exits non-zero with."""

    def __init__(self, message, code=1):
        Exception.__init__(self, message)
        self.code = code


class DecryptionError(VhError):
    pass


class TpmError(Exception):
    pass


def load_config(path=CONFIG_PATH):
    import yaml

    with open(path) as handle:
        config = yaml.safe_load(handle) or {}
    if not isinstance(config, dict):
        raise ValueError("%s: not a mapping" % path)
    return config


def resolve_tcti(environ=None, exists=os.path.exists):
    """The TPM the real daemon would pick, and where that choice came from."""
    environ = os.environ if environ is None else environ
    for var in ("VH_TPM_TCTI", "TSS2_TCTI", "TPM2TOOLS_TCTI"):
        if environ.get(var):
            return environ[var], var
    for dev in ("/dev/tpmrm0", "/dev/tpm0"):
        if exists(dev):
            return "device:%s" % dev, dev
    return DEFAULT_SWTPM_TCTI, "default (swtpm on 127.0.0.1:2321)"


class Tpm(object):
    """Seal/unseal small secrets with tpm2-tools under a primary key of the
    owner hierarchy. The primary is re-derived from the TPM's seed each time,
    so blobs only load in the TPM (state) that sealed them."""

    def __init__(self, tcti, state_dir=STATE_DIR):
        self.tcti = tcti
        self.state_dir = state_dir

    def blob_dir(self, name):
        return os.path.join(self.state_dir, ".sealed_%s.blob" % name)

    def blob_paths(self, name):
        base = self.blob_dir(name)
        return os.path.join(base, name + ".priv"), os.path.join(base, name + ".pub")

    def has_blob(self, name):
        return all(os.path.isfile(p) for p in self.blob_paths(name))

    def _run(self, argv, data=None):
        env = dict(os.environ, TPM2TOOLS_TCTI=self.tcti)
        env.pop("TSS2_TCTI", None)
        proc = subprocess.run(argv, input=data, capture_output=True, env=env, check=False)
        if proc.returncode != 0:
            err = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
            raise TpmError("%s failed: %s" % (argv[0], "; ".join(err[-3:]) if err else "exit %d" % proc.returncode))
        return proc.stdout

    def _flush(self):
        # No resource manager in front of swtpm: free transient objects after each step.
        try:
            self._run(["tpm2_flushcontext", "-t"])
        except TpmError:
            pass

    def _primary(self, work):
        ctx = os.path.join(work, "primary.ctx")
        try:
            self._run(["tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", ctx])
        finally:
            self._flush()
        return ctx

    def ping(self):
        return self._run(["tpm2_getrandom", "--hex", "4"]).decode()

    def seal(self, name, secret):
        if len(secret) > 128:
            raise TpmError("secret for %s is longer than 128 bytes" % name)
        with tempfile.TemporaryDirectory(prefix="vh-tpm-") as work:
            primary = self._primary(work)
            pub, priv = os.path.join(work, "k.pub"), os.path.join(work, "k.priv")
            try:
                self._run(["tpm2_create", "-Q", "-C", primary, "-i", "-", "-u", pub, "-r", priv], data=secret)
            finally:
                self._flush()
            final_dir = self.blob_dir(name)
            os.makedirs(final_dir, mode=0o700, exist_ok=True)
            dest_priv, dest_pub = self.blob_paths(name)
            for src, dest in ((priv, dest_priv), (pub, dest_pub)):
                with open(src, "rb") as handle:
                    body = handle.read()
                tmp = dest + ".tmp"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(body)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, dest)

    def unseal(self, name):
        priv, pub = self.blob_paths(name)
        with tempfile.TemporaryDirectory(prefix="vh-tpm-") as work:
            primary = self._primary(work)
            obj = os.path.join(work, "obj.ctx")
            try:
                self._run(["tpm2_load", "-Q", "-C", primary, "-u", pub, "-r", priv, "-c", obj])
            finally:
                self._flush()
            try:
                return self._run(["tpm2_unseal", "-c", obj])
            finally:
                self._flush()


def gcm_encrypt(key, plaintext):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = os.urandom(12)
    return iv, AESGCM(key).encrypt(iv, plaintext, None)


def gcm_decrypt(key, iv, ciphertext, what):
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(bytes(key)).decrypt(bytes(iv), bytes(ciphertext), None)
    except (InvalidTag, ValueError):
        raise DecryptionError("decryption failed: %s (AES-256-GCM authentication failed)" % what)


def sd_notify(message):
    """Tell systemd about readiness (Type=notify); a no-op outside systemd."""
    import socket

    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.connect(address)
        sock.sendall(message.encode())
    finally:
        sock.close()

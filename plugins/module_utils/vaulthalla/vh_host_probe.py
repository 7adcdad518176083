# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Vaulthalla backup or restore needs to know about the host, read in one pass.

Machine identity, TPM mode, the installed package, which paths exist, file
checksums and whether the local database exists: each used to be a task of
its own, and every task costs a round trip through the connection. Nothing
here writes anything.

The machine-id digest is plain SHA-256 of the trimmed machine-id, the value
vaulthalla_backup records in a set's manifest (not the HMAC of
machine_identity, which swtpm_archive records).
"""

import errno
import hashlib
import os
import pwd
import re
import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.machine_identity import read_machine_id
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import (
    PgConnection, postgres_connection_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.state_tree import walk

DEFAULT_TPM_DEVICES = ["/dev/tpmrm0", "/dev/tpm0"]
NOT_INSTALLED = "not installed"
NOT_FROM_PACKAGE = "not installed from a Debian package"

# Debian policy: lowercase alphanumerics and + - . , starting alphanumeric; optionally :architecture.
_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$")
_EPOCH = re.compile(r"^[0-9]+:")
_RELEASE = re.compile(r"^[0-9]+(\.[0-9]+)+")
# One dpkg-query call gives every field; tabs cannot occur in any of them.
_DPKG_FIELDS = ("Package", "Version", "Maintainer", "Status")
DPKG_FORMAT = "\t".join("${%s}" % field for field in _DPKG_FIELDS) + "\n"
_NEEDS_ROOT_FIX = "run the task with become: true."


def machine_id_sha256(path):
    """Hex SHA-256 of the machine-id's trimmed text; RecoveryError with read_machine_id's fix when invalid."""
    return hashlib.sha256(read_machine_id(path).encode("ascii")).hexdigest()


def _unreadable(path, exc, what):
    return RecoveryError("cannot read %s %s (%s)." % (what, path, exc.strerror or exc), fix=_NEEDS_ROOT_FIX)


def _lstat(path, what):
    """os.lstat, None when path does not exist; RecoveryError when it cannot be looked at."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise _unreadable(path, exc, what)


def path_facts(paths):
    """{path: {exists, isdir}} without following a final symbolic link (like ansible.builtin.stat)."""
    facts = {}
    for path in paths:
        st = _lstat(path, "path")
        facts[path] = dict(exists=st is not None, isdir=st is not None and stat.S_ISDIR(st.st_mode))
    return facts


def checksums(paths):
    """{path: SHA-256 hex of the regular file (a link to one counts), or None when missing or not a file}."""
    result = {}
    for path in paths:
        try:
            result[path] = sha256_file(path)[0] if os.path.isfile(path) else None
        except (IOError, OSError) as exc:
            raise _unreadable(path, exc, "checksum file")
    return result


def count_state_files(root):
    """Non-empty regular files anywhere below root (links not followed): what swtpm_archive counts as TPM state
    (state_tree.require_state_dir). A lock file left by a stopped swtpm is empty and is no state. 0 without root."""
    if not os.path.isdir(root):
        return 0
    try:
        return sum(1 for _rel, st, _abs in walk(root) if stat.S_ISREG(st.st_mode) and st.st_size > 0)
    except OSError as exc:
        raise _unreadable(exc.filename or root, exc, "swtpm state")


def unit_loaded(unit, find_binary, runner):
    """Whether systemd has loaded unit (LoadState=loaded). No unit name, no systemctl or an error: False."""
    systemctl = find_binary("systemctl") if unit else None
    if not systemctl:
        return False
    rc, out, _err = runner([systemctl, "show", "--property=LoadState", "--value", "--", unit])
    return rc == 0 and out.strip() == "loaded"


def tpm_mode(devices_present, state_dir_is_dir, swtpm_loaded):
    """'hardware' beats 'swtpm': Vaulthalla uses /dev/tpm* when present and swtpm only without one."""
    if devices_present:
        return "hardware"
    if state_dir_is_dir or swtpm_loaded:
        return "swtpm"
    return "none"


def debian_release(version):
    """The upstream release in a Debian version: '1:1.1.0-2' -> '1.1.0'; the raw version without a dotted number."""
    match = _RELEASE.match(_EPOCH.sub("", version))
    return match.group(0) if match else version


def check_package_name(package):
    if not _PACKAGE_NAME.match(package):
        raise RecoveryError("package %r is not a Debian package name." % package,
                            fix="set package to the package's name as dpkg -l shows it (for example vaulthalla).")


def package_facts(package, find_binary, runner):
    """package_installed/_version/_release/_source from one dpkg-query call; no dpkg-query means not installed."""
    facts = dict(package_installed=False, package_version="", package_release=NOT_INSTALLED,
                 package_source=NOT_FROM_PACKAGE)
    dpkg_query = find_binary("dpkg-query")
    if not dpkg_query:
        return facts
    rc, out, err = runner([dpkg_query, "-W", "-f=" + DPKG_FORMAT, package])
    if rc not in (0, 1):  # 1: no such package
        raise RecoveryError("dpkg-query could not read the package database: %s" % (
            err.strip() or "exit status %d" % rc), fix="repair dpkg (dpkg --audit) and run the task again.")
    for line in out.splitlines():
        fields = dict(zip(_DPKG_FIELDS, line.split("\t")))
        # 'deinstall ok config-files' (removed, configuration kept) is not installed.
        if fields.get("Status", "").split()[-1:] == ["installed"]:
            version = fields["Version"]
            facts.update(package_installed=True, package_version=version, package_release=debian_release(version),
                         package_source="%s %s %s" % (fields["Package"], version, fields["Maintainer"]))
            break
    return facts


def _current_user():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return None  # a UID without a passwd entry (some containers)


def _local_connection_params(os_user):
    """PgConnection options for the local server's Unix socket with peer authentication as os_user."""
    params = dict((name, option.get("default")) for name, option in postgres_connection_argument_spec().items())
    if os_user != _current_user():
        try:
            pwd.getpwnam(os_user)
        except KeyError:
            raise RecoveryError("OS user '%s' (db_os_user) does not exist on this host." % os_user,
                                fix="set db_os_user to the user that owns the PostgreSQL cluster (usually postgres).")
        if os.geteuid() != 0:
            raise RecoveryError("connecting to PostgreSQL as OS user %s needs root." % os_user,
                                fix=_NEEDS_ROOT_FIX)
        params["os_user"] = os_user  # the client runs as that user, as runuser would start it
    return params


def database_exists(database, os_user, find_binary):
    """Whether the local PostgreSQL has database; psql as os_user over the Unix socket (peer authentication).

    The name reaches SQL only as the psql variable :'name' (PgConnection.database_exists).
    """
    psql = find_binary("psql")
    if not psql:
        raise RecoveryError("psql was not found on this host, so it cannot ask PostgreSQL whether database %s"
                            " exists." % database,
                            fix="install the PostgreSQL client (Debian: apt-get install postgresql-client), or leave"
                                " database empty when the database is not on this host.")
    params = _local_connection_params(os_user)
    try:
        with PgConnection(params, lambda _name: psql) as conn:
            return conn.database_exists(database)
    except RecoveryError as exc:
        # The classified message says what happened; its fix speaks of options this module does not have.
        raise RecoveryError(
            "cannot ask the local PostgreSQL whether database %s exists. %s" % (database, exc.message),
            fix="start PostgreSQL on this host (systemctl start postgresql) and check that OS user %s connects by"
                " peer authentication (runuser -u %s -- psql -X -d postgres -c 'SELECT 1'); leave database empty"
                " when the database is not on this host." % (os_user, os_user), **exc.facts)


def collect(params, find_binary, runner=None):
    """Every fact of vh_host_facts (see its RETURN) for params, the module's options."""
    runner = runner or process.run
    check_package_name(params["package"])
    identity = machine_id_sha256(params["machine_id_path"])  # first: an invalid machine-id fails before any command
    devices = [device for device in params["tpm_devices"] if os.path.exists(device)]
    loaded = unit_loaded(params["swtpm_service"], find_binary, runner)
    facts = dict(
        machine_id_sha256=identity,
        tpm_devices_present=devices,
        tpm_mode=tpm_mode(devices, os.path.isdir(params["swtpm_state_dir"]), loaded),
        swtpm_unit_loaded=loaded,
        swtpm_state_files=count_state_files(params["swtpm_state_dir"]),
        paths=path_facts(params["paths"]),
        checksums=checksums(params["checksum_files"]),
        database_exists=None,
    )
    facts.update(package_facts(params["package"], find_binary, runner))
    if params["database"]:
        facts["database_exists"] = database_exists(params["database"], params["db_os_user"], find_binary)
    return facts

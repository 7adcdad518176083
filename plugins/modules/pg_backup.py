#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: pg_backup
short_description: Take, verify and restore checksummed PostgreSQL logical backups
version_added: "0.1.0"
description:
  - Runs C(pg_dump) into an archive that is written atomically (hidden temporary name, fsync, rename), so an
    interrupted dump never leaves a file that looks complete.
  - Computes the SHA-256 of the archive while it is written and records it, with the server and tool versions
    and the object count, in a manifest C(<archive>.manifest.json) beside the archive. The manifest is published
    last, so an archive without one is incomplete and is refused by O(state=verify) and O(state=restore).
  - O(state=restore) verifies the archive (size, checksum, table of contents, tool version), the roles its objects
    need and O(restore_session_settings) before it creates or changes anything, then restores all or nothing, in
    place or into another database or host. Into an existing database it runs C(pg_restore --clean --if-exists
    --single-transaction) (O(replace=objects)), or restores into a scratch database that replaces the target
    whole in one renaming transaction (O(replace=database)). A failure drops whatever the run created.
  - Archives stay readable by the standard tools, for example C(pg_restore -l x.dump) or
    C(zstd -dc x.dump.zst | pg_restore -l).
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - vaultops.recovery.postgres
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
    - Verifies, probes the server read-only and reports the archive path, target and restore mechanism it would use.
    - A restore fails in check mode for what the real run would refuse before changing anything (roles the archive
      needs that do not exist, RV(missing_roles); a refused O(restore_session_settings) value; other sessions on a
      database that O(replace=database) would replace).
options:
  state:
    description:
      - V(dump) writes a new archive and its manifest into O(dest_dir).
      - V(verify) re-checks an archive against its manifest and reads its table of contents. It never changes anything.
      - V(restore) verifies, then restores O(path) into O(database).
    type: str
    default: dump
    choices: [dump, verify, restore]
  database:
    description:
      - Database to dump (required for O(state=dump)), or the database to restore into.
      - For O(state=restore) it defaults to the database recorded in the manifest (an in-place restore).
        Name another database, or another host with O(login_host), for a redirected restore.
    type: str
    aliases: [db, name]
  dest_dir:
    description: Existing directory for the archive and manifest (O(state=dump)). Required for O(state=dump).
    type: path
  name_pattern:
    description:
      - File name of the archive. C({prefix}) is replaced by O(prefix); C(strftime) codes by the UTC start time.
      - Defaults to C({prefix}-backup-%Y%m%d-%H%M%S.dump) (the seed procedures' naming), or C(.dir) for O(format=directory).
        With O(compressor=zstd), C(.zst) is appended.
    type: str
  prefix:
    description: Value of C({prefix}) in O(name_pattern). Defaults to the database name.
    type: str
  format:
    description:
      - V(custom) is C(pg_dump -Fc), one file, streamed and hashed while written.
      - V(directory) is C(pg_dump -Fd), one file per table, and allows O(jobs) for the dump as well.
    type: str
    default: custom
    choices: [custom, directory]
  compressor:
    description:
      - V(gzip) is pg_dump's built-in compression (the bare C(pg_dump -Fc) default).
      - V(zstd) runs C(pg_dump -Z0) through C(zstd -T0), about twice as fast at a smaller size on vault data;
        restore it with C(zstd -dc archive | pg_restore ...). Needs C(zstd) on the managed host. Custom format only.
      - V(none) stores the data uncompressed.
    type: str
    default: gzip
    choices: [gzip, zstd, none]
  compress_level:
    description: Compression level (gzip 0-9, default 6; zstd 1-19, default 3).
    type: int
  zstd_threads:
    description: Threads for zstd; V(0) means one per core.
    type: int
    default: 0
  jobs:
    description:
      - Parallel jobs. For O(state=dump) only with O(format=directory); for O(state=restore) with either format.
      - A restore into an existing database with more than one job needs O(replace=database), because parallel workers
        commit on their own connections and cannot restore objects in place all-or-nothing.
      - A zstd-compressed archive restored with more than one job is unpacked to a scratch directory beside it first,
        because pg_restore's workers reopen the archive by name.
    type: int
    default: 1
  path:
    description: Archive (file, or directory for the directory format) to verify or restore.
    type: path
  manifest:
    description: Manifest of O(path) when it is not C(<path>.manifest.json).
    type: path
  clean:
    description:
      - Drop objects before recreating them (C(--clean --if-exists)), as in the seeds' manual restore.
      - It drops only the objects the archive contains; tables, functions or schemas created after the backup stay.
        Use O(replace=database) for an exact copy.
    type: bool
    default: true
  replace:
    description:
      - How a restore into an existing database replaces it, all or nothing either way.
      - V(objects) restores the archive's objects over the database in one transaction (C(pg_restore --clean
        --if-exists --single-transaction)); PostgreSQL rolls a failure back, leaving the database as it was. Objects
        that are not in the archive stay. Needs O(jobs=1).
      - V(database) gives an exact copy. It restores (with O(jobs) workers) into a scratch database
        C(<database>.vaultops-restore-<pid>) created like the target (owner, encoding, locale, tablespace), copies
        the target's grants, C(ALTER DATABASE ... SET) settings, comment and connection limit to it, and swaps the
        names in one transaction only when all of that succeeded; the previous database is then dropped. A failure
        drops the scratch database, leaving the target untouched. It needs no other sessions on the target (the
        rename needs none; they are refused up front and named) and room for a second copy of the database.
      - Ignored when the database does not exist yet (O(create_database)); it is then created, and dropped again if
        the restore fails.
    type: str
    default: objects
    choices: [objects, database]
  create_database:
    description: Create O(database) when it does not exist (a redirected restore to a new server or name).
    type: bool
    default: false
  owner:
    description:
      - The role that owns the restored database. It is created (C(LOGIN), no password) when it does not exist, so
        the dump's C(ALTER ... OWNER TO) statements find it.
      - A database that O(create_database) creates is owned by it, as an application that applies its own schema
        needs (PostgreSQL 15 grants C(CREATE) on C(public) to the database owner only). A database that exists keeps
        its owner.
      - Needs a login allowed to create roles (and databases, with O(create_database)).
    type: str
  verify_checksum:
    description:
      - V(false) skips the SHA-256 pass over the archive before the restore; its size, manifest and table of contents
        are still checked. For a caller that proved the same file against the same manifest right before (as
        C(vaulthalla_restore) does with M(vaultops.recovery.recovery_set) O(vaultops.recovery.recovery_set#module:state=verify)),
        saving one read of the archive. A directory-format archive is always hashed.
    type: bool
    default: true
  maintenance_db:
    description: Database to connect to when creating O(database).
    type: str
    default: postgres
  single_transaction:
    description:
      - Restore in one transaction. Cannot be combined with O(jobs) above 1.
      - Unset, a restore into an existing database with O(replace=objects) always runs in one transaction (V(false)
        is refused there); a new or scratch database does not need one, because it is dropped when the restore fails.
    type: bool
  no_owner:
    description: Do not restore object ownership (C(--no-owner)), for targets that lack the source's roles.
    type: bool
    default: false
  exit_on_error:
    description:
      - Stop at the first error instead of continuing and reporting the count at the end.
      - A restore in one transaction always stops at the first error.
    type: bool
    default: true
  restore_session_settings:
    description:
      - PostgreSQL settings for the restore's sessions, passed as C(PGOPTIONS).
      - The server checks them on a throwaway session before anything is created, so a bad value fails naming it.
      - "For example C(maintenance_work_mem=512MB), so index builds sort in memory."
    type: dict
    default: {}
  pg_bin_dir:
    description: Directory with the PostgreSQL client programs to use instead of those on C(PATH).
    type: path
"""

EXAMPLES = r"""
- name: Dump the wallet database the way the seed procedure does, checksummed and atomic
  vaultops.recovery.pg_backup:
    database: wallet
    dest_dir: /var/backups/postgresql
    login_host: db.example.internal
    login_user: postgres
    login_password: "{{ vault_pg_password }}"
  register: wallet_dump

- name: Dump the local vaulthalla database with peer authentication (sudo -u postgres pg_dump)
  vaultops.recovery.pg_backup:
    database: vaulthalla
    dest_dir: /var/backups/vaulthalla
    os_user: postgres
  become: true

- name: Fastest mode - zstd instead of gzip
  vaultops.recovery.pg_backup:
    database: wallet
    dest_dir: /var/backups/postgresql
    compressor: zstd
    os_user: postgres

- name: Prove an archive is intact (checksum and table of contents)
  vaultops.recovery.pg_backup:
    state: verify
    path: "{{ wallet_dump.path }}"

- name: Restore in place in one transaction (seed - pg_restore --clean --if-exists, all or nothing)
  vaultops.recovery.pg_backup:
    state: restore
    path: /var/backups/postgresql/wallet-backup-20261121-101500.dump
    login_host: db.example.internal
    login_user: postgres
    login_password: "{{ vault_pg_password }}"

- name: Redirected restore into a new database on another server, two jobs, in-memory index builds
  vaultops.recovery.pg_backup:
    state: restore
    path: "{{ wallet_dump.path }}"
    database: wallet_restored
    create_database: true
    login_host: db-restore.example.internal
    login_user: postgres
    login_password: "{{ vault_pg_password }}"
    jobs: 2
    restore_session_settings:
      maintenance_work_mem: 512MB

- name: Disaster restore - an exact copy of the archive with four jobs, swapped in only when complete
  vaultops.recovery.pg_backup:
    state: restore
    path: "{{ wallet_dump.path }}"
    replace: database
    jobs: 4
    login_host: db.example.internal
    login_user: postgres
    login_password: "{{ vault_pg_password }}"
"""

RETURN = r"""
path:
  description: The archive written, verified or restored.
  returned: always
  type: str
  sample: /var/backups/postgresql/wallet-backup-20261121-101500.dump
manifest:
  description: Path of the manifest beside the archive.
  returned: when an archive exists or would be written
  type: str
  sample: /var/backups/postgresql/wallet-backup-20261121-101500.dump.manifest.json
manifest_data:
  description: The manifest's content (no secrets are ever recorded in it).
  returned: success, except check mode of O(state=dump)
  type: dict
sha256:
  description: SHA-256 of the archive (for the directory format, over its sorted per-file checksums).
  returned: success, except check mode of O(state=dump)
  type: str
size:
  description:
    - Archive size in bytes for the custom format.
    - For the directory format Ansible reports the directory entry's own size here; use RV(archive_size).
  returned: success, except check mode of O(state=dump)
  type: int
archive_size:
  description: Bytes in the archive, for both formats (the value recorded in the manifest).
  returned: success, except check mode of O(state=dump)
  type: int
object_count:
  description: Entries in the archive's table of contents.
  returned: success, except check mode of O(state=dump)
  type: int
database:
  description: Database dumped or restored into.
  returned: always
  type: str
server_version:
  description: Server version of the database dumped (or probed in check mode).
  returned: O(state=dump)
  type: str
removed_stale_partials:
  description:
    - Hidden C(.<name>.<random>.partial) files and directories that killed runs left in O(dest_dir) and this run
      removed before writing (in check mode, the ones it would remove).
    - Only entries no live run holds are removed; a dump running at the same time keeps its partial file locked.
  returned: O(state=dump)
  type: list
  elements: str
  sample: [.wallet-backup-20261121-101500.dump.k3j9x_2a.partial]
created_database:
  description: Whether the restore created O(database).
  returned: O(state=restore)
  type: bool
created_owner_role:
  description: Whether the restore created the O(owner) role (in check mode, would create it).
  returned: O(state=restore)
  type: bool
checksum_verified:
  description: Whether the archive's SHA-256 was checked against its manifest (V(false) with O(verify_checksum=false)).
  returned: O(state=verify) and O(state=restore)
  type: bool
duration:
  description: Seconds the dump, verification or restore took.
  returned: always
  type: float
plan:
  description: In check mode, what the task would do.
  returned: check mode
  type: str
mechanism:
  description:
    - How the restore stayed (or would stay) all-or-nothing. V(create) restored into a database it created (dropped
      on failure); V(transaction) restored in one transaction; V(swap) restored into a scratch database and swapped
      names (O(replace=database)).
  returned: O(state=restore)
  type: str
  sample: transaction
missing_roles:
  description:
    - Roles that the archive's objects need (as owners, unless O(no_owner), or grantees) and that do not exist on the
      target. A restore with any is refused before anything changes, in check mode too; empty on success.
  returned: O(state=restore), also on that failure
  type: list
  elements: str
  sample: [app_owner]
target_state:
  description:
    - After a failed restore that had begun to change things, what state it left. C(changed) is V(true) only when
      something this run created could not be dropped again.
  returned: failure of O(state=restore) after the first change
  type: str
  sample: "unchanged: the restore ran in one transaction that PostgreSQL rolled back"
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_dumper, pg_restorer
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import ClientTools
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import manifest_path_for
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import stale_partials
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_archive import verify_archive
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import (
    PgConnection, postgres_connection_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_restore_rules import MECHANISMS


def argument_spec():
    spec = postgres_connection_argument_spec()
    spec.update(
        state=dict(type="str", default="dump", choices=["dump", "verify", "restore"]),
        database=dict(type="str", aliases=["db", "name"]),
        dest_dir=dict(type="path"),
        name_pattern=dict(type="str"),
        prefix=dict(type="str"),
        format=dict(type="str", default="custom", choices=["custom", "directory"]),
        compressor=dict(type="str", default="gzip", choices=["gzip", "zstd", "none"]),
        compress_level=dict(type="int"),
        zstd_threads=dict(type="int", default=0),
        jobs=dict(type="int", default=1),
        path=dict(type="path"),
        manifest=dict(type="path"),
        clean=dict(type="bool", default=True),
        replace=dict(type="str", default="objects", choices=["objects", "database"]),
        create_database=dict(type="bool", default=False),
        owner=dict(type="str"),
        verify_checksum=dict(type="bool", default=True),
        maintenance_db=dict(type="str", default="postgres"),
        single_transaction=dict(type="bool"),
        no_owner=dict(type="bool", default=False),
        exit_on_error=dict(type="bool", default=True),
        restore_session_settings=dict(type="dict", default={}),
        pg_bin_dir=dict(type="path"),
    )
    return spec


def archive_facts(verified):
    return dict(path=verified["manifest_path"][:-len(".manifest.json")], manifest=verified["manifest_path"],
                manifest_data=verified["manifest"], sha256=verified["sha256"], size=verified["size"],
                archive_size=verified["size"],
                object_count=verified["object_count"], checksum_verified=verified["checksum_verified"])


def run_dump(module, conn, tools):
    p = module.params
    request = pg_dumper.DumpRequest(
        p["database"], p["dest_dir"], name_pattern=p["name_pattern"], prefix=p["prefix"], fmt=p["format"],
        compressor=p["compressor"], compress_level=p["compress_level"], jobs=p["jobs"], zstd_threads=p["zstd_threads"])
    if module.check_mode:
        server = pg_dumper.precheck(conn, request)
        return dict(changed=True, path=request.path, manifest=manifest_path_for(request.path), database=p["database"],
                    server_version=server["server_version"], removed_stale_partials=stale_partials(p["dest_dir"]),
                    plan="would dump database %s (%d bytes on the server) from %s to %s" % (
                        p["database"], server["database_size"], conn.where(), request.path))
    manifest, manifest_path, removed = pg_dumper.dump(conn, tools, request)
    return dict(changed=True, path=request.path, manifest=manifest_path, manifest_data=manifest,
                removed_stale_partials=removed,
                sha256=manifest["sha256"], size=manifest["size"], archive_size=manifest["size"],
                object_count=manifest["object_count"],
                database=p["database"], server_version=manifest["server_version"])


def run_verify(module, tools):
    verified = verify_archive(module.params["path"], tools, module.params["manifest"])
    result = dict(changed=False, database=verified["manifest"]["database"])
    result.update(archive_facts(verified))
    return result


def run_restore(module, conn, tools):
    p = module.params
    request = pg_restorer.RestoreRequest(
        p["path"], database=p["database"], manifest_path=p["manifest"], jobs=p["jobs"], clean=p["clean"],
        create_database=p["create_database"], single_transaction=p["single_transaction"], no_owner=p["no_owner"],
        exit_on_error=p["exit_on_error"], session_settings=p["restore_session_settings"],
        maintenance_db=p["maintenance_db"], owner=p["owner"], verify_checksum=p["verify_checksum"],
        replace=p["replace"])
    if module.check_mode:
        planned = pg_restorer.plan(conn, tools, request)
        database, exists, new_role = planned["database"], planned["exists"], planned["new_role"]
        creates = ("create the role %s and " % p["owner"] if new_role else "") + (
            "create the database%s and " % (" owned by %s" % p["owner"] if p["owner"] else "") if not exists else "")
        result = dict(changed=True, database=database, created_database=not exists, created_owner_role=new_role,
                      mechanism=planned["mechanism"], missing_roles=[],
                      plan="would %srestore %s into database %s at %s: %s" % (
                          creates, p["path"], database, conn.where(), MECHANISMS[planned["mechanism"]]))
        result.update(archive_facts(planned["verified"]))
        return result
    restored = pg_restorer.restore(conn, tools, request)
    result = dict(changed=True, database=restored["database"], created_database=restored["created_database"],
                  created_owner_role=restored["created_owner_role"], mechanism=restored["mechanism"],
                  missing_roles=[], warnings=restored["warnings"])
    result.update(archive_facts(restored["verified"]))
    return result


def run(module):
    tools = ClientTools(module.get_bin_path, module.params["pg_bin_dir"])
    if module.params["state"] == "verify":
        return run_verify(module, tools)
    with PgConnection(module.params, tools.path) as conn:
        if module.params["state"] == "dump":
            return run_dump(module, conn, tools)
        return run_restore(module, conn, tools)


def main():
    run_module(run, argument_spec(), timed=True,
               required_if=[("state", "dump", ["database", "dest_dir"]), ("state", "verify", ["path"]),
                            ("state", "restore", ["path"])],
               mutually_exclusive=[("login_host", "login_unix_socket")])


if __name__ == "__main__":
    main()

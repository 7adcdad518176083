# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry the Encryptor Master Password (EMP) secrets over from one environment's store to another's.

The seed: a database restored into another environment needs the source's
EMPs "carried over unchanged - they cannot be regenerated or substituted".
This is the only code of the collection that writes an EMP secret, and it
writes only a value it has just read from the source, byte for byte.

Order: read every source EMP (all must exist) and every target EMP (missing
is allowed), write only the nodes whose target differs (a rerun writes
nothing), re-read the target and compare every digest with the source's.
Any failure (a write, the verification) rolls back every node written: on
AWS AWSCURRENT moves back to the version that was current (a secret that did
not exist is deleted with ForceDeleteWithoutRecovery); on Azure the previous
value is written again as a new version (a secret that did not exist is
deleted, then purged so the name can be used again).

changed: true as soon as anything was written, also when it was rolled back
(the stores keep the extra versions); rolled_back says whether the values in
effect are the ones from before. Values never leave this module: results and
errors carry digests, secret names and version ids only, and every error text
is scrubbed of the values read.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_emp
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


# decisions ------------------------------------------------------------------------------------------------------
def refuse_same_store(same_store, source_names, target_names):
    """Carrying a secret onto itself is a mistake in the options (source_environment, source_*), never a no-op."""
    if same_store and all(source_names[node] == target_names[node] for node in source_names):
        raise RecoveryError(
            "The source and the target of the EMP carry-over are the same store and the same secret names (%s):"
            " there is nothing to carry over." % ", ".join(target_names[node] for node in target_names),
            fix="set source_environment (and source_namespace) to the environment the database backup comes from,"
                " and its store with source_provider and the source_* connection options.")


def require_source(nodes, names, digests, where):
    missing = [node for node in nodes if digests[node] is None]
    if missing:
        raise RecoveryError(
            "The source's Encryptor Master Password secret of %s does not exist in %s; nothing was written."
            % ("; ".join("%s (%s)" % (node, names[node]) for node in missing), where),
            fix="check source_environment, source_namespace, emp_nodes and the source store options; an EMP"
                " cannot be made up: %s." % db_info_emp.SEED_RULE, missing=missing)


def plan(nodes, source_digests, target_digests):
    """The nodes to write: those whose target does not already hold the source's value."""
    return [node for node in nodes if target_digests[node] != source_digests[node]]


def mismatches(nodes, source_digests, target_digests):
    return [node for node in nodes if target_digests[node] != source_digests[node]]


# the store operations a carry-over needs beyond db_info_store's interface ----------------------------------------
class EmpWriter(object):
    """create/put/restore/delete of one EMP secret in a target store (AwsSecretStore or AzureSecretStore)."""

    def __init__(self, store, provider):
        self.store, self.provider = store, provider

    def create(self, name, value):
        if self.provider == "aws":
            return self.store.call("create", "create_secret", "secret %s" % name, Name=name,
                                   SecretString=value)["VersionId"]
        return self.store.connection.call("create", self.store.client.set_secret, name, value,
                                          where="secret %s in %s" % (name, self.store.vault_url)).properties.version

    def put(self, name, value, current):
        # Azure: keeps the content type and tags and records the version replaced (vaultops-previous-version).
        return self.store.put(name, value, current)

    def restore(self, name, before, current):
        """Make `before` (a Secret) the value in effect again; returns the version id in effect."""
        return self.store.reinstate(name, before, current)

    def delete(self, name):
        """Remove a secret the carry-over created; returns a note on what is left, or None."""
        if self.provider == "aws":
            self.store.call("delete", "delete_secret", "secret %s" % name, SecretId=name,
                            ForceDeleteWithoutRecovery=True)
            return None
        where = "secret %s in %s" % (name, self.store.vault_url)
        self.store.connection.call("delete", lambda: self.store.client.begin_delete_secret(name).wait(), where=where)
        try:
            self.store.connection.call("purge", self.store.client.purge_deleted_secret, name, where=where)
        except RecoveryError as exc:
            return ("deleted but not purged (%s): Key Vault keeps it soft-deleted, so the name cannot be set again"
                    " until it is purged or recovered" % exc.message)
        return None


def _read(store, names, seen):
    secrets = {}
    for node, name in names.items():
        try:
            secret = store.get(name)
        except SecretNotFound:
            secrets[node] = None
            continue
        secret.value = "" if secret.value is None else secret.value
        seen.append(secret.value)
        secrets[node] = secret
    return secrets


def _digests(secrets):
    return dict((node, None if secret is None else db_info_emp.hex_digest(secret.value))
                for node, secret in secrets.items())


def _describe_failure(exc, seen):
    if isinstance(exc, RecoveryError):
        return db_info_emp.scrub(exc.message, seen)
    return db_info_emp.scrub("%s: %s" % (type(exc).__name__, exc), seen)


class CarryOver(object):
    """One carry-over: source store and names, target store and names, the nodes, and the values seen."""

    def __init__(self, nodes, source, source_names, target, target_names, provider, seen):
        self.nodes = list(nodes)
        self.source, self.source_names = source, source_names
        self.target, self.target_names = target, target_names
        self.writer = EmpWriter(target, provider)
        self.seen = seen

    def run(self, check_mode):
        try:
            return self._run(check_mode)
        except RecoveryError as exc:
            raise db_info_emp.scrub_error(exc, self.seen)

    def _run(self, check_mode):
        source = _read(self.source, self.source_names, self.seen)
        source_digests = _digests(source)
        require_source(self.nodes, self.source_names, source_digests, self.source.describe)
        before = _read(self.target, self.target_names, self.seen)
        before_digests = _digests(before)
        todo = plan(self.nodes, source_digests, before_digests)
        result = {"changed": bool(todo), "source_emp_digests": source_digests, "emp_before": before_digests,
                  "carried": todo, "rolled_back": False, "store": self.target.describe,
                  "source_store": self.source.describe}
        if check_mode or not todo:
            # Check mode: emp_after is what the target would hold.
            result["emp_after"] = dict(before_digests, **dict((node, source_digests[node]) for node in todo))
            return result
        written, failure = [], None
        for node in todo:
            name, value = self.target_names[node], source[node].value
            try:
                if before[node] is None:
                    self.writer.create(name, value)
                else:
                    self.writer.put(name, value, before[node])
            except Exception as exc:  # pylint: disable=broad-except
                # Whatever broke the write, the nodes already written must be put back.
                failure = "writing %s (%s) failed: %s" % (node, name, _describe_failure(exc, self.seen))
                written.append(node)  # the write may have landed before the error
                break
            written.append(node)
        if failure is None:
            after_digests = _digests(_read(self.target, self.target_names, self.seen))
            wrong = mismatches(self.nodes, source_digests, after_digests)
            if not wrong:
                result["emp_after"] = after_digests
                return result
            failure = "after writing, the target's EMP of %s does not equal the source's" % ", ".join(wrong)
        self._fail(failure, written, before, result)
        return result  # not reached

    def _rollback(self, written, before, notes):
        """Put back every node written; returns {node: what is left} for the nodes that could not be.

        notes gets what is worth knowing about a node that was put back (an Azure secret not purged).
        """
        left = {}
        for node in written:
            name = self.target_names[node]
            try:
                current = _read(self.target, {node: name}, self.seen)[node]
                if _digests({node: current})[node] == _digests({node: before[node]})[node]:
                    continue
                if before[node] is None:
                    note = self.writer.delete(name)
                    if note:
                        notes[node] = note
                else:
                    self.writer.restore(name, before[node], current)
            except Exception as exc:  # pylint: disable=broad-except
                left[node] = "not put back: %s" % _describe_failure(exc, self.seen)
        return left

    def _fail(self, failure, written, before, result):
        notes = {}
        left = self._rollback(written, before, notes)
        try:
            after = _digests(_read(self.target, self.target_names, self.seen))
        except RecoveryError as exc:
            after = dict((node, None) for node in self.nodes)
            left.setdefault("*", "the target could not be read after the rollback: %s"
                            % db_info_emp.scrub(exc.message, self.seen))
        unrestored = [node for node in written if after[node] != result["emp_before"][node]]
        for node in unrestored:
            left.setdefault(node, "holds neither its previous value nor the source's")
        rolled_back = not left
        if rolled_back:
            state = ("Every node written (%s) was put back: the target's EMPs are as before the carry-over"
                     % ", ".join(written))
            if notes:
                state += " (%s)" % "; ".join("%s: %s" % item for item in sorted(notes.items()))
        else:
            state = "ROLLBACK INCOMPLETE - %s" % "; ".join("%s: %s" % item for item in sorted(left.items()))
        carried = [node for node in written if after[node] == result["source_emp_digests"][node]]
        facts = dict(result, changed=True, emp_after=after, carried=carried, written=written,
                     rolled_back=rolled_back, rollback_left=left, rollback_notes=notes)
        raise RecoveryError(
            "The EMP carry-over to %s failed: %s. %s." % (self.target.describe, failure, state),
            fix=("find the cause above and run the carry-over again (it writes only the nodes that still differ)."
                 if rolled_back else
                 "put the nodes named above back by hand (their emp_before digests say what they held; on AWS the"
                 " previous version is still in the secret's history) before anything starts with them; then"
                 " run the carry-over again."), **facts)

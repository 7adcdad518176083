# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A restore to an RDS instance's own name: rename the instance away, restore, and on any failure put it back.

Between the rename and a finished restore, production has no instance under its name (its endpoint is gone). So
every step after the first change is guarded: a failure deletes what this run restored under the name (only an
instance that carries this restore's tags), renames the old instance back, waits until it is available under its
name again and removes the tag the rename added. The error then says so; if the way back fails too, it says where
the old instance is and the commands that put it back. `rds` is the RdsSnapshots that reads and waits.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

TAG_REPLACED_BY = "vaultops-replaced-by"


def replace_and_restore(rds, old, new_name, reason, restored_tags, restore):
    """Renames `old` to new_name (tagged TAG_REPLACED_BY=reason), then returns restore(); rolls back and raises a
    RecoveryError on any failure.

    restored_tags: the tags the restore puts on the new instance (how a partly restored one is recognised).
    """
    name = old["DBInstanceIdentifier"]
    try:
        rds.conn.call("tag", "add_tags_to_resource", name, ResourceName=old["DBInstanceArn"],
                      Tags=[dict(Key=TAG_REPLACED_BY, Value=reason)])
        rds.conn.call("rename", "modify_db_instance", name, DBInstanceIdentifier=name,
                      NewDBInstanceIdentifier=new_name, ApplyImmediately=True)
        # The new name must answer before the old one is free for the restored instance.
        rds.wait_instance(new_name, always=True)
        rds.wait_gone(name)
        return restore()
    except Exception as failure:  # pylint: disable=broad-except
        # Whatever failed (an API error, a timeout, a bug), production must get its instance back.
        raise roll_back(rds, failure, name, new_name, restored_tags)


def roll_back(rds, failure, name, new_name, restored_tags):
    """Puts the instance renamed to new_name back under name; returns the error to raise."""
    deleted = None
    try:
        if rds.instance(new_name) is None:
            # The rename never happened: only the tag is to be taken off again.
            _untag(rds, rds.instance(name))
            return rolled_back_error(failure, name, new_name, renamed=False, deleted=None)
        partial = rds.instance(name)
        if partial is not None:
            tags = rds.tags(partial["DBInstanceArn"])
            if any(tags.get(key) != value for key, value in restored_tags.items()):
                raise RecoveryError("instance %s exists and was not restored by this run, so it is left alone"
                                    % name)
            rds.conn.call("delete the partly restored instance", "delete_db_instance", name,
                          DBInstanceIdentifier=name, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
            rds.wait_gone(name)
            deleted = name
        rds.conn.call("rename back", "modify_db_instance", new_name, DBInstanceIdentifier=new_name,
                      NewDBInstanceIdentifier=name, ApplyImmediately=True)
        _untag(rds, rds.wait_instance(name, always=True))
    except Exception as problem:  # pylint: disable=broad-except
        found = _safe(lambda: rds.instance(new_name))
        partial = _safe(lambda: rds.instance(name)) if deleted is None else None
        return stranded_error(failure, problem, name, new_name, found, partial)
    return rolled_back_error(failure, name, new_name, renamed=True, deleted=deleted)


def _untag(rds, instance):
    if instance is not None:
        rds.conn.call("untag", "remove_tags_from_resource", instance["DBInstanceIdentifier"],
                      ResourceName=instance["DBInstanceArn"], TagKeys=[TAG_REPLACED_BY])


def _safe(read):
    """A read for the error message only: what it cannot read is reported as unknown, not raised."""
    try:
        return read()
    except Exception:  # pylint: disable=broad-except
        return {"DBInstanceStatus": "unknown (it could not be read)"}


def _what(failure):
    return failure.message if isinstance(failure, RecoveryError) else "%s: %s" % (type(failure).__name__, failure)


def rolled_back_error(failure, name, new_name, renamed, deleted):
    """The failure, and that the instance is back under its name."""
    steps = []
    if deleted:
        steps.append("deleted the partly restored instance %s" % deleted)
    if renamed:
        steps.append("renamed %s back to %s" % (new_name, name))
    steps = "; ".join(steps) or "the instance was never renamed"
    message = "%s Rolled back: %s; the old instance is available under %s again (its endpoint unchanged)." % (
        _what(failure).rstrip(), steps, name)
    fix = failure.fix if isinstance(failure, RecoveryError) and failure.fix else "correct the cause and run again."
    if isinstance(failure, RecoveryError) and failure.facts.get("timed_out"):
        fix = "raise wait_timeout if the restore is just slow, then run again."
    facts = dict(changed=True, rolled_back=True)
    if isinstance(failure, RecoveryError) and failure.facts.get("code"):
        facts["code"] = failure.facts["code"]
    return RecoveryError(message, fix=fix, **facts)


def stranded_error(failure, problem, name, new_name, found, partial):
    """The failure, that rolling back failed too, where the old instance is now and how to put it back."""
    commands = []
    if partial is not None:
        commands.append("aws rds delete-db-instance --db-instance-identifier %s --skip-final-snapshot (the partly"
                        " restored instance), wait until it is gone" % name)
    commands.append("aws rds modify-db-instance --db-instance-identifier %s --new-db-instance-identifier %s"
                    " --apply-immediately" % (new_name, name))
    if found is not None:
        where = "The old instance is %s (status %s)" % (new_name, found.get("DBInstanceStatus"))
    else:
        where = "The old instance was renamed to %s, which does not answer now" % new_name
    if partial is not None:
        where += "; %s is a partly restored instance (status %s)" % (name, partial.get("DBInstanceStatus"))
    message = "%s Rolling back failed too (%s). %s." % (_what(failure).rstrip(), _what(problem).rstrip(), where)
    return RecoveryError(message, fix="put it back by hand: %s; then run again." % ", then ".join(commands),
                         changed=True, rolled_back=False, replaced_instance=new_name)

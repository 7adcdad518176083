# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small interface both secret stores (secret_store_aws, secret_store_azure) implement.

    get(name, version_id=None) -> Secret          the current version, or the given one;
                                                  raises SecretNotFound
    put(name, value, current) -> version id       a new current version; `current` (a Secret) is
                                                  kept as the previous version (AWS: AWSPREVIOUS)
    previous(name, current) -> version id | None  the version that was current before `current`
    in_effect(current, target) -> bool            whether `target`'s content is already what is current
    reinstate(name, target, current) -> version id  make `target`'s content current again
                                                  (AWS: move AWSCURRENT back to it; Azure: a new
                                                  version with its value)
    describe -> str                               where the store is, for messages (no secrets)

Values are secret text: stores never put them into messages.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class Secret(object):
    """One version of a secret. repr() leaves the value out, so a stray print cannot leak it."""

    def __init__(self, name, value, version_id, extra=None):
        self.name, self.value, self.version_id = name, value, version_id
        self.extra = extra or {}

    def __repr__(self):
        return "Secret(%r, version_id=%r)" % (self.name, self.version_id)


class SecretNotFound(RecoveryError):
    """The secret (or the version asked for) does not exist."""

    def __init__(self, name, where, version_id=None):
        what = "Secret %s" % name if version_id is None else "Version %s of secret %s" % (version_id, name)
        super(SecretNotFound, self).__init__(
            "%s does not exist in %s; no secret was changed." % (what, where),
            fix="check environment, namespace, services and the name template against the store.", secret=name)

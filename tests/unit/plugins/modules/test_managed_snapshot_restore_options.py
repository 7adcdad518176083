"""restore_options against botocore's model of the RDS restore operations: names, module-set keys, value types.

No message may carry a value: restore_options may hold TdeCredentialPassword.
"""

import pytest

pytest.importorskip("botocore")
import botocore.session  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import rds_request  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_snapshot import MODULE_SET_KEYS  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.modules import managed_snapshot  # noqa: E402

SECRET = "planted-tde-password-77f1"
RDS = botocore.session.get_session().get_service_model("rds")
FROM_SNAPSHOT = RDS.operation_model("RestoreDBInstanceFromDBSnapshot")
TO_POINT_IN_TIME = RDS.operation_model("RestoreDBInstanceToPointInTime")


def test_a_misspelt_key_names_the_operation_and_the_nearest_valid_name():
    with pytest.raises(RecoveryError) as caught:
        rds_request.check_option_keys({"DBInstanceClas": "db.t3.micro", "TdeCredentialPassword": SECRET},
                                      FROM_SNAPSHOT, MODULE_SET_KEYS)
    assert ("DBInstanceClas: not a parameter of RestoreDBInstanceFromDBSnapshot; did you mean DBInstanceClass?"
            in str(caught.value))
    assert "TdeCredentialPassword" not in str(caught.value) and SECRET not in str(caught.value)
    assert "nothing was changed" in caught.value.fix


def test_keys_the_module_sets_itself_are_refused_and_unknown_ones_without_a_neighbour_are_named():
    with pytest.raises(RecoveryError) as caught:
        rds_request.check_option_keys({"Tags": [], "RestoreTime": "x", "Zzzz": 1}, TO_POINT_IN_TIME, MODULE_SET_KEYS)
    text = str(caught.value)
    assert "RestoreTime: set by the module itself" in text and "Tags: set by the module itself" in text
    assert "Zzzz: not a parameter of RestoreDBInstanceToPointInTime." in text
    # DBSnapshotIdentifier is the module's for a snapshot restore but no parameter at all of a point-in-time one.
    with pytest.raises(RecoveryError, match="DBSnapshotIdentifier: not a parameter of RestoreDBInstanceToPointInTime"):
        rds_request.check_option_keys({"DBSnapshotIdentifier": "s"}, TO_POINT_IN_TIME, MODULE_SET_KEYS)
    rds_request.check_option_keys({"DBInstanceClass": "db.t3.micro", "TdeCredentialPassword": SECRET},
                                  FROM_SNAPSHOT, MODULE_SET_KEYS)
    rds_request.check_option_keys(None, FROM_SNAPSHOT, MODULE_SET_KEYS)


def test_value_types_are_checked_as_botocore_would_without_echoing_values():
    request = dict(DBInstanceIdentifier="iv-db", DBSnapshotIdentifier="s1", Port=5432)
    rds_request.check_request(dict(request, MultiAZ=True, TdeCredentialPassword=SECRET), FROM_SNAPSHOT)
    with pytest.raises(RecoveryError) as caught:
        rds_request.check_request(dict(request, MultiAZ="yes", Port="5432", TdeCredentialPassword=[SECRET],
                                       VpcSecurityGroupIds="sg-1"), FROM_SNAPSHOT)
    text = str(caught.value)
    assert "The RestoreDBInstanceFromDBSnapshot request is not valid" in text
    assert "MultiAZ must be of type <class 'bool'>" in text and "Port must be of type <class 'int'>" in text
    assert "TdeCredentialPassword must be of type <class 'str'>" in text
    assert "VpcSecurityGroupIds must be of type" in text
    assert SECRET not in text and "yes" not in text and "sg-1" not in text


def test_restore_options_values_are_no_log():
    assert managed_snapshot.argument_spec()["restore_options"]["no_log"] is True

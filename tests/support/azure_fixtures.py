"""pytest fixtures that run an Azure stand-in (tests/support/azure_*.py) for the tests of one module."""

import pytest


def stand_in_fixture(stand_in_class, directory_name):
    """A module-scoped fixture: stand_in_class started with a fresh directory (for its certificate), stopped after.

    Assign it to the fixture's name in the test module: ``vault = stand_in_fixture(KeyVaultStandIn, "key-vault")``.
    """
    @pytest.fixture(scope="module")
    def running_stand_in(tmp_path_factory):
        stand_in = stand_in_class(tmp_path_factory.mktemp(directory_name)).start()
        yield stand_in
        stand_in.stop()
    return running_stand_in

"""swtpm_archive names its option compressor, like pg_backup and path_archive; compression still works."""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vaultops.recovery.plugins.modules import path_archive, pg_backup, swtpm_archive


def validated(args):
    result = ArgumentSpecValidator(swtpm_archive.argument_spec()).validate(args)
    assert not result.error_messages
    return result.validated_parameters


def test_compressor_is_the_option_and_compression_its_alias():
    assert "compressor" in pg_backup.argument_spec() and "compressor" in path_archive.argument_spec()
    assert validated({"dest_dir": "/d"})["compressor"] == "gzip"
    assert validated({"dest_dir": "/d", "compressor": "none"})["compressor"] == "none"
    assert validated({"dest_dir": "/d", "compression": "none"})["compressor"] == "none"

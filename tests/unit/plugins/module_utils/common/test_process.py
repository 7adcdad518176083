import hashlib
import signal
import sys

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run, run_pipeline

PY = sys.executable


class Sink(object):
    def __init__(self):
        self.data = b""

    def write(self, chunk):
        self.data += chunk


def test_pipeline_streams_last_stage_into_sink():
    sink = Sink()
    run_pipeline([[PY, "-c", "import sys; sys.stdout.write('x' * 300000)"],
                  [PY, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())"]], sink=sink)
    assert sink.data == b"X" * 300000


def test_failed_first_stage_is_not_hidden_by_successful_last_stage():
    with pytest.raises(StageFailure) as info:
        run_pipeline([[PY, "-c", "import sys; sys.stderr.write('dump broke'); sys.exit(3)"], ["cat"]], sink=Sink())
    assert info.value.returncode == 3
    assert "dump broke" in info.value.stderr


def test_killed_stage_names_the_signal():
    with pytest.raises(StageFailure) as info:
        run_pipeline([[PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]], sink=Sink())
    assert info.value.killed_by == "SIGKILL"


def test_early_reader_close_is_tolerated_only_when_asked():
    writer, reader = ["yes"], ["head", "-c", "10"]  # C programs die of SIGPIPE, like zstd
    assert run_pipeline([writer, reader], upstream_may_see_closed_pipe=True) == b"y\ny\ny\ny\ny\n"
    with pytest.raises(StageFailure) as info:
        run_pipeline([writer, reader])
    assert info.value.returncode == -signal.SIGPIPE


def test_run_feeds_stdin():
    assert run(["cat"], stdin_bytes=b"hello")[:2] == (0, "hello")


def test_the_failing_reader_is_reported_not_the_writer_it_cut_off():
    with pytest.raises(StageFailure) as info:
        run_pipeline([["yes"], [PY, "-c", "import sys; sys.stdin.buffer.read(10); sys.stderr.write('disk full'); sys.exit(4)"]],
                     sink=Sink())
    assert info.value.returncode == 4 and "disk full" in info.value.stderr


def test_feed_is_written_to_the_first_stage_and_read_to_its_end():
    seen = []

    def chunks():
        for index in range(64):
            chunk = bytes([index]) * 65536
            seen.append(len(chunk))
            yield chunk

    digest_of_stdin = "import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    out = run_pipeline([[PY, "-c", digest_of_stdin]],
                       feed=chunks())
    assert out.decode().strip() == hashlib.sha256(b"".join(bytes([i]) * 65536 for i in range(64))).hexdigest()
    # A first stage that stops reading early: the feed is still consumed to its end (a running hash sees it all).
    seen.clear()
    with pytest.raises(StageFailure) as caught:
        run_pipeline([[PY, "-c", "import sys; sys.stdin.buffer.read(10); sys.exit(5)"]], feed=chunks())
    assert caught.value.returncode == 5 and len(seen) == 64


def test_feed_error_is_raised_after_the_stages_end():
    def broken():
        yield b"abc"
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        run_pipeline([["cat"]], feed=broken())

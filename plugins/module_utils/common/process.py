# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run argv pipelines (never a shell) and stream the last stdout to a sink.

stderr of every stage goes to its own temporary file, so a chatty stage can
never block the pipe, and every stage's exit status is checked: a killed
first stage must not pass for success because the last one exited 0.
"""

import os
import pwd
import signal
import subprocess
import tempfile
import threading

READ_SIZE = 1024 * 1024
_F_SETPIPE_SZ = 1031


class StageFailure(Exception):
    def __init__(self, argv, returncode, stderr):
        super(StageFailure, self).__init__("%s exited with %s" % (os.path.basename(argv[0]), returncode))
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr

    @property
    def killed_by(self):
        if self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return "signal %d" % -self.returncode
        return None


class RunAs(object):
    """Drop to an OS user in the child (peer authentication as postgres)."""

    def __init__(self, name):
        entry = pwd.getpwnam(name)
        self.name = name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid
        self.home = entry.pw_dir

    def preexec(self):
        os.initgroups(self.name, self.gid)
        os.setgid(self.gid)
        os.setuid(self.uid)


def _widen_pipe(fileobj):
    try:
        import fcntl
        fcntl.fcntl(fileobj.fileno(), _F_SETPIPE_SZ, READ_SIZE)
    except (ImportError, OSError):
        pass  # a larger pipe only saves system calls


class _Feeder(object):
    """Write an iterable of byte chunks into a stage's stdin from a thread.

    The iterable is always consumed to its end, even after the stage stopped
    reading (a corrupt stream makes zstd exit early): whoever taps the chunks
    (a running SHA-256) still sees every byte. stop() ends it early instead.
    """

    def __init__(self, chunks, pipe):
        self._chunks = chunks
        self._pipe = pipe
        self._stopped = threading.Event()
        self.error = None
        self._thread = threading.Thread(target=self._run, name="pipeline-feed")
        self._thread.daemon = True
        self._thread.start()

    def _run(self):
        fd = self._pipe.fileno()
        open_pipe = True
        try:
            for chunk in self._chunks:
                if self._stopped.is_set():
                    break
                view = memoryview(chunk)
                while open_pipe and view:
                    try:
                        view = view[os.write(fd, view):]
                    except BrokenPipeError:
                        open_pipe = False
        except BaseException as exc:  # handed to the caller by finish()
            self.error = exc
        finally:
            self._pipe.close()

    def stop(self):
        self._stopped.set()
        self._thread.join()

    def finish(self):
        self._thread.join()
        if self.error is not None:
            raise self.error


def run_pipeline(stages, env=None, run_as=None, stdin_path=None, sink=None, cwd=None,
                 upstream_may_see_closed_pipe=False, feed=None, pass_fds=()):
    """Run stages (a list of argv lists) as stage1 | stage2 | ...

    With a sink, the last stdout is streamed into sink.write() and None is
    returned; without one it is returned as bytes (for small outputs).
    With feed (an iterable of byte chunks), a thread writes it into the first
    stage's stdin, so the caller reads its input once and may hash it on the
    way; an error raised by feed is raised here after the stages ended.
    Raises StageFailure for the first stage (in pipe order) that failed.
    With upstream_may_see_closed_pipe, a non-last stage killed by SIGPIPE
    (its reader finished early, like ``zstd -dc | pg_restore --list``) is
    not a failure when the last stage succeeded.
    pass_fds are inherited by every stage (a PGPASSFILE=/dev/fd/N in env).
    """
    preexec = run_as.preexec if run_as else None
    procs = []
    errfiles = []
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    if feed is not None:
        stdin = subprocess.PIPE
    output = []
    feeder = None
    try:
        previous = stdin
        for argv in stages:
            errfile = tempfile.TemporaryFile()
            errfiles.append(errfile)
            proc = subprocess.Popen(argv, stdin=previous, stdout=subprocess.PIPE, stderr=errfile,
                                    env=env, preexec_fn=preexec, cwd=cwd, close_fds=True, pass_fds=pass_fds)
            if previous not in (subprocess.DEVNULL,) and hasattr(previous, "close"):
                previous.close()  # the child holds it now; closing ours lets SIGPIPE/EOF travel
            if feeder is None and feed is not None:
                feeder = _Feeder(feed, proc.stdin)
            previous = proc.stdout
            procs.append(proc)
        last = procs[-1].stdout
        _widen_pipe(last)
        fd = last.fileno()
        while True:
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                break
            if sink is not None:
                sink.write(chunk)
            else:
                output.append(chunk)
        last.close()
        codes = [proc.wait() for proc in procs]
        if feeder is not None:
            feeder.finish()
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if feeder is not None:
            feeder.stop()
        raise
    finally:
        if stdin_path and not stdin.closed:
            stdin.close()
    stderrs = []
    for errfile in errfiles:
        errfile.seek(0)
        stderrs.append(errfile.read().decode("utf-8", "replace"))
        errfile.close()
    early_close_ok = upstream_may_see_closed_pipe and codes[-1] == 0
    failures = [(argv, code, err) for index, (argv, code, err) in enumerate(zip(stages, codes, stderrs))
                if code != 0 and not (early_close_ok and index < len(stages) - 1 and code == -signal.SIGPIPE)]
    # A stage killed by SIGPIPE usually only lost its reader: the reader's own failure is the news.
    real = [failure for failure in failures if failure[1] != -signal.SIGPIPE]
    if failures:
        raise StageFailure(*(real or failures)[0])
    return None if sink is not None else b"".join(output)


def run(argv, env=None, run_as=None, stdin_bytes=None, cwd=None, pass_fds=()):
    """Run one command, feeding stdin_bytes; returns (rc, stdout, stderr) as text. The child inherits pass_fds."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, preexec_fn=run_as.preexec if run_as else None, cwd=cwd, close_fds=True,
                            pass_fds=pass_fds)
    out, err = proc.communicate(stdin_bytes)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

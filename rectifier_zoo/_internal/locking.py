"""Advisory file locks (``fcntl.flock``): held while a process works, released when it dies.

A lock is tied to the open file, so the kernel drops it when its process exits in
any way, ``kill -9`` included: a crashed trainer never leaves a lock behind.

Not ``filelock``: its Unix lock opens the lock file with ``O_TRUNC`` on every try,
which erases the holder's process id that a busy lock's message names.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib

from rectifier_zoo.errors import ConfigError


@contextlib.contextmanager
def locked(path, blocking=True, busy_message=None):
    """Hold an exclusive lock on ``path`` (created if missing) for the block.

    Args:
        path: the lock file.
        blocking: wait for the lock (True) or fail at once if another holds it.
        busy_message: the ``ConfigError`` message when ``blocking`` is False and the
            lock is held; ``{pid}`` is replaced by the holder's process id.
    """
    path = pathlib.Path(path)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise ConfigError((busy_message or "{path} is locked by process {pid}").format(pid=holder, path=path)) from None
        try:
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

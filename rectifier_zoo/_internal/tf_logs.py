"""TensorFlow's C++ start-up lines, held to the log level TensorFlow itself was given.

Why any machinery at all: ``TF_CPP_MIN_LOG_LEVEL`` (0 all, 1 no INFO, 2 no WARNING,
3 no ERROR; the zoo sets 2 unless it is set already) does not reach the lines
TensorFlow's libraries print while they load. They log through absl before
``absl::InitializeLog()`` runs, and absl writes those lines to stderr whatever the
threshold (abseil-cpp PR #1957, open). Measured with TensorFlow 2.21 on a CPU
machine, ``python -c "import tensorflow as tf; tf.config.list_physical_devices()"``
prints the same lines at every level, 3 included (the oneDNN notice, the absl banner
and the cudart line, twice, and at levels 0-2 the cuInit error, which is no error on a
machine without an NVIDIA driver):

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 00:00:... cuda_platform.cc:52] failed call to cuInit: ... CUDA error ... (303)

So ``filtered()`` points file descriptor 2 at a pipe while a block runs (the first
import of TensorFlow and of Keras, see ``registration``), and a small child process
(this file, run as a script) reads the pipe and writes every line the level lets
through to the real stderr as soon as the line is complete: at the default 2, every
error but that cuInit one on a driverless machine, every fatal line, and all Python
output and tracebacks. Nothing waits in this process: when TensorFlow's import dies
(a fatal C++ check calls ``abort()``), the child still reads all the dying process
wrote, forwards it and ends at the end of the pipe. A thread would die with the
process, and a buffer written back when the block ends (this module's first design)
was lost with it.

To see every line, set ``TF_CPP_MIN_LOG_LEVEL=0`` before ``import rectifier_zoo``
(nothing is filtered then); ``1`` shows warnings too (and the absl banner).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys

LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "2"
# How long the end of a block waits for the child to forward the last lines; it ends
# at once unless a process started in the block still holds the pipe as its stderr.
DRAIN_SECONDS = 5.0

_ABSL_BANNER = re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR")
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.-]+:\d+\] ")
_CPU_GUARD_TAIL = re.compile(r"^To enable the following instructions: .* rebuild TensorFlow")
_CUINIT = re.compile(r"cuda_platform\.cc:\d+\] failed call to cuInit")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}

_active = False  # a block inside a filtered block (Keras importing TensorFlow) shares its child


def level() -> int:
    """The TensorFlow C++ log level in force (``TF_CPP_MIN_LOG_LEVEL``, 0 if unset or unreadable)."""
    try:
        return int(os.environ.get(LEVEL_ENV, "0"))
    except ValueError:
        return 0


def has_nvidia_driver() -> bool:
    """Whether an NVIDIA kernel driver is loaded (where cuInit failing would be a real error)."""
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


def is_noise(line: str, min_level: int, driver: bool) -> bool:
    """Whether ``line`` is a start-up line that ``min_level`` should have hidden.

    Args:
        line: one line of stderr output.
        min_level: the ``TF_CPP_MIN_LOG_LEVEL`` in force.
        driver: whether this machine has an NVIDIA driver.

    Example:

    >>> is_noise("I0000 00:00:17.1 7154 cudart_stub.cc:31] Could not find cuda drivers", 2, False)
    True
    >>> is_noise("E0000 00:00:17.2 7154 op_kernel.cc:1830] OP_REQUIRES failed", 2, False)
    False
    """
    if _ABSL_BANNER.match(line):
        return min_level >= 2  # a warning-level line itself
    if _CPU_GUARD_TAIL.match(line):
        return min_level >= 1  # the second line of cpu_feature_guard's INFO message
    found = _ABSL_LINE.match(line)
    if not found:
        return False  # Python output, tracebacks, anything not absl's: always shown
    severity = _SEVERITY[found.group(1)]
    if severity == 2 and _CUINIT.search(line) and not driver:
        return min_level >= 1  # no driver, so no GPU: cuInit was bound to fail (not an error)
    return severity < min(min_level, 3)  # what the level hides; fatal lines always show


@contextlib.contextmanager
def filtered():
    """Run a block with stderr (file descriptor 2) filtered line by line by a child process.

    Nothing is filtered at ``TF_CPP_MIN_LOG_LEVEL=0``, inside another filtered block,
    or where the child cannot start (descriptor 2 cannot be duplicated, no Python
    executable to run): the block then writes to stderr as it is.

    Example:

    >>> with filtered():
    ...     import tensorflow  # its start-up INFO lines are dropped, errors kept
    """
    global _active
    min_level = level()
    started = None if min_level <= 0 or _active else _start_child(min_level)
    if started is None:
        yield
        return
    child, saved = started
    _active = True
    try:
        yield
    finally:
        _active = False
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes: the child reads to its end
        os.close(saved)
        _drain(child)


def _start_child(min_level):
    """Point descriptor 2 at a pipe the child filters; returns (child, saved descriptor 2) or None."""
    import subprocess  # only where TensorFlow is about to load: `import rectifier_zoo` stays light

    if not sys.executable or getattr(sys, "frozen", False) or not os.path.isfile(__file__):
        return None
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        return None
    read_end, write_end = os.pipe()
    command = [sys.executable, "-I", "-S", __file__, str(min_level), "1" if has_nvidia_driver() else "0"]
    try:
        child = subprocess.Popen(command, stdin=read_end, stdout=saved, stderr=saved)
    except (OSError, ValueError):
        for fd in (read_end, write_end, saved):
            os.close(fd)
        return None
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    return child, saved


def _drain(child) -> None:
    """Wait for the child to forward what is left (not forever: see ``DRAIN_SECONDS``)."""
    import subprocess

    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=DRAIN_SECONDS)


def forward(min_level: int, driver: bool, source: int = 0, sink: int = 1) -> None:
    """The child's loop: copy ``source`` to ``sink`` line by line, all but the noise, until its end."""
    pending = b""
    while chunk := os.read(source, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            _emit(line + b"\n", min_level, driver, sink)
    if pending:  # a last line without its newline (the writer died mid-line): shown too
        _emit(pending, min_level, driver, sink)


def _emit(line: bytes, min_level: int, driver: bool, sink: int) -> None:
    if is_noise(line.decode("utf-8", errors="replace"), min_level, driver):
        return
    while line:
        line = line[os.write(sink, line):]


def init_devices(tensorflow) -> None:
    """List TensorFlow's physical devices now (cuInit runs here), so its lines pass the filter.

    Listing physical devices allocates nothing: memory growth and visible devices
    can still be set afterwards.
    """
    with contextlib.suppress(Exception):  # a broken driver is reported by TF's first real use
        tensorflow.config.list_physical_devices()


if __name__ == "__main__":  # the child of filtered(): python tf_logs.py LEVEL DRIVER(0|1)
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent; this ends at the pipe's end
    forward(int(sys.argv[1]), sys.argv[2] == "1")

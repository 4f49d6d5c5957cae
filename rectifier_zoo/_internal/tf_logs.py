"""TensorFlow's C++ start-up lines, held to the log level TensorFlow itself was given.

``TF_CPP_MIN_LOG_LEVEL`` (0 all, 1 no INFO, 2 no WARNING, 3 no ERROR; the zoo sets
2 unless it is set already) is not applied to the lines TensorFlow's libraries
print while they load, before absl's logging is initialised, nor does it know that
``failed call to cuInit`` is no error on a machine without an NVIDIA driver. On a
CPU machine that is seven lines on every first import:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 00:00:... cuda_platform.cc:52] failed call to cuInit: ... CUDA error ... (303)
    ...

``filtered()`` runs a block with file descriptor 2 captured and writes back every
line the level lets through: at the default 2, every error but that cuInit one on
a driverless machine, every fatal line, and all Python output and tracebacks.
``registration`` runs the first import of TensorFlow and of Keras (and the first
look at the devices, which is where cuInit runs) inside it.

To see every line, set ``TF_CPP_MIN_LOG_LEVEL=0`` before ``import rectifier_zoo``
(nothing is filtered then); ``1`` shows warnings too (and the absl banner).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "2"

_ABSL_BANNER = re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR")
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.-]+:\d+\] ")
_CPU_GUARD_TAIL = re.compile(r"^To enable the following instructions: .* rebuild TensorFlow")
_CUINIT = re.compile(r"cuda_platform\.cc:\d+\] failed call to cuInit")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


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
    """Run a block with stderr (file descriptor 2) captured; write back all but the noise.

    Nothing is captured at ``TF_CPP_MIN_LOG_LEVEL=0``, or where descriptor 2
    cannot be duplicated. Lines are written back when the block ends, in order,
    also when it raises.

    Example:

    >>> with filtered():
    ...     import tensorflow  # its start-up INFO lines are dropped, errors kept
    """
    min_level = level()
    if min_level <= 0:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            _write_back(capture.read().decode("utf-8", errors="replace"), min_level)


def _write_back(text: str, min_level: int) -> None:
    driver = has_nvidia_driver()
    kept = [line for line in text.splitlines(keepends=True) if not is_noise(line, min_level, driver)]
    if kept:
        os.write(2, "".join(kept).encode("utf-8"))


def init_devices(tensorflow) -> None:
    """List TensorFlow's physical devices now (cuInit runs here), so its lines pass the filter.

    Listing physical devices allocates nothing: memory growth and visible devices
    can still be set afterwards.
    """
    with contextlib.suppress(Exception):  # a broken driver is reported by TF's first real use
        tensorflow.config.list_physical_devices()

"""Atomic writes: a reader sees the old file or the whole new one, never a half.

Everything the zoo writes that another process reads (exports, caches, tuner
results, checkpoints) goes through here: write beside the target under a unique
temporary name, flush to disk, then rename over the target (atomic on POSIX).

A full disk (``ENOSPC``, or a quota) leaves the target untouched and no temporary
file behind; ``disk_full_error`` words it as one ArtifactError that names the disk,
the space free and the space needed (``store`` uses it for exports and downloads).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pathlib
import shutil
import tempfile

from rectifier_zoo.errors import ArtifactError

_FULL = (errno.ENOSPC, errno.EDQUOT)
# How Keras, h5py and TensorFlow word errno 28 (and the quota's) in errors of their own types.
_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: pathlib.Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- a full disk


def is_disk_full(err) -> bool:
    """Whether ``err`` says the disk (or the user's quota) is full, whoever raised it."""
    if getattr(err, "disk_full", False) or (isinstance(err, OSError) and err.errno in _FULL):
        return True
    return any(text in str(err) for text in _FULL_TEXTS)


def disk_of(path) -> str:
    """The mount point holding ``path``, with its device when known: ``/home (/dev/sda2)``."""
    path = pathlib.Path(path).absolute()
    path = next((p for p in (path, *path.parents) if p.exists()), pathlib.Path("/"))
    mount = path.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    device = None
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 1 and fields[1] == str(mount):
                device = fields[0]  # the last mount on a point is the one in use
    return f"{mount} ({device})" if device else str(mount)


def free_bytes(path) -> int | None:
    """Bytes free to this user on the disk holding ``path`` (None if that cannot be read)."""
    path = pathlib.Path(path).absolute()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    try:
        return shutil.disk_usage(existing).free if existing else None
    except OSError:
        return None


def megabytes(size) -> str:
    return f"{size / 1e6:.1f} MB"


def disk_full_error(path, doing, needed=None, fix="free space on it or write elsewhere") -> ArtifactError:
    """The one error for a full disk: the disk, what was being written, free and needed space, the fix.

    Args:
        path: where the write went.
        doing: what was being written, e.g. ``"exporting mnist_rect_l1 into /x"``.
        needed: ``(bytes, "about" or "more than")``, or None when not known.
        fix: what the user can do besides freeing space.
    """
    free = free_bytes(path)
    have = f"{megabytes(free)} free" if free is not None else "free space unknown"
    need = f", {needed[1]} {megabytes(needed[0])} needed" if needed else ""
    err = ArtifactError(
        f"no space left on the disk {disk_of(path)} while {doing}: {have}{need}; "
        f"nothing half-written was left behind: {fix}, then try again"
    )
    err.disk_full = True  # so an outer writer words it for the whole job instead (is_disk_full)
    return err


@contextlib.contextmanager
def atomic_path(target, suffix=""):
    """Yield a temporary file path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is untouched. A
    full disk stays an OSError here (a cache that cannot be written is only a
    warning to some callers); ``store`` words it with ``disk_full_error``.
    """
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp" + suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result is meant to be shared
    tmp = pathlib.Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(target, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target, obj) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


@contextlib.contextmanager
def atomic_dir(target):
    """Yield a temporary directory beside ``target``; rename it to ``target`` on success.

    ``target`` must not exist yet (directories cannot be replaced atomically); if
    another writer created it meanwhile, ``FileExistsError`` is raised and the
    temporary directory is removed, so two writers never clobber each other.
    """
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        if target.exists():
            raise FileExistsError(f"{target} already exists")
        os.rename(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

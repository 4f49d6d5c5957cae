"""sha256 checks of model artifacts, and the rules for names inside them.

Exports, the local cache and remote stores all describe their files by relative
path and sha256. Everything here is pure Python (no Keras, no TensorFlow), so the
checks run before anything is deserialised.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re

from rectifier_zoo.errors import ArtifactError, ConfigError

CHUNK = 1 << 20
# An export's model folder name: one plain path component, readable in a URL.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")


def sha256_file(path) -> str:
    """Hex sha256 of a file, read in chunks (models can be large).

    Example:

    >>> sha256_file("exports/mnist_rect_l1/1/mnist_rect_l1.keras")[:8]
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(root, exclude=()) -> dict:
    """``{relative posix path: sha256}`` of every file under ``root`` but ``exclude``.

    Args:
        root: a directory.
        exclude: relative paths to leave out (a card does not hash itself).
    """
    root = pathlib.Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    found = {p.relative_to(root).as_posix(): sha256_file(p) for p in files}
    return {k: v for k, v in found.items() if k not in set(exclude)}


def check_file(path, expected: str) -> None:
    """Raise ArtifactError naming ``path`` unless its sha256 is ``expected``."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ArtifactError(
            f"{path} is missing; the artifact is incomplete: delete its folder and fetch or export it again"
        )
    actual = sha256_file(path)
    if actual != expected:
        raise ArtifactError(
            f"sha256 mismatch for {path}: expected {expected[:16]}…, got {actual[:16]}… "
            "(the file is truncated or was modified); delete its folder and fetch or export it again"
        )


def check_tree(root, hashes: dict) -> None:
    """Check every file of ``hashes`` (relative path -> sha256) under ``root``."""
    root = pathlib.Path(root)
    for rel, expected in sorted(hashes.items()):
        check_file(root / safe_relpath(rel), expected)


def safe_name(name, what="model name") -> str:
    """Return ``name`` if it is one safe path component, else raise ConfigError.

    Refuses empty names, ``.``/``..``, separators and anything outside letters,
    digits and ``_ . + -`` so a name can never escape the export dir or cache.

    Example:

    >>> safe_name("mnist_rect_l1")
    'mnist_rect_l1'
    """
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or name in (".", ".."):
        raise ConfigError(
            f"{what} {name!r} is not a safe folder name; use letters, digits and _ . + - "
            "(no '/', no '..', not empty), e.g. 'mnist_rect_l1'"
        )
    return name


def safe_relpath(rel: str) -> pathlib.PurePosixPath:
    """A relative path from a card or manifest, refused if it could leave its folder."""
    path = pathlib.PurePosixPath(rel)
    if not rel or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in rel:
        raise ArtifactError(f"artifact lists an unsafe file path {rel!r}; refusing to read or write it")
    return path


# ------------------------------------------------------------- staging folders
# Versions are assembled in a dot-prefixed folder beside their final place (TF
# Serving and the loaders only read all-digit names) and renamed when whole.
STAGING_PREFIX = ".staging-"
# Tests set this to a number of seconds to stop a writer between "all files
# written" and "rename", the worst moment to be killed.
PAUSE_ENV = "RECTIFIER_ZOO_PAUSE_BEFORE_RENAME"


def staging_dir(parent, kind) -> pathlib.Path:
    """A new empty staging folder in ``parent``, named after this host and process.

    Args:
        parent: the folder the finished version will be renamed into.
        kind: what is being staged (``export``, ``download``), for people reading ``ls -a``.
    """
    import socket
    import tempfile

    parent = pathlib.Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
    prefix = f"{STAGING_PREFIX}{kind}-{host}-{os.getpid()}-"
    return pathlib.Path(tempfile.mkdtemp(dir=parent, prefix=prefix))


def clean_stale_staging(parent) -> list:
    """Remove staging folders in ``parent`` left by dead processes of this host.

    A writer killed mid-way leaves its staging folder; readers ignore it, and the
    next writer on the same host removes it once its process is gone. Folders of
    other hosts (shared file systems) are left alone.

    Returns the removed paths.
    """
    import shutil
    import socket

    parent = pathlib.Path(parent)
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
    removed = []
    for path in parent.glob(STAGING_PREFIX + "*"):
        parts = path.name[len(STAGING_PREFIX):].split("-")
        if len(parts) < 4 or parts[1] != host or not parts[2].isdigit():
            continue
        if not _alive(int(parts[2])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def pause_before_rename() -> None:
    """Test hook: sleep ``$RECTIFIER_ZOO_PAUSE_BEFORE_RENAME`` seconds, announcing it on stderr."""
    seconds = os.environ.get(PAUSE_ENV)
    if not seconds:
        return
    import sys
    import time

    print(f"rectifier_zoo: paused before rename for {seconds}s", file=sys.stderr, flush=True)
    time.sleep(float(seconds))

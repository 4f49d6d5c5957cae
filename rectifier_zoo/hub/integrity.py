"""sha256 checks of model artifacts, and the rules for names inside them.

Exports, the local cache and remote stores all describe their files by relative
path and sha256. Everything here is pure Python (no Keras, no TensorFlow), so the
checks run before anything is deserialised. Where those files live and how a
version is published is ``rectifier_zoo.hub.store``'s business, not this module's.
"""

from __future__ import annotations

import hashlib
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


REFETCH = "delete its folder and fetch or export it again"


def artifact_error(problem: str, fix: str = REFETCH) -> ArtifactError:
    """``ArtifactError("<problem>; <fix>")`` that keeps ``problem`` apart, so a loader that
    deals with the damage itself (the cache sets the version aside) can name it with its own fix."""
    err = ArtifactError(f"{problem}; {fix}")
    err.problem = problem
    return err


def problem_of(err) -> str:
    """What went wrong, without the fix: ``artifact_error``'s problem, else the whole message."""
    return getattr(err, "problem", None) or str(err)


def check_file(path, expected: str) -> None:
    """Raise ArtifactError naming ``path`` unless its sha256 is ``expected``."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise artifact_error(f"{path} is missing; the artifact is incomplete")
    actual = sha256_file(path)
    if actual != expected:
        raise artifact_error(
            f"sha256 mismatch for {path}: expected {expected[:16]}…, got {actual[:16]}… "
            "(the file is truncated or was modified)"
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
        raise artifact_error(f"artifact lists an unsafe file path {rel!r}", "refusing to read or write it")
    return path

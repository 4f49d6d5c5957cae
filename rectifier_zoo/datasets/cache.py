"""On-disk cache of prepared arrays, so a second load of a dataset is fast.

Each entry is one ``.npz`` file under ``datasets_home()``, named after the dataset
and a hash of everything that decides its content: the loader's format version,
the source (kind and path), the sizes and mtimes of the source files, and the
keyword arguments.  Change any of them and the old entry is simply not found.

The arrays are stored in their compact raw dtype (``uint8`` pixels, ``uint16``
pixel sums...); the loaders scale them to float32 after reading, which keeps the
cache small and the float conversion in one place.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import warnings
import zipfile

import numpy as np

from rectifier_zoo._internal.atomic import atomic_path
from rectifier_zoo._internal.paths import datasets_home

# Bump when a loader's output for the same files changes, so stale entries are ignored.
FORMAT_VERSION = 1

SPLIT_KEYS = ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test")


def fingerprint(paths, root=None) -> list:
    """Sizes and mtimes of ``paths`` (files, or folders walked recursively).

    Args:
        paths: files or directories the data is read from.
        root: if given, paths are recorded relative to it (so a moved tree that
            is otherwise identical still matches only if its files are unchanged).

    Returns:
        A sorted list of ``[path, size, mtime_ns]``; missing paths are skipped.
    """
    entries = []
    for path in map(pathlib.Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            name = str(f.relative_to(root)) if root else str(f)
            entries.append([name, st.st_size, st.st_mtime_ns])
    return sorted(entries)


def cache_file(name: str, key_parts: dict) -> pathlib.Path:
    """The cache path for dataset ``name`` with the given key parts (JSON-able)."""
    blob = json.dumps({"v": FORMAT_VERSION, "name": name, **key_parts}, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
    return datasets_home() / f"{name}-{digest}.npz"


def _read(path: pathlib.Path, keys) -> dict | None:
    """Read every array of a cache file; ``None`` (and the file deleted) if corrupt."""
    try:
        with np.load(path, allow_pickle=False) as data:
            # Read every array now: a truncated member only fails when it is read.
            arrays = {k: data[k] for k in data.files}
        missing = [k for k in keys if k not in arrays]
        if missing:
            raise KeyError(f"missing arrays {missing}")
        return arrays
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        warnings.warn(f"rectifier_zoo: cache file {path} is unreadable ({err}); rebuilding it")
        try:
            path.unlink()
        except OSError:
            pass
        return None


def _write(path: pathlib.Path, arrays: dict) -> None:
    """Write the arrays atomically; a cache that cannot be written is only a warning."""
    try:
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as f:  # a file object: np.savez must not append ".npz"
                np.savez(f, **arrays)
    except OSError as err:
        warnings.warn(f"rectifier_zoo: could not write the dataset cache {path} ({err})")


def cached(name: str, key_parts: dict, build, use_cache: bool = True, keys=SPLIT_KEYS) -> dict:
    """Return the arrays for ``key_parts`` from the cache, or ``build()`` and store them.

    Args:
        name: dataset name (the file name's prefix).
        key_parts: JSON-able dict that identifies the content (source, fingerprint, kwargs).
        build: zero-argument callable returning a dict of numpy arrays.
        use_cache: ``False`` neither reads nor writes the cache.
        keys: arrays a valid entry must contain.

    Returns:
        The dict of arrays.
    """
    if not use_cache or os.environ.get("RECTIFIER_ZOO_NO_CACHE") == "1":
        return build()
    path = cache_file(name, key_parts)
    if path.exists():
        arrays = _read(path, keys)
        if arrays is not None:
            return arrays
    arrays = build()
    _write(path, arrays)
    return arrays

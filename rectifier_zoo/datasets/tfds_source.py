"""Reading tensorflow-datasets' prepared copies, without ever touching the network.

``tensorflow_datasets`` is imported only inside these functions, and only after a
cheap filesystem check says a prepared copy may exist (or a download was allowed):
a missing dataset fails in milliseconds instead of after importing TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import numpy as np

from rectifier_zoo.errors import DataError

DOWNLOAD_ENV = "RECTIFIER_ZOO_DOWNLOAD"


def download_allowed(download: bool) -> bool:
    """``download`` or the environment variable ``RECTIFIER_ZOO_DOWNLOAD=1``."""
    return bool(download) or os.environ.get(DOWNLOAD_ENV, "") == "1"


def tfds_data_dir(data_dir=None) -> pathlib.Path:
    """The tfds data folder: ``data_dir``, else ``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets``."""
    if data_dir is not None:
        return pathlib.Path(data_dir)
    env = os.environ.get("TFDS_DATA_DIR")
    return pathlib.Path(env) if env else pathlib.Path.home() / "tensorflow_datasets"


def how_to_get(tfds_name: str) -> str:
    """The standard advice for getting a tfds dataset onto an offline machine."""
    return (
        f"to prepare it, on a machine with internet run `tfds build {tfds_name}` or "
        f"`python -c \"import tensorflow_datasets as tfds; tfds.load('{tfds_name}')\"`, "
        f"copy ~/tensorflow_datasets/{tfds_name} here and pass data_dir= or set TFDS_DATA_DIR; "
        f"or call load(..., download=True) (or set {DOWNLOAD_ENV}=1) to let tensorflow-datasets download it"
    )


def maybe_present(tfds_name: str, data_dir=None) -> bool:
    """Cheap check (no tfds import): does ``<tfds dir>/<tfds_name>`` exist?"""
    return (tfds_data_dir(data_dir) / tfds_name).is_dir()


def builder(tfds_name: str, data_dir=None, download: bool = False):
    """A prepared tfds builder, downloading only when allowed.

    Args:
        tfds_name: e.g. ``"mnist"``, ``"smallnorb"``.
        data_dir: tfds data folder (see ``tfds_data_dir``).
        download: allow ``download_and_prepare`` if the data is not prepared.

    Returns:
        ``(builder, fingerprint_paths)``: the builder and the folder its files are in.

    Raises:
        DataError: not prepared and downloading not allowed, or the download failed.
    """
    root = tfds_data_dir(data_dir)
    allowed = download_allowed(download)
    if not allowed and not maybe_present(tfds_name, data_dir):
        raise DataError(f"no prepared tensorflow-datasets copy of {tfds_name!r} in {root}; {how_to_get(tfds_name)}")
    import tensorflow_datasets as tfds  # heavy: only here

    b = tfds.builder(tfds_name, data_dir=str(root))
    if not b.is_prepared():
        if not allowed:
            raise DataError(
                f"the tensorflow-datasets copy of {tfds_name!r} in {b.data_dir} is not fully prepared "
                f"(no dataset_info.json / record files); {how_to_get(tfds_name)}"
            )
        try:
            b.download_and_prepare()
        except Exception as err:  # network, disk, checksum: all become one clear error
            raise DataError(f"downloading {tfds_name!r} with tensorflow-datasets into {root} failed: {err}") from err
    return b, b.data_dir


def iter_batches(b, split: str, batch_size: int = 2048):
    """Yield numpy dicts of ``batch_size`` examples of ``split``, in the stored order."""
    import tensorflow_datasets as tfds

    ds = b.as_dataset(split=split, batch_size=batch_size, shuffle_files=False)
    yield from tfds.as_numpy(ds)


def num_examples(b, split: str) -> int:
    """Examples in ``split`` per the builder's metadata; 0 when unknown (mocked builders)."""
    try:
        return int(b.info.splits[split].num_examples)
    except (KeyError, AttributeError, TypeError):
        return 0


def stored_order(n: int, split: str) -> np.ndarray:
    """Original index of each example in tfds' stored order.

    When preparing, tfds sorts the examples of a split by ``md5(split_name + str(key))``
    (its ``core.hashing.Hasher``, salt = split name) and the mnist builders use the
    example's index in the original file as key.  Sorting the keys the same way
    therefore says which original example sits at each stored position, so tfds
    gives the same arrays, in the same order, as the original files.
    """
    salt = split.encode("utf-8")
    digests = [hashlib.md5(salt + str(k).encode("utf-8")).hexdigest() for k in range(n)]
    # Fixed-width lowercase hex sorts like the 128-bit integers tfds compares.
    return np.asarray(sorted(range(n), key=digests.__getitem__), dtype=np.int64)


def collect(batches, fields, n_hint: int = 0, transform=None) -> dict:
    """Concatenate batch fields into arrays, filling preallocated arrays when ``n_hint`` is known.

    Args:
        batches: iterable of dicts of numpy arrays.
        fields: names of the fields to keep.
        n_hint: expected number of examples (0: unknown, grow as needed).
        transform: optional callable ``dict -> dict`` applied to each batch first
            (e.g. down-sampling), so only the small result is kept.

    Returns:
        Dict field -> array of all examples.
    """
    out, filled = {}, 0
    for batch in batches:
        batch = transform(batch) if transform else {f: batch[f] for f in fields}
        m = len(batch[fields[0]])
        for f in fields:
            arr = np.asarray(batch[f])
            if f not in out:
                out[f] = np.empty((max(n_hint, m),) + arr.shape[1:], arr.dtype)
            if filled + m > len(out[f]):  # unknown or wrong size: grow geometrically
                grown = np.empty((max(2 * len(out[f]), filled + m),) + arr.shape[1:], arr.dtype)
                grown[:filled] = out[f][:filled]
                out[f] = grown
            out[f][filled:filled + m] = arr
        filled += m
    return {f: out[f][:filled] if f in out else np.empty((0,)) for f in fields}

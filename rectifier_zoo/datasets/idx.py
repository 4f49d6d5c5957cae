"""MNIST and Fashion-MNIST: 50k train / 10k valid / 10k test, 784 features in [0, 1].

Split rule (a function of the sizes, so small files work too): the official
training set's last ``n // 6`` examples are the validation split (exactly the last
10,000 of the 60,000), the rest is training; the official test set is the test
split.  Images are flattened row-major (28 x 28), pixels divided by 255.

Sources, in order: the IDX files in ``data_dir`` (or, for fashion_mnist with no
``data_dir``, the Debian package's ``/usr/share/datasets/fashion-mnist``); a
prepared tensorflow-datasets copy (``data_dir`` or ``$TFDS_DATA_DIR``); a tfds
download when ``download=True``.  tfds' stored order is undone (see
``tfds_source.stored_order``), so every source gives identical arrays.
"""

from __future__ import annotations

import gzip
import pathlib
import zlib

import numpy as np

from rectifier_zoo._internal import advice
from rectifier_zoo.datasets import cache as cache_lib
from rectifier_zoo.datasets import tfds_source
from rectifier_zoo.datasets.splits import Splits, from_pixels
from rectifier_zoo.errors import DataError

NUM_CLASSES = 10
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # 0x00000803: ubyte, 3 dims; 0x00000801: ubyte, 1 dim
FASHION_DEBIAN_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")

# Standard file stems; the alternatives are the "test-" and "train-images.idx3-ubyte" spellings.
_STEMS = {
    ("train", "images"): ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    ("train", "labels"): ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    ("test", "images"): ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte",
                         "test-images-idx3-ubyte", "test-images.idx3-ubyte"],
    ("test", "labels"): ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte",
                         "test-labels-idx1-ubyte", "test-labels.idx1-ubyte"],
}

_HOW = {
    "mnist": "the MNIST files are at https://yann.lecun.com/exdb/mnist/ (or a mirror)",
    "fashion_mnist": "`apt-get install dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist, "
                     "or get them from https://github.com/zalandoresearch/fashion-mnist",
}


def valid_size(n_train_official: int) -> int:
    """Validation examples cut from the end of an official training set of this size (10k of 60k)."""
    return n_train_official // 6


def find_files(directory) -> dict | None:
    """The four IDX files in ``directory`` (gzipped or not), or ``None`` if any is missing.

    Args:
        directory: folder to look in.

    Returns:
        Dict ``(split, kind) -> path`` or ``None``.
    """
    directory = pathlib.Path(directory)
    found = {}
    for key, stems in _STEMS.items():
        for stem in stems:
            for name in (stem + ".gz", stem):
                if (directory / name).is_file():
                    found[key] = directory / name
                    break
            if key in found:
                break
        else:
            return None
    return found


def read_idx(path, magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped or raw), checking magic number and length.

    Args:
        path: the file.
        magic: expected magic number (2051 images, 2049 labels).

    Returns:
        uint8 array of the file's dimensions.

    Raises:
        DataError: unreadable gzip, wrong magic number, or a truncated file.
    """
    path = pathlib.Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open  # sniff, do not trust the suffix
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"cannot read IDX file {path}: {err}; the file is corrupt or truncated, get it again") from err
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        got = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
        raise DataError(f"{path} is not an IDX {'image' if ndim == 3 else 'label'} file: "
                        f"magic number {got} instead of {magic}; check the file names")
    if len(data) < header:
        raise DataError(f"IDX file {path} is truncated (header incomplete); get it again")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims))
    if len(data) - header < size:
        raise DataError(f"IDX file {path} is truncated: {len(data) - header} of {size} data bytes "
                        f"for shape {tuple(dims)}; get it again")
    return np.frombuffer(data, np.uint8, count=size, offset=header).reshape(dims)


def _read_pair(images_path, labels_path):
    """Images flattened to (n, 784) and labels, with count and range checked."""
    x = read_idx(images_path, IMAGES_MAGIC)
    y = read_idx(labels_path, LABELS_MAGIC)
    if len(x) != len(y):
        raise DataError(f"{images_path} holds {len(x)} images but {labels_path} holds {len(y)} labels; "
                        "the files do not belong together")
    if len(y) and y.max() >= NUM_CLASSES:
        raise DataError(f"{labels_path}: label {int(y.max())} out of range [0, {NUM_CLASSES})")
    return x.reshape(len(x), -1), y.astype(np.int64)


def cut(x_train, y_train, x_test, y_test) -> dict:
    """Cut official train/test into the zoo's three splits (validation = end of train)."""
    n_valid = valid_size(len(x_train))
    k = len(x_train) - n_valid
    return {"x_train": x_train[:k], "y_train": y_train[:k], "x_valid": x_train[k:], "y_valid": y_train[k:],
            "x_test": x_test, "y_test": y_test}


def _from_files(files) -> dict:
    x_train, y_train = _read_pair(files["train", "images"], files["train", "labels"])
    x_test, y_test = _read_pair(files["test", "images"], files["test", "labels"])
    return cut(x_train, y_train, x_test, y_test)


def _from_tfds(b) -> dict:
    """Official splits from a prepared builder, put back in the original file order."""
    parts = []
    for split in ("train", "test"):
        arrays = tfds_source.collect(tfds_source.iter_batches(b, split), ["image", "label"],
                                     tfds_source.num_examples(b, split))
        x = arrays["image"].reshape(len(arrays["image"]), -1)
        y = arrays["label"].astype(np.int64)
        original = np.empty_like(x), np.empty_like(y)
        order = tfds_source.stored_order(len(x), split)
        original[0][order], original[1][order] = x, y
        parts += list(original)
    return cut(*parts)


def finish(name: str, arrays: dict, source: str) -> Splits:
    """The cached uint8 pixels as Splits in [0, 1]."""
    return from_pixels(name, arrays, NUM_CLASSES, (28, 28), source)


def load(name: str = "mnist", data_dir=None, download: bool = False, cache: bool = True) -> Splits:
    """Load mnist or fashion_mnist (see the module docstring for splits and sources).

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: folder of IDX files, or a tfds data folder.
        download: allow a tensorflow-datasets download if nothing local is found.
        cache: read/write the prepared-array cache.

    Returns:
        Splits with x float32 (n, 784) in [0, 1], y int64 in [0, 10).
    """
    idx_dirs = []
    if data_dir is not None:
        idx_dirs = [pathlib.Path(data_dir), pathlib.Path(data_dir) / name]
    elif name == "fashion_mnist" and FASHION_DEBIAN_DIR.is_dir():
        idx_dirs = [FASHION_DEBIAN_DIR]
    for directory in idx_dirs:
        files = find_files(directory)
        if files:
            key = {"source": "idx", "files": cache_lib.fingerprint(sorted(map(str, files.values())))}
            arrays = cache_lib.cached(name, key, lambda: _from_files(files), cache)
            return finish(name, arrays, str(directory))
    try:
        b, tfds_dir = tfds_source.builder(name, data_dir, download)
    except DataError as err:
        looked = ", ".join(str(d) for d in idx_dirs) or f"(no {advice.name_of('data_dir')} given)"
        expected = ", ".join(stems[0] + "[.gz]" for stems in _STEMS.values())
        raise DataError(f"{name}: IDX files {expected} not found in {looked}; {_HOW[name]}. "
                        f"Also: {err}") from None
    key = {"source": "tfds", "dir": str(tfds_dir), "files": cache_lib.fingerprint([tfds_dir])}
    arrays = cache_lib.cached(name, key, lambda: _from_tfds(b), cache)
    return finish(name, arrays, f"tfds:{tfds_dir}")

"""CIFAR-10: 50k train / 5k valid / 5k test, 3072 features in [0, 1], input_shape (32, 32, 3).

The paper's 5k/5k split of the official 10,000 test images: the first half (in
file order, ``n // 2``) is the validation split, the second half the test split;
the 50,000 training images are all training.  Features are flattened in
height-width-channel order (HWC: pixel (r, c) channel k is feature
``(r * 32 + c) * 3 + k``), as Keras and tensorflow-datasets lay out images; the
python batches store CHW and are transposed.

Sources, in order: the python batches (``data_batch_1`` .. ``data_batch_5``,
``test_batch``) in ``data_dir`` or ``data_dir/cifar-10-batches-py``; the JPEG
(quality 75) copy ``cifar10-jpeg.zip`` in ``data_dir`` (its own split rule, see
:mod:`rectifier_zoo.datasets.cifar10_jpeg`: ``Splits.source`` is the label
"CIFAR-10 (JPEG q75 copy)" and ``Splits.fingerprint`` the zip's md5, which every
result and model card made from it carries); a prepared
tensorflow-datasets copy (``data_dir`` or ``$TFDS_DATA_DIR``), put back in file
order by its ``id`` feature; a tfds download when ``download=True``.
"""

from __future__ import annotations

import pathlib
import pickle

import numpy as np

from rectifier_zoo._internal import advice
from rectifier_zoo.datasets import cache as cache_lib
from rectifier_zoo.datasets import cifar10_jpeg, tfds_source
from rectifier_zoo.datasets.splits import Splits, from_pixels
from rectifier_zoo.errors import DataError

NUM_CLASSES = 10
FEATURES = 32 * 32 * 3
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
HOW = ("get cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it "
       "(it holds cifar-10-batches-py/)")


class _SafeUnpickler(pickle.Unpickler):
    """Only what a CIFAR batch needs: a pickle from an untrusted file cannot run code."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def valid_size(n_test_official: int) -> int:
    """Validation examples taken from the start of the official test set (5k of 10k)."""
    return n_test_official // 2


def find_dir(data_dir) -> pathlib.Path | None:
    """The folder holding all six batch files: ``data_dir`` or its ``cifar-10-batches-py``."""
    for d in (pathlib.Path(data_dir), pathlib.Path(data_dir) / "cifar-10-batches-py"):
        if all((d / f).is_file() for f in TRAIN_FILES + TEST_FILES):
            return d
    return None


def read_batch(path):
    """One python batch as (x uint8 (n, 3072) HWC, y int64), checked.

    Raises:
        DataError: truncated/corrupt pickle, missing keys, wrong shapes or labels.
    """
    try:
        with open(path, "rb") as f:
            d = _SafeUnpickler(f, encoding="bytes").load()
        data, labels = d[b"data"], d[b"labels"]
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError,
            AttributeError, IndexError) as err:
        raise DataError(f"cannot read CIFAR batch {path}: {type(err).__name__}: {err}; "
                        f"the file is corrupt or truncated, {HOW}") from err
    data = np.asarray(data)
    y = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != FEATURES:
        raise DataError(f"CIFAR batch {path}: data must be uint8 (n, {FEATURES}), got {data.dtype} {data.shape}")
    if len(data) != len(y):
        raise DataError(f"CIFAR batch {path}: {len(data)} images but {len(y)} labels")
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DataError(f"CIFAR batch {path}: labels must lie in [0, {NUM_CLASSES}), found {y.min()}..{y.max()}")
    # CHW planes (1024 red, 1024 green, 1024 blue) -> HWC, the layout of Keras and tfds.
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(data), FEATURES)
    return x, y


def _read_all(paths):
    xs, ys = zip(*(read_batch(p) for p in paths))
    return np.concatenate(xs), np.concatenate(ys)


def cut(x_train, y_train, x_test, y_test) -> dict:
    """Official train stays train; official test: first half valid, second half test."""
    k = valid_size(len(x_test))
    return {"x_train": x_train, "y_train": y_train, "x_valid": x_test[:k], "y_valid": y_test[:k],
            "x_test": x_test[k:], "y_test": y_test[k:]}


def _from_files(directory) -> dict:
    x_train, y_train = _read_all([directory / f for f in TRAIN_FILES])
    x_test, y_test = _read_all([directory / f for f in TEST_FILES])
    return cut(x_train, y_train, x_test, y_test)


def _from_tfds(b) -> dict:
    parts = []
    for split in ("train", "test"):
        arrays = tfds_source.collect(tfds_source.iter_batches(b, split), ["image", "label", "id"],
                                     tfds_source.num_examples(b, split))
        order = np.argsort(arrays["id"], kind="stable")  # ids "train_00042": file order
        x = arrays["image"][order].reshape(len(order), FEATURES)
        parts += [x, arrays["label"][order].astype(np.int64)]
    return cut(*parts)


def finish(arrays: dict, source: str, fingerprint: str = "") -> Splits:
    """The cached uint8 pixels as Splits in [0, 1]."""
    return from_pixels("cifar10", arrays, NUM_CLASSES, (32, 32, 3), source, fingerprint)


def load(data_dir=None, download: bool = False, cache: bool = True) -> Splits:
    """Load CIFAR-10 (see the module docstring for the split and layout).

    Args:
        data_dir: folder of python batches (or holding ``cifar-10-batches-py``), or a tfds data folder.
        download: allow a tensorflow-datasets download if nothing local is found.
        cache: read/write the prepared-array cache.

    Returns:
        Splits with x float32 (n, 3072) in [0, 1] (HWC), y int64 in [0, 10).
    """
    directory = find_dir(data_dir) if data_dir is not None else None
    if directory is not None:
        key = {"source": "batches",
               "files": cache_lib.fingerprint([directory / f for f in TRAIN_FILES + TEST_FILES])}
        arrays = cache_lib.cached("cifar10", key, lambda: _from_files(directory), cache)
        return finish(arrays, str(directory))
    archive = cifar10_jpeg.find(data_dir) if data_dir is not None else None
    if archive is not None:
        key = {"source": "jpeg-zip", "files": cache_lib.fingerprint([archive])}
        arrays = cache_lib.cached("cifar10", key, lambda: cifar10_jpeg.read(archive), cache)
        return finish(arrays, cifar10_jpeg.LABEL, cifar10_jpeg.fingerprint(archive))
    try:
        b, tfds_dir = tfds_source.builder("cifar10", data_dir, download)
    except DataError as err:
        looked = (
            f"{data_dir} and {pathlib.Path(data_dir) / 'cifar-10-batches-py'}"
            if data_dir
            else f"(no {advice.name_of('data_dir')} given)"
        )
        raise DataError(f"cifar10: python batches {', '.join(TRAIN_FILES + TEST_FILES)} "
                        f"(or the JPEG copy {cifar10_jpeg.FILE}) not found in {looked}; "
                        f"{HOW}. Also: {err}") from None
    key = {"source": "tfds", "dir": str(tfds_dir), "files": cache_lib.fingerprint([tfds_dir])}
    arrays = cache_lib.cached("cifar10", key, lambda: _from_tfds(b), cache)
    return finish(arrays, f"tfds:{tfds_dir}")

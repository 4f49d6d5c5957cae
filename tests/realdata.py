"""Where the tests find real data, and what they do when it is missing.

The real datasets lie in ``../shared/datasets/`` beside the repository (every
development machine and CI have them) and Fashion-MNIST in Debian's
``/usr/share/datasets/fashion-mnist``. On a bare clone they are missing: a test that
needs one skips, with a reason that names the data and where to put it. CI sets
``RECTIFIER_ZOO_REQUIRE_DATA=1`` (in ``.ci/run``), which turns that skip into a
failure, so the real-data tests can never pass there by not running.
"""

from __future__ import annotations

import os
import pathlib

import pytest

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
MNIST = SHARED / "mnist"
CIFAR10_JPEG = SHARED / "cifar10-jpeg"
SENTIMENT = SHARED / "amazon-sentiment"
FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
REQUIRE_ENV = "RECTIFIER_ZOO_REQUIRE_DATA"

_HOW = {
    MNIST: "the MNIST IDX files (train-images-idx3-ubyte.gz, ...) in ../shared/datasets/mnist beside the repository",
    CIFAR10_JPEG: "cifar10-jpeg.zip (the JPEG q75 copy) in ../shared/datasets/cifar10-jpeg beside the repository",
    SENTIMENT: "processed_acl.tar.gz in ../shared/datasets/amazon-sentiment beside the repository",
    FASHION_MNIST: "Debian's Fashion-MNIST: apt-get install dataset-fashion-mnist",
}


def require(path: pathlib.Path, needed=()) -> pathlib.Path:
    """``path`` if it (and each file ``needed`` in it) exists; else skip, or fail under CI's variable."""
    missing = [f for f in needed if not (path / f).exists()] if path.is_dir() else [path.name]
    if not missing:
        return path
    message = f"needs real data: {_HOW.get(path, str(path))} (missing: {', '.join(missing)})"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message}; {REQUIRE_ENV}=1 makes this a failure")
    pytest.skip(message)


# The four IDX files of MNIST and Fashion-MNIST (the loaders also take them unzipped).
IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def keras_test_split(folder: pathlib.Path):
    """The test split of an IDX folder as ``keras.datasets.mnist.load_data()`` gives it:
    uint8 images ``(10000, 28, 28)`` and uint8 labels; skipped (or failed in CI) when missing."""
    from rectifier_zoo.datasets import idx

    folder = require(folder, IDX_FILES)
    return idx.read_idx(folder / IDX_FILES[2], idx.IMAGES_MAGIC), idx.read_idx(folder / IDX_FILES[3], idx.LABELS_MAGIC)

"""NORB, as tensorflow-datasets' ``smallnorb``: 20,000 train / 4,300 valid / 24,300 test.

Not the paper's data.  The paper used jittered-cluttered NORB (6 classes including
"no object", cluttered backgrounds, jittered objects; 233,172 / 58,428 / 58,320),
which tensorflow-datasets does not distribute.  ``smallnorb`` has 5 classes
(four-legged animals, human figures, airplanes, trucks, cars), centred objects on
plain backgrounds, 24,300 training and 24,300 test stereo pairs of 96 x 96.
Error rates are therefore not comparable with the paper's NORB column.

Preprocessing as in the paper: each stereo image is down-sampled from 96 x 96 to
32 x 32 by area averaging (mean of each 3 x 3 block), scaled to [-1, 1]
(``mean / 127.5 - 1``), and the pair flattened to 2,048 features in (camera, row,
column) order; input_shape is (2, 32, 32).  Validation = the last ``n * 43 // 243``
training examples (exactly 4,300 of 24,300) in tfds' stored order, which is a
fixed pseudo-random order (md5 of the example keys), so all classes are mixed.

Sources: a prepared tfds ``smallnorb`` in ``data_dir`` / ``$TFDS_DATA_DIR``, or a
tfds download when ``download=True``.  Batches are down-sampled as they are read,
so only the small uint16 block sums are held in memory.
"""

from __future__ import annotations

import numpy as np

from rectifier_zoo.datasets import cache as cache_lib
from rectifier_zoo.datasets import tfds_source
from rectifier_zoo.datasets.splits import Splits

NUM_CLASSES = 5
SIDE, FACTOR = 32, 3  # 96 = 32 * 3
TFDS_NAME = "smallnorb"


def valid_size(n_train_official: int) -> int:
    """Validation examples cut from the end of the training set (4,300 of 24,300)."""
    return n_train_official * 43 // 243


def block_sums(images: np.ndarray) -> np.ndarray:
    """Sum of each 3 x 3 block of uint8 images (b, 96, 96[, 1]) -> uint16 (b, 32, 32).

    Sums (at most 9 * 255 = 2295) are exact in uint16; dividing by 9 later gives
    the area average without rounding, and the cache stays at 2 bytes a feature.
    """
    b = len(images)
    blocks = images.reshape(b, SIDE, FACTOR, SIDE, FACTOR)
    return blocks.sum(axis=(2, 4), dtype=np.uint16)


def _downsample_batch(batch: dict) -> dict:
    pair = np.stack([block_sums(batch["image"]), block_sums(batch["image2"])], axis=1)
    return {"x": pair.reshape(len(pair), 2 * SIDE * SIDE), "y": batch["label_category"].astype(np.int64)}


def _from_tfds(b) -> dict:
    out = {}
    for split in ("train", "test"):
        arrays = tfds_source.collect(tfds_source.iter_batches(b, split, batch_size=1024), ["x", "y"],
                                     tfds_source.num_examples(b, split), transform=_downsample_batch)
        out[split] = arrays["x"], arrays["y"]
    (x_train, y_train), (x_test, y_test) = out["train"], out["test"]
    k = len(x_train) - valid_size(len(x_train))
    return {"x_train": x_train[:k], "y_train": y_train[:k], "x_valid": x_train[k:], "y_valid": y_train[k:],
            "x_test": x_test, "y_test": y_test}


def to_features(sums: np.ndarray) -> np.ndarray:
    """uint16 block sums -> float32 in [-1, 1]: mean / 127.5 - 1."""
    x = sums.astype(np.float32)
    x *= np.float32(2.0 / (FACTOR * FACTOR * 255.0))
    x -= np.float32(1.0)
    np.clip(x, -1.0, 1.0, out=x)  # float rounding must not leave the documented range
    return x


def load(data_dir=None, download: bool = False, cache: bool = True) -> Splits:
    """Load small NORB (see the module docstring for how it differs from the paper's NORB).

    Args:
        data_dir: tfds data folder holding ``smallnorb/`` (default ``$TFDS_DATA_DIR``
            or ``~/tensorflow_datasets``).
        download: allow a tensorflow-datasets download if it is not prepared.
        cache: read/write the prepared-array cache.

    Returns:
        Splits with x float32 (n, 2048) in [-1, 1], y int64 in [0, 5), input_shape (2, 32, 32).
    """
    b, tfds_dir = tfds_source.builder(TFDS_NAME, data_dir, download)
    key = {"source": "tfds", "dir": str(tfds_dir), "files": cache_lib.fingerprint([tfds_dir])}
    arrays = cache_lib.cached("norb", key, lambda: _from_tfds(b), cache)

    def pair(split):
        return to_features(arrays["x_" + split]), arrays["y_" + split].astype(np.int64)

    return Splits("norb", pair("train"), pair("valid"), pair("test"), NUM_CLASSES, (2, SIDE, SIDE),
                  f"tfds:{tfds_dir}")

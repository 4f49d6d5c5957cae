"""Small generated data for the tests: nothing is downloaded."""

import numpy as np

from rectifier_zoo.datasets.splits import Splits


def blobs(n, features=20, classes=3, seed=0, spread=0.35):
    """``n`` examples of ``classes`` Gaussian blobs in [0, 1]^features (fixed centres)."""
    centres = np.random.default_rng(1234).uniform(0.2, 0.8, size=(classes, features))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.clip(centres[y] + spread * rng.normal(size=(n, features)) / np.sqrt(features) * 2, 0, 1)
    return x.astype("float32"), y.astype("int64")


def blob_splits(n_train=600, n_valid=200, n_test=200, features=20, classes=3):
    return Splits(
        "blobs",
        blobs(n_train, features, classes, seed=1),
        blobs(n_valid, features, classes, seed=2),
        blobs(n_test, features, classes, seed=3),
        classes,
        (features,),
        "generated",
    )

"""Small generated data for the tests: nothing is downloaded.

Child processes of the tests import it too: put this folder on ``sys.path`` first.
"""

import numpy as np

from rectifier_zoo.datasets.splits import Splits


def blobs(n, features=20, classes=3, seed=0, spread=0.35, centres=None):
    """``n`` examples of ``classes`` Gaussian blobs in ``features`` dimensions: float32 ``x``, int64 ``y``.

    The labels and the noise are drawn from ``seed``; the centres are not, so every seed's
    draw comes from the same blobs. By default the centres are fixed ones in [0.2, 0.8]^features,
    the noise has norm about ``2 * spread`` and ``x`` is clipped to [0, 1]. ``centres``
    (shape ``(classes, features)``) replaces them: ``x`` is then ``centres[y]`` plus ``spread``
    times standard normal noise, unclipped.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    noise = rng.normal(size=(n, features))
    if centres is None:
        centres = np.random.default_rng(1234).uniform(0.2, 0.8, size=(classes, features))
        x = np.clip(centres[y] + spread * noise / np.sqrt(features) * 2, 0, 1)
    else:
        x = centres[y] + spread * noise
    return x.astype("float32"), y.astype("int64")


def blob_splits(n_train=600, n_valid=200, n_test=200, features=20, classes=3, source="generated", **blob_options):
    """``Splits`` named "blobs" drawn with seeds 1, 2 and 3; ``blob_options`` go to ``blobs``."""
    return Splits(
        "blobs",
        blobs(n_train, features, classes, seed=1, **blob_options),
        blobs(n_valid, features, classes, seed=2, **blob_options),
        blobs(n_test, features, classes, seed=3, **blob_options),
        classes,
        (features,),
        source,
    )

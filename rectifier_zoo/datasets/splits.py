"""The train / valid / test splits every dataset loader returns."""

from __future__ import annotations

import dataclasses

import numpy as np

from rectifier_zoo.errors import DataError


@dataclasses.dataclass(frozen=True)
class Splits:
    """A dataset cut into the paper's three splits.

    Each split is a pair ``(x, y)``: ``x`` float32 of shape ``(n, features)`` (flat),
    ``y`` int64 labels in ``[0, num_classes)``.

    Attributes:
        name: dataset name, as ``rz.datasets.load`` takes it.
        train, valid, test: the ``(x, y)`` pairs.
        num_classes: number of classes.
        input_shape: shape of one example before flattening, e.g. ``(28, 28)``.
        source: where the data came from (a path, ``"tfds"``, ``"generated"``, or a
            label such as ``"CIFAR-10 (JPEG q75 copy)"`` that results must carry).
        fingerprint: what identifies the source's content (e.g. a file's md5), for
            the sources whose results must say which data they came from; else "".
    """

    name: str
    train: tuple
    valid: tuple
    test: tuple
    num_classes: int
    input_shape: tuple
    source: str = ""
    fingerprint: str = ""

    def __post_init__(self):
        check_all(self)

    def check(self) -> Splits:
        """Check the arrays again (they are mutable numpy arrays) and return ``self``."""
        check_all(self)
        return self

    @property
    def num_features(self) -> int:
        return int(self.train[0].shape[1])

    def subset(self, n_train=None, n_valid=None, n_test=None) -> "Splits":
        """The first examples of each split (for quick runs and tests)."""
        def head(pair, n):
            return pair if n is None else (pair[0][:n], pair[1][:n])

        return dataclasses.replace(
            self,
            train=head(self.train, n_train),
            valid=head(self.valid, n_valid),
            test=head(self.test, n_test),
        )


def from_pixels(name, arrays: dict, num_classes, input_shape, source, fingerprint="") -> Splits:
    """Splits from cached uint8 pixels (``x_train``, ``y_train``, ...), scaled to float32 in [0, 1]."""
    def pair(split):
        x = arrays["x_" + split].astype(np.float32)
        x /= np.float32(255.0)  # in place: one float copy, no temporary
        return x, arrays["y_" + split].astype(np.int64)

    return Splits(name, pair("train"), pair("valid"), pair("test"), num_classes, tuple(input_shape), source,
                  fingerprint)


def check_all(splits):
    """Check every split, and that they agree on the number of features."""
    nc = splits.num_classes
    if isinstance(nc, bool) or not isinstance(nc, (int, np.integer)) or nc < 1:
        raise DataError(f"dataset {splits.name!r}: num_classes must be an integer >= 1, got {nc!r}")
    widths = []
    for split in ("train", "valid", "test"):
        pair = getattr(splits, split)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise DataError(
                f"dataset {splits.name!r}, split {split!r}: must be a pair (x, y), got {type(pair).__name__}"
                + (f" of length {len(pair)}" if isinstance(pair, (tuple, list)) else "")
            )
        check_split(splits.name, split, *pair, nc)
        widths.append(pair[0].shape[1])
    if widths[0] < 1 or len(set(widths)) != 1:
        raise DataError(
            f"dataset {splits.name!r}: train / valid / test must have the same number (>= 1) of features, "
            f"got {widths[0]} / {widths[1]} / {widths[2]}"
        )


def check_split(name, split, x, y, num_classes):
    """Refuse data that would train silently wrong: bad shapes, labels or values."""
    where = f"dataset {name!r}, split {split!r}"
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
        raise DataError(
            f"{where}: features must be a float32 array of shape (n, features), "
            f"got {getattr(x, 'dtype', type(x).__name__)} with shape {getattr(x, 'shape', None)}"
        )
    if not isinstance(y, np.ndarray) or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataError(
            f"{where}: labels must be a 1-D integer array, got "
            f"{getattr(y, 'dtype', type(y).__name__)} with shape {getattr(y, 'shape', None)}"
        )
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x)} examples but {len(y)} labels; the files do not match")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(
            f"{where}: labels must lie in [0, {num_classes}), found {int(y.min())}..{int(y.max())}"
        )
    if not np.isfinite(x).all():
        raise DataError(f"{where}: features contain NaN or inf; the source files are corrupt")

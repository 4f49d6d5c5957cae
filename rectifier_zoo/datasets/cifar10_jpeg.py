"""CIFAR-10 from the JPEG (quality 75) copy: one zip of 60,000 images, read as it is.

The zip (``cifar10-jpeg.zip``) lays its images out as ``train/<class>/NNNN.jpg``
(5,000 a class) and ``test/<class>/NNNN.jpg`` (1,000 a class), classes in the
official label order. Its pixels are JPEG-decoded, not the originals, so every
result made from it is labelled :data:`LABEL`, never "the paper's data".

The copy lost the official order of the test images, so the paper's split (first
5,000 test images validate, last 5,000 test) cannot be rebuilt. Its fixed rule,
the same on every machine and not a seed anyone can change:

- validation: test images numbered 0000-0499 of each class (500 a class, 5,000);
- test: test images numbered 0500-0999 of each class (500 a class, 5,000);
- training: all 50,000 training images.

Within each split the examples are interleaved by number, then class (image 0 of
every class, then image 1, ...), so any prefix of a split (a quick run's subset)
is class-balanced. Images decode once with Pillow and are cached as uint8.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import re
import zipfile

import numpy as np

from rectifier_zoo.errors import DataError

FILE = "cifar10-jpeg.zip"
LABEL = "CIFAR-10 (JPEG q75 copy)"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PER_CLASS = {"train": 5000, "test": 1000}
# Test images numbered below this (per class) are the validation split.
VALID_BELOW = 500
MEMBER = re.compile(r"^(train|test)/([a-z]+)/(\d{4})\.jpg$")
HOW = (f"the zoo reads the JPEG copy as one file, {FILE}: pass data_dir= (--data-dir) the folder "
       "that holds it, unchanged (see its README for the md5)")


def find(data_dir) -> pathlib.Path | None:
    """The copy's zip in ``data_dir`` (or ``data_dir`` itself when it names the zip), else None."""
    path = pathlib.Path(data_dir)
    if path.is_file() and path.suffix == ".zip":
        return path
    candidate = path / FILE
    return candidate if candidate.is_file() else None


def fingerprint(path) -> str:
    """``"cifar10-jpeg.zip md5 <hex>"``: what results and model cards carry (its README lists the md5)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"{FILE} md5 {digest.hexdigest()}"


def _index(names) -> dict:
    """``{(split, class index, number): member name}`` for every image member; checks the counts."""
    found = {}
    for name in names:
        m = MEMBER.match(name)
        if m and m.group(2) in CLASSES:
            found[(m.group(1), CLASSES.index(m.group(2)), int(m.group(3)))] = name
    for split, per_class in PER_CLASS.items():
        for k, cls in enumerate(CLASSES):
            have = sum(1 for n in range(per_class) if (split, k, n) in found)
            if have != per_class:
                raise DataError(f"{FILE}: {split}/{cls} holds {have} of its {per_class} images "
                                f"(0000-{per_class - 1:04d}.jpg); the zip is incomplete: {HOW}")
    return found


def _decode(zf, name) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(zf.read(name))) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{FILE}: cannot decode {name} ({type(err).__name__}: {err}); the zip is damaged: {HOW}") from err
    if pixels.shape != (32, 32, 3):
        raise DataError(f"{FILE}: {name} is {pixels.shape[1]}x{pixels.shape[0]}, not 32x32 RGB: {HOW}")
    return pixels


def _read(zf, index, split, numbers) -> tuple:
    """The images ``numbers`` of every class, interleaved (number, then class), as flat HWC uint8."""
    keys = [(split, k, n) for n in numbers for k in range(len(CLASSES))]
    x = np.empty((len(keys), 32 * 32 * 3), dtype=np.uint8)
    for i, key in enumerate(keys):
        x[i] = _decode(zf, index[key]).reshape(-1)
    y = np.array([k for _, k, _ in keys], dtype=np.int64)
    return x, y


def read(path) -> dict:
    """Decode the whole zip into the six split arrays (uint8 pixels), by the module's rule.

    Raises:
        DataError: not a zip, damaged, or missing images (the message names the fix).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            index = _index(zf.namelist())
            x_train, y_train = _read(zf, index, "train", range(PER_CLASS["train"]))
            x_valid, y_valid = _read(zf, index, "test", range(VALID_BELOW))
            x_test, y_test = _read(zf, index, "test", range(VALID_BELOW, PER_CLASS["test"]))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataError(f"cannot read {path}: {type(err).__name__}: {err}; {HOW}") from err
    return {"x_train": x_train, "y_train": y_train, "x_valid": x_valid, "y_valid": y_valid,
            "x_test": x_test, "y_test": y_test}

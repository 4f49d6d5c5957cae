"""The library versions behind a result or a model card (package metadata, and Keras's backend)."""

from __future__ import annotations

import importlib.metadata
import platform

PACKAGES = ("rectifier-zoo", "keras", "tensorflow", "jax", "torch", "numpy", "keras-tuner")


def library_versions() -> dict:
    """Python, the Keras backend and each installed package of ``PACKAGES``, by name."""
    import keras  # loaded already wherever a result or a card is written

    found = {"python": platform.python_version(), "keras_backend": keras.backend.backend()}
    for pkg in PACKAGES:
        try:
            found[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found

"""Where the zoo keeps its files on disk.

Kept free of heavy imports: the data loaders and the command line read it before
Keras is loaded.
"""

from __future__ import annotations

import os
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def keras_home() -> pathlib.Path:
    """Keras' own home (``$KERAS_HOME``, else ``~/.keras``), as Keras resolves it."""
    return pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras")


def zoo_home() -> pathlib.Path:
    """The zoo's local home: ``$RECTIFIER_ZOO_HOME``, else ``<keras home>/rectifier_zoo``.

    It holds the model cache (``models/``) and prepared datasets (``datasets/``).
    """
    home = os.environ.get("RECTIFIER_ZOO_HOME")
    return pathlib.Path(home) if home else keras_home() / "rectifier_zoo"


def models_home() -> pathlib.Path:
    return zoo_home() / "models"


def datasets_home() -> pathlib.Path:
    return zoo_home() / "datasets"

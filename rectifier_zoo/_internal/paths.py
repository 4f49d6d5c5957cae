"""Where the zoo keeps its files on disk, and whether it may write there.

Kept free of heavy imports: the data loaders and the command line read it before
Keras is loaded.
"""

from __future__ import annotations

import os
import pathlib

from rectifier_zoo.errors import ConfigError

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
HOME_ENV = "RECTIFIER_ZOO_HOME"


def keras_home() -> pathlib.Path:
    """Keras' own home (``$KERAS_HOME``, else ``~/.keras``), as Keras resolves it."""
    return pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras")


def zoo_home() -> pathlib.Path:
    """The zoo's local home: ``$RECTIFIER_ZOO_HOME``, else ``<keras home>/rectifier_zoo``.

    It holds the model cache (``models/``), prepared datasets (``datasets/``) and
    the versions the loaders set aside (``quarantine/``).
    """
    home = os.environ.get(HOME_ENV)
    return pathlib.Path(home) if home else keras_home() / "rectifier_zoo"


def models_home() -> pathlib.Path:
    return zoo_home() / "models"


def datasets_home() -> pathlib.Path:
    return zoo_home() / "datasets"


def quarantine_home() -> pathlib.Path:
    """Where a cached version that failed its checks or refused to load is moved, with its reason."""
    return zoo_home() / "quarantine"


def unwritable(folder) -> pathlib.Path | None:
    """The nearest existing path at or above ``folder`` if no file can be created under it, else None."""
    folder = pathlib.Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        return None
    return existing


def in_zoo_home(folder) -> bool:
    """Whether ``folder`` is the zoo home or lies under it (then ``$RECTIFIER_ZOO_HOME`` moves it)."""
    home, folder = zoo_home().absolute(), pathlib.Path(folder).absolute()
    return folder == home or home in folder.parents


def writable_fix(folder) -> str:
    """How to get a writable folder instead of ``folder``: for the zoo home, the variable to set."""
    if in_zoo_home(folder):
        return f"set {HOME_ENV} to a writable folder (e.g. `export {HOME_ENV}=$HOME/rectifier_zoo`; the zoo home is {zoo_home()})"
    return "choose a folder this user can write to"


def check_writable(folder, doing: str) -> None:
    """ConfigError, before any work, unless files can be created in ``folder`` (made if missing).

    Args:
        folder: where the work will write.
        doing: what would be written, e.g. ``"download mnist_rect_l1 into the cache"``.
    """
    blocked = unwritable(folder)
    if blocked is not None:
        what = "is read-only" if blocked.is_dir() else "is a file, not a folder"
        raise ConfigError(f"cannot {doing}: {blocked} {what}; {writable_fix(folder)}")

"""Fixtures shared by the test modules: a zoo home of the test's own, and what else a test must not find.

``zoo_home``: ``RECTIFIER_ZOO_HOME`` is an empty folder of this test's own, so the
user's cache (models, datasets) is never read or written. ``empty_zoo`` adds that
nothing else is found by name either: no remote store, and an empty stand-in for
the repository's shipped ``exports/``. ``no_datasets`` adds an empty
tensorflow-datasets folder with downloads not allowed by the environment.

``zoo_log``: the lines the zoo logs (logger ``rectifier_zoo``, INFO and up), e.g. where
``rz.load`` loaded from; ``zoo_log()`` returns those logged since its last call.

A module that wants one for every test says ``pytestmark =
pytest.mark.usefixtures("zoo_home")``, or has an autouse fixture that requests it.
"""

import logging

import pytest


@pytest.fixture
def zoo_home(tmp_path, monkeypatch):
    """``RECTIFIER_ZOO_HOME = tmp_path/"home"`` (not created); returns that path."""
    home = tmp_path / "home"
    monkeypatch.setenv("RECTIFIER_ZOO_HOME", str(home))
    return home


@pytest.fixture
def empty_zoo(zoo_home, tmp_path, monkeypatch):
    """``zoo_home``, no remote store (``RECTIFIER_ZOO_URL`` unset) and ``hub.EXPORTS_DIR =
    tmp_path/"repo_exports"`` (never the repository's; a test may fill it): ``rz.load(name)``
    finds only what the test puts there. Returns the home."""
    from rectifier_zoo.hub import locate as hub, remote

    monkeypatch.delenv(remote.URL_ENV, raising=False)
    monkeypatch.setattr(hub, "EXPORTS_DIR", tmp_path / "repo_exports")
    return zoo_home


@pytest.fixture
def no_datasets(zoo_home, tmp_path, monkeypatch):
    """``zoo_home``, ``TFDS_DATA_DIR = tmp_path/"tfds"`` (not created) and ``RECTIFIER_ZOO_DOWNLOAD``
    unset: no dataset is found that the test did not write, and none is downloaded unless asked
    for. Returns the tfds folder."""
    tfds_dir = tmp_path / "tfds"
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds_dir))
    monkeypatch.delenv("RECTIFIER_ZOO_DOWNLOAD", raising=False)
    return tfds_dir


@pytest.fixture
def mixed_float16():
    """Keras's global dtype policy set to mixed_float16 for one test, float32 again after it."""
    import keras

    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.fixture
def zoo_log(caplog):
    """``lines()``: the messages logged under ``rectifier_zoo`` (INFO and up) since the last call."""
    caplog.set_level(logging.INFO, logger="rectifier_zoo")

    def lines():
        found = [record.getMessage() for record in caplog.records if record.name.startswith("rectifier_zoo")]
        caplog.clear()
        return found

    return lines

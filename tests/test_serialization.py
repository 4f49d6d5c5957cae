"""Every custom object survives a .keras round trip with safe_mode=True, and plain Keras loads
zoo files once ``rectifier_zoo`` is imported (before or after Keras)."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from rectifier_zoo.nn.layers import SignFlip, TiedDenseAutoencoder
from rectifier_zoo.nn.models import build_classifier
from rectifier_zoo.nn.regularizers import ActivityL1
from toydata import blobs


def round_trip(model, path, x):
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    return loaded


def test_classifier_with_l1_and_sign_flip(tmp_path):
    x, y = blobs(64)
    model = build_classifier(20, 3, hidden=(8, 8), l1=0.003, flip_half=True, seed=0, name="mnist_rect_l1")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    loaded = round_trip(model, tmp_path / "m.keras", x)
    assert loaded.name == "mnist_rect_l1"  # the entry name travels with the model
    assert isinstance(loaded.get_layer("hidden_1_l1"), ActivityL1) and loaded.get_layer("hidden_1_l1").l1 == 0.003
    assert isinstance(loaded.get_layer("hidden_2_flip"), SignFlip)
    loaded.fit(x, y, epochs=1, verbose=0)  # and it fine-tunes


def test_autoencoder_model(tmp_path):
    x, _ = blobs(64)
    ae = TiedDenseAutoencoder(6, activation="tanh", corruption="gaussian", corruption_level=0.2, l1=0.01, seed=4)
    model = keras.Sequential([keras.Input((20,)), ae])
    model.compile(optimizer="sgd")
    model.fit(x, epochs=1, verbose=0)
    loaded = round_trip(model, tmp_path / "ae.keras", x)
    assert loaded.layers[-1].get_config() == ae.get_config()
    assert len(loaded.layers[-1].trainable_weights) == 3


LOAD_AFTER_IMPORT = """
import sys
{imports}
import keras
for path in sys.argv[1:]:
    model = keras.saving.load_model(path, safe_mode=True)
    print(model.name, type(model.get_layer("hidden_1_l1")).__name__ if "l1" in model.name else "-")
"""


def run_python(code, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def zoo_files(tmp_path):
    """A .keras file with every custom object of the zoo, and the shipped zoo's own files."""
    from rectifier_zoo.nn.layers import ScaledSoftplus

    x, _ = blobs(8)
    model = build_classifier(20, 3, hidden=(4, 4), l1=0.01, flip_half=True, seed=0, name="mnist_rect_l1")
    soft = build_classifier(20, 3, hidden=(4,), neuron="softplus", softplus_alpha=2.0, seed=0, name="mnist_softplus")
    ae = keras.Sequential([keras.Input((20,)), TiedDenseAutoencoder(4, seed=0)], name="dae")
    for m in (model, soft, ae):
        m(x)
        m.save(tmp_path / f"{m.name}.keras")
    assert isinstance(soft.get_layer("hidden_1").activation, ScaledSoftplus)
    shipped = sorted(pathlib.Path(__file__).resolve().parents[1].glob("exports/*/*/*.keras"))
    assert shipped, "the repository ships .keras files in exports/"
    return [tmp_path / "mnist_rect_l1.keras", tmp_path / "mnist_softplus.keras", tmp_path / "dae.keras", *shipped]


@pytest.mark.parametrize("imports", ["import rectifier_zoo", "import keras, rectifier_zoo"])
def test_plain_keras_loads_zoo_files_after_import_rectifier_zoo(tmp_path, imports):
    files = zoo_files(tmp_path)
    done = run_python(LOAD_AFTER_IMPORT.format(imports=imports), *files)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[:3] == ["mnist_rect_l1 ActivityL1", "mnist_softplus -", "dae -"]
    assert len(lines) == len(files) and all(line.split()[0] == path.stem for line, path in zip(lines, files))


def test_without_import_rectifier_zoo_keras_cannot_find_the_classes(tmp_path):
    done = run_python(LOAD_AFTER_IMPORT.format(imports=""), zoo_files(tmp_path)[0])
    assert done.returncode != 0 and "Could not locate class 'ActivityL1'" in done.stderr


def test_import_rectifier_zoo_does_not_import_keras():
    done = run_python("import sys, rectifier_zoo; print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    assert done.returncode == 0 and done.stdout.strip() == "[]"


@pytest.mark.parametrize("first", ["rectifier_zoo.nn.regularizers", "rectifier_zoo.nn.layers"])
def test_importing_a_layer_module_first_registers_every_custom_object(first):
    # Keras is first imported from inside that module's own import: registration must not trip on it.
    code = (
        f"import importlib; importlib.import_module({first!r}); import keras; "
        "names = ('ActivityL1', 'TiedDenseAutoencoder', 'SignFlip', 'ScaledSoftplus'); "
        "print([keras.saving.get_registered_object('rectifier_zoo>' + n) is not None for n in names])"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[True, True, True, True]"

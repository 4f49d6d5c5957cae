"""The zoo shipped in this repository's ``exports/``: whole, untampered, small, and what its cards say."""

import json

import numpy as np
import pytest

import rectifier_zoo as rz
from realdata import FASHION_MNIST, IDX_FILES, MNIST, keras_test_split, require
from rectifier_zoo.hub import integrity, model_card, store
from rectifier_zoo.hub import locate as hub
from rectifier_zoo.reproduction import shipping

EXPORTS = hub.EXPORTS_DIR
# What the MNIST issue ships: the paper's main dataset, loadable offline from a clone.
MNIST_ENTRIES = ("mnist_rect_l1", "mnist_rect", "mnist_tanh", "mnist_softplus", "mnist_tanh_dae", "mnist_rect_l1_dae")
# One float32 copy of the weights (4 bytes a parameter: 11.2 MB for a 784-input net, 20.3 MB
# for CIFAR-10's 3072), plus the card, its README and the .keras file's own few kB.
def one_copy_mb(card) -> float:
    return card["architecture"]["parameters"] * 4 / 1e6 + 0.5


def shipped():
    return json.loads((EXPORTS / store.MANIFEST).read_text())["models"]


def latest_card(name):
    return model_card.read(EXPORTS / name / str(shipped()[name]["latest"]))


def test_the_manifest_lists_whole_versions_whose_files_match_their_sha256():
    models = shipped()
    assert {"fashion_mnist_rect_l1", *MNIST_ENTRIES} <= set(models)
    for name, entry in models.items():
        version_dir = EXPORTS / name / str(entry["latest"])
        assert store.versions(EXPORTS / name) == [entry["latest"]]  # one version of each entry
        card = model_card.read(version_dir)
        integrity.check_tree(version_dir, card["files"])  # raises, naming the file, on any change
        assert entry["versions"][str(entry["latest"])]["test_error"] == card["metrics"]["test_error"]
        assert card["hyperparameters"]["quick"] is False  # full runs only


def test_each_entry_holds_one_copy_of_its_weights():
    for name in shipped():
        folder = EXPORTS / name
        assert not list(folder.rglob("saved_model.pb")) and not list(folder.rglob("variables"))
        assert shipping.folder_mb(folder) <= one_copy_mb(latest_card(name)), name
    assert shipping.folder_mb(EXPORTS) <= shipping.DEFAULT_BUDGET_MB


def recomputed_error(name, x, y, zoo_log):
    """The test error of ``rz.load(name)`` on ``x, y``: from exports/, as the cache (``zoo_home``) is empty."""
    model = rz.load(name)
    assert any(line.startswith(f"loaded {name} version") for line in zoo_log())
    return float(np.mean(np.argmax(model.predict(x, batch_size=1000, verbose=0), axis=1) != y))


def keras_error(name, x, y):
    """The test error of ``rz.load(name)`` compiled and evaluated as a new user would, on Keras's own arrays."""
    model = rz.load(name, verbose=False)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(x, y, batch_size=1000, verbose=0)
    assert model.predict(x[:1], verbose=0).shape == (1, 10)
    return 1.0 - accuracy


@pytest.mark.usefixtures("zoo_home")
def test_the_shipped_fashion_model_loads_by_name_and_scores_what_its_card_says(zoo_log):
    from rectifier_zoo import datasets

    require(FASHION_MNIST, IDX_FILES)
    x, y = datasets.load("fashion_mnist", cache=False).test
    error = recomputed_error("fashion_mnist_rect_l1", x, y, zoo_log)
    assert error == pytest.approx(latest_card("fashion_mnist_rect_l1")["metrics"]["test_error"], abs=1e-4)
    assert error <= 0.12  # a trained model, far from chance (90%)


@pytest.mark.parametrize("name", sorted(n for n in shipped() if n.startswith("mnist_")))
@pytest.mark.usefixtures("zoo_home")
def test_each_shipped_mnist_model_scores_what_its_card_says_on_the_real_test_split(name, zoo_log):
    from rectifier_zoo import datasets

    x, y = datasets.load("mnist", data_dir=require(MNIST, IDX_FILES), cache=False).test
    error = recomputed_error(name, x, y, zoo_log)
    assert error == pytest.approx(latest_card(name)["metrics"]["test_error"], abs=1e-4)
    assert error <= 0.03  # a trained model, far from chance (90%)


@pytest.mark.parametrize("name", sorted(n for n in shipped() if n.startswith(("mnist_", "fashion_mnist_"))))
@pytest.mark.usefixtures("zoo_home")
def test_each_shipped_entry_scores_its_card_exactly_on_keras_own_uint8_images(name):
    """``model.evaluate(x_test, y_test)`` on uint8 (10000, 28, 28), as keras.datasets gives them (issue #26)."""
    x, y = keras_test_split(FASHION_MNIST if name.startswith("fashion_") else MNIST)
    assert x.dtype == np.uint8 and x.shape == (10000, 28, 28)
    card_error = latest_card(name)["metrics"]["test_error"]
    assert keras_error(name, x, y) == pytest.approx(card_error, abs=5e-5)  # the same images wrong, to the one
    assert keras_error(name, x[..., None], y) == pytest.approx(card_error, abs=5e-5)  # (n, 28, 28, 1) too


@pytest.mark.parametrize("name", sorted(n for n in shipped() if n.startswith("shapeset_")))
@pytest.mark.usefixtures("zoo_home")
def test_each_shipped_shapeset_model_scores_what_its_card_says_on_its_regenerated_test_split(name, zoo_log):
    from rectifier_zoo.datasets import shapeset

    hp = latest_card(name)["hyperparameters"]
    assert hp["shapeset_generator"] == shapeset.GENERATOR  # trained on today's generator, not an earlier one
    # The run's seed drew its data; each split has its own stream, so the test split alone is drawn the same.
    x, y = shapeset.load(seed=hp["seed"], n_train=0, n_valid=0).test
    error = recomputed_error(name, x, y, zoo_log)
    assert error == pytest.approx(latest_card(name)["metrics"]["test_error"], abs=1e-4)
    assert error <= 0.55  # better than chance (2/3), if far from the paper's


@pytest.mark.usefixtures("zoo_home")
def test_the_shipped_mnist_model_is_one_command_from_tf_serving(tmp_path):
    """`rectifier-zoo export mnist_rect_l1 --export-dir serving ...` as the README says, then saved_model_cli."""
    import os
    import subprocess

    from rectifier_zoo import datasets
    from rectifier_zoo.cli import main

    serving_dir = tmp_path / "serving"
    argv = ["export", "mnist_rect_l1", "--export-dir", str(serving_dir), "--serving-config", "--base-path", "/models"]
    assert main(argv) == 0
    version = serving_dir / "mnist_rect_l1" / "1"
    assert store.is_servable(version)
    assert model_card.read(version)["metrics"] == latest_card("mnist_rect_l1")["metrics"]  # the same card's facts
    x = datasets.load("mnist", data_dir=require(MNIST, IDX_FILES), cache=False).test[0][:8]
    np.save(tmp_path / "x.npy", x)
    subprocess.run(
        ["saved_model_cli", "run", "--dir", str(version), "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"features={tmp_path / 'x.npy'}", "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    expected = rz.load("mnist_rect_l1", verbose=False).predict(x, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "probabilities.npy"), expected, rtol=1e-5, atol=1e-6)
    assert list(np.load(tmp_path / "out" / "class.npy")) == list(expected.argmax(axis=1))

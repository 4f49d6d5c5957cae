"""The shipped CIFAR-10 entries score what their cards say, recomputed from the JPEG copy's zip (CI has it)."""

import json
import pathlib

import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.datasets import cifar10_jpeg
from rectifier_zoo.hub import model_card, store
from realdata import CIFAR10_JPEG, require

EXPORTS = pathlib.Path(__file__).resolve().parents[1] / "exports"
SHIPPED = json.loads((EXPORTS / store.MANIFEST).read_text())["models"]
CIFAR10 = sorted(n for n in SHIPPED if n.startswith("cifar10_"))


def card(name):
    return model_card.read(EXPORTS / name / str(SHIPPED[name]["latest"]))


@pytest.fixture(scope="module")
def test_split(tmp_path_factory):
    """The copy's test split as uint8 images (5000, 32, 32, 3), decoded once into a module zoo home."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECTIFIER_ZOO_HOME", str(home))
        x, y = rz.datasets.load("cifar10", data_dir=require(CIFAR10_JPEG, [cifar10_jpeg.FILE])).test
        yield np.rint(x * 255).astype(np.uint8).reshape(-1, 32, 32, 3), y


def test_the_cifar10_entries_are_shipped():
    assert {"cifar10_rect_l1", "cifar10_rect", "cifar10_tanh", "cifar10_softplus"} <= set(CIFAR10)


@pytest.mark.parametrize("name", CIFAR10)
def test_each_shipped_cifar10_entry_scores_its_card_on_the_copys_test_images(name, test_split, zoo_home):
    x, y = test_split
    found = card(name)
    assert found["data"] == {"source": "CIFAR-10 (JPEG q75 copy)",
                             "fingerprint": "cifar10-jpeg.zip md5 6cf65a711875d1f74bbe6ac6f6f966e3"}
    model = rz.load(name, verbose=False)
    predicted = np.argmax(model.predict(x, batch_size=1000, verbose=0), axis=1)  # uint8 images, as tfds gives them
    error = float(np.mean(predicted != y))
    assert error == pytest.approx(found["metrics"]["test_error"], abs=1e-4)  # 1e-4: half an image of 5,000
    assert error < 0.6  # a trained model, far from chance (90%)
    flat = model.predict(x.reshape(len(x), -1).astype(np.float32) / 255, batch_size=1000, verbose=0)
    np.testing.assert_array_equal(np.argmax(flat, axis=1), predicted)  # flat [0, 1] features: the same answers

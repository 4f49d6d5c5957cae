"""Every custom object survives a .keras round trip with safe_mode=True."""

import keras
import numpy as np

from rectifier_zoo.layers import SignFlip, TiedDenseAutoencoder
from rectifier_zoo.models import build_classifier
from rectifier_zoo.regularizers import ActivityL1
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

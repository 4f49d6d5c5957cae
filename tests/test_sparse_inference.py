"""Tests of rectifier_zoo.sparse_inference: same probabilities as Keras, honest MAC counts."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.models import build_classifier, hidden_layers
from rectifier_zoo.sparse_inference import (
    SparseInferenceModel,
    count_macs,
    flip_signs,
    sparsify,
)

INPUT_DIM, HIDDEN, CLASSES = 20, (16, 16), 3


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECTIFIER_ZOO_HOME", str(tmp_path / "home"))


def sparse_model(flip_half, l1=0.0):
    """A tiny classifier whose hidden layers have known zeros.

    Three units in four get a bias of -100, so they are off on every input; units
    1, 5, 9 and 13 keep a positive bias and are on for most inputs (25% active).
    """
    model = build_classifier(INPUT_DIM, CLASSES, hidden=HIDDEN, l1=l1, flip_half=flip_half, seed=3)
    for dense in hidden_layers(model):
        bias = np.full(dense.units, -100.0, np.float32)
        bias[1::4] = 0.5
        dense.bias.assign(bias)
    return model


def data(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, INPUT_DIM)).astype(np.float32)


@pytest.mark.parametrize("max_active", [0.25, 1.0])
@pytest.mark.parametrize("flip_half", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7])
def test_predictions_match_keras(flip_half, batch_size, max_active):
    model = sparse_model(flip_half)
    x = data(15)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    fast = sparsify(model, max_active=max_active)
    # the gathered product is really taken for the hidden layers
    assert fast.mac_report(x, batch_size=batch_size)["gathered_ratio"] > 1.0
    got = fast.predict(x, batch_size=batch_size)
    assert got.shape == (15, CLASSES)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast.predict(x, batch_size=batch_size, sparse=False), expected, rtol=1e-5, atol=1e-6)


def test_inactive_units_are_skipped():
    model = sparse_model(flip_half=True)
    fast = sparsify(model)
    x = data(5)
    counts = fast.active_counts(x)
    # input: all 20 features; hidden layers: at most the 4 live units of 16.
    assert counts.shape == (5, 3)
    assert (counts[:, 0] == INPUT_DIM).all()
    assert (counts[:, 1:] <= 4).all()
    report = fast.mac_report(x, batch_size=1)
    assert report["dense_per_example"] == 20 * 16 + 16 * 16 + 16 * 3
    needed = np.mean([20 * 16 + c1 * 16 + c2 * 3 for _, c1, c2 in counts])
    assert report["needed_per_example"] == pytest.approx(needed)
    assert report["ideal_ratio"] == pytest.approx(report["dense_per_example"] / needed)
    # at batch 1 the active set of each example is its own: gathered == needed
    assert report["gathered_per_example"] == pytest.approx(needed)


def test_sign_flip_is_folded_into_next_kernel():
    model = sparse_model(flip_half=True)
    fast = sparsify(model)
    dense2 = hidden_layers(model)[1]
    kernel = keras.ops.convert_to_numpy(dense2.kernel)
    signs = flip_signs(16)
    assert signs.tolist() == [1.0] * 8 + [-1.0] * 8
    np.testing.assert_array_equal(fast.layers[1].kernel, kernel * signs[:, None])
    # the first kernel reads the raw input: no flip before it
    np.testing.assert_array_equal(fast.layers[0].kernel, keras.ops.convert_to_numpy(hidden_layers(model)[0].kernel))


def test_odd_width_flip_signs():
    assert flip_signs(5).tolist() == [1.0, 1.0, 1.0, -1.0, -1.0]


def test_l1_layers_are_ignored_at_inference():
    model = sparse_model(flip_half=False, l1=0.01)
    x = data(4, seed=1)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(sparsify(model).predict(x, batch_size=1), expected, rtol=1e-5, atol=1e-6)


def test_count_macs_hand_worked():
    # 784 -> 1000 -> 10 dense: 784*1000 + 1000*10 = 794,000
    assert count_macs([(784, 1000), (1000, 10)]) == 794_000
    # 100 active pixels, 50 active hidden units: 100*1000 + 50*10 = 100,500
    assert count_macs([(784, 1000), (1000, 10)], [100, 50]) == 100_500
    assert count_macs([(4, 3), (3, 2)], [4, 1]) == 14


def test_count_macs_rejects_bad_counts():
    with pytest.raises(ConfigError, match="one per layer"):
        count_macs([(4, 3), (3, 2)], [4])
    with pytest.raises(ConfigError, match="active inputs must lie in"):
        count_macs([(4, 3)], [5])


def test_dense_fallback_when_most_units_active():
    model = build_classifier(INPUT_DIM, CLASSES, hidden=HIDDEN, seed=1)
    for dense in hidden_layers(model):
        dense.bias.assign(np.full(dense.units, 100.0, np.float32))  # every unit on
    fast = sparsify(model, max_active=0.5)
    x = data(6)
    report = fast.mac_report(x, batch_size=3)
    assert report["gathered_ratio"] == pytest.approx(1.0)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(fast.predict(x, batch_size=3), expected, rtol=1e-5, atol=1e-5)


def test_bad_input_shape_names_the_fix():
    fast = sparsify(sparse_model(False))
    with pytest.raises(ConfigError, match=r"x must have shape \(n, 20\)"):
        fast.predict(np.zeros((2, 19), np.float32))
    with pytest.raises(ConfigError, match="batch_size"):
        fast.predict(data(2), batch_size=0)


def test_non_zoo_model_is_refused():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    with pytest.raises(ConfigError, match="not a zoo classifier"):
        sparsify(model)


def test_empty_model_refused():
    with pytest.raises(ConfigError, match="at least one layer"):
        SparseInferenceModel([])

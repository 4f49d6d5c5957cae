"""Tests of rectifier_zoo.sparse.inference: same probabilities as Keras, honest MAC counts.

Both engines (the numba kernel and the NumPy fallback) are checked against the
Keras model, on tiny nets and on the shipped MNIST model with the real MNIST test
images. Speed is the benchmark's business (benchmarks/sparse_inference.py), never
a test's.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.sparse import inference as sparse_inference, kernels as sparse_kernels
from rectifier_zoo.errors import ArtifactError, ConfigError
from rectifier_zoo.nn.models import build_classifier, hidden_layers
from realdata import IDX_FILES, MNIST, require
from rectifier_zoo.sparse.inference import (
    SparseInferenceModel,
    count_macs,
    flip_signs,
    sparsify,
)

INPUT_DIM, HIDDEN, CLASSES = 20, (16, 16), 3
HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed (pip install numba)")
ENGINES = [pytest.param("numba", marks=needs_numba), "numpy"]
pytestmark = pytest.mark.usefixtures("zoo_home")


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


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("max_active", [0.25, 1.0])
@pytest.mark.parametrize("flip_half", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7])
def test_predictions_match_keras(flip_half, batch_size, max_active, engine):
    model = sparse_model(flip_half)
    x = data(15)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    fast = sparsify(model, max_active=max_active, engine=engine)
    assert fast.engine == engine
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


@pytest.mark.parametrize("engine", ENGINES)
def test_dense_fallback_when_most_units_active(engine):
    model = build_classifier(INPUT_DIM, CLASSES, hidden=HIDDEN, seed=1)
    for dense in hidden_layers(model):
        dense.bias.assign(np.full(dense.units, 100.0, np.float32))  # every unit on
    fast = sparsify(model, max_active=0.5, engine=engine)
    x = data(6)
    report = fast.mac_report(x, batch_size=3)
    # NumPy: every layer above max_active goes dense; numba skips each example's own
    # zeros, whatever their number (here a rare unit of hidden_2 is off): the ideal.
    assert report["gathered_ratio"] == pytest.approx(1.0 if engine == "numpy" else report["ideal_ratio"])
    assert report["ideal_ratio"] < 1.01
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


# ------------------------------------------------------------ compiled kernel


@needs_numba
@pytest.mark.parametrize("neuron", ["tanh", "softplus", "sigmoid"])
def test_compiled_kernel_other_neurons_match_keras(neuron):
    model = build_classifier(INPUT_DIM, CLASSES, hidden=HIDDEN, neuron=neuron, flip_half=True, seed=2)
    x = data(9, seed=4)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    got = sparsify(model, engine="numba").predict(x, batch_size=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@needs_numba
def test_compiled_kernel_never_reads_rows_of_zero_inputs():
    """Rows of inputs that are zero are poisoned with NaN: the output stays finite and right."""
    model = sparse_model(flip_half=True)
    x = data(6, seed=2)
    x[:, ::3] = 0.0  # inputs 0, 3, 6, ... are zero on every example
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    fast = sparsify(model, engine="numba")
    dead = np.ones(HIDDEN[0], bool)
    dead[1::4] = False  # the units sparse_model leaves alive
    fast.layers[0].kernel[::3] = np.nan  # views of the kernel's buffer: the kernel sees this
    for layer in fast.layers[1:]:
        layer.kernel[dead] = np.nan
    got = fast.predict(x, batch_size=1)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@needs_numba
def test_an_example_does_not_depend_on_its_batch():
    fast = sparsify(sparse_model(flip_half=False), engine="numba")
    x = data(11, seed=5)
    one_by_one = np.concatenate([fast.forward(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_array_equal(fast.forward(x), one_by_one)
    np.testing.assert_array_equal(fast.predict(x, batch_size=4), one_by_one)


@pytest.mark.parametrize("engine", ENGINES)
def test_batches_from_dense_from_batch_take_the_dense_product(engine):
    model = sparse_model(flip_half=True)
    x = data(12, seed=6)
    fast = sparsify(model, dense_from_batch=4, engine=engine)
    assert fast.mac_report(x, batch_size=4)["gathered_ratio"] == pytest.approx(1.0)
    assert fast.mac_report(x, batch_size=3)["gathered_ratio"] > 1.0
    dense = fast.predict(x, batch_size=4, sparse=False)
    np.testing.assert_array_equal(fast.predict(x, batch_size=4), dense)  # the very same product
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(fast.predict(x, batch_size=3), expected, rtol=1e-5, atol=1e-6)
    never = sparsify(model, dense_from_batch=math.inf, engine=engine)
    assert never.mac_report(x, batch_size=12)["gathered_ratio"] > 1.0


def test_bad_engine_and_dense_from_batch_name_the_fix():
    model = sparse_model(flip_half=False)
    with pytest.raises(ConfigError, match="unknown engine 'numbaa'; did you mean 'numba'"):
        sparsify(model, engine="numbaa")
    with pytest.raises(ConfigError, match="dense_from_batch must be an integer"):
        sparsify(model, dense_from_batch=2.5)


def test_layers_of_different_networks_are_refused():
    fast = sparsify(sparse_model(flip_half=False))
    wrong = dataclasses.replace(fast.layers[1], kernel=np.zeros((5, 16), np.float32))
    with pytest.raises(ConfigError, match="takes 5 inputs but 'hidden_1' gives 16"):
        SparseInferenceModel([fast.layers[0], wrong, fast.layers[2]])


# ------------------------------------------------------- without numba


@pytest.fixture
def no_numba(monkeypatch):
    """numba made unimportable (``import numba`` raises ImportError), the kernel not yet built."""
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setattr(sparse_kernels, "_kernel", None)
    monkeypatch.setattr(sparse_inference, "_warned", False)


def numba_warnings(caught):
    return [w for w in caught if "numba" in str(w.message)]


def test_without_numba_falls_back_to_numpy_with_one_clear_warning(no_numba):
    model = sparse_model(flip_half=True)
    x = data(8, seed=7)
    with pytest.warns(RuntimeWarning, match=r"pip install numba \(or pip install 'rectifier-zoo\[sparse\]'\)"):
        fast = sparsify(model)
    assert fast.engine == "numpy"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = sparsify(model)
    assert again.engine == "numpy"
    assert not numba_warnings(caught)  # once per process, not once per model
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    for batch_size in (1, 3):
        np.testing.assert_allclose(fast.predict(x, batch_size=batch_size), expected, rtol=1e-5, atol=1e-6)


def test_without_numba_engine_numba_names_the_install(no_numba):
    with pytest.raises(ConfigError, match=r"engine='numba' needs numba.*pip install numba"):
        sparsify(sparse_model(flip_half=False), engine="numba")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert sparsify(sparse_model(flip_half=False), engine="numpy").engine == "numpy"
    assert not numba_warnings(caught)  # asking for NumPy outright is not warned about


# --------------------------------------- the shipped model, real MNIST images


def shipped_model():
    """The shipped mnist_rect_l1, or fashion_mnist_rect_l1 (same net) until it is shipped."""
    for name in ("mnist_rect_l1", "fashion_mnist_rect_l1"):
        try:
            return rz.load(name, verbose=False)
        except ArtifactError:
            continue
    pytest.skip("neither mnist_rect_l1 nor fashion_mnist_rect_l1 is in exports/")


@pytest.fixture(scope="module")
def mnist_test():
    return rz.datasets.load("mnist", data_dir=require(MNIST, IDX_FILES), cache=False).test


@pytest.mark.parametrize("engine", ENGINES)
def test_shipped_model_on_real_mnist_matches_keras(mnist_test, engine):
    model = shipped_model()
    x = mnist_test[0] if engine == "numba" else mnist_test[0][:100]  # the fallback: a part (slower)
    expected = np.concatenate(
        [keras.ops.convert_to_numpy(model(x[i : i + 1000], training=False)) for i in range(0, len(x), 1000)]
    )
    fast = sparsify(model, engine=engine)
    # the sparse path on all of x, the dense one (plain BLAS, tested above) on a part
    for batch_size, n in ((1, len(x)), (fast.dense_from_batch, min(len(x), 1000))):
        got = fast.predict(x[:n], batch_size=batch_size)
        np.testing.assert_array_equal(got.argmax(axis=1), expected[:n].argmax(axis=1))
        np.testing.assert_allclose(got, expected[:n], rtol=0, atol=1e-5)
    # it really skips: the pixels (about 81% zero) and the hidden zeros of the L1 net
    report = fast.mac_report(x[:100], batch_size=1)
    assert report["ideal_ratio"] > 2.0
    if engine == "numba":
        assert report["gathered_ratio"] == pytest.approx(report["ideal_ratio"])


def test_load_with_sparse_inference_matches_keras(mnist_test):
    model = shipped_model()
    fast = rz.load(model.name, sparse_inference=True, verbose=False)
    assert fast.engine == ("numba" if HAVE_NUMBA else "numpy")
    assert fast.dense_from_batch == sparse_inference.DENSE_FROM_BATCH
    x = mnist_test[0][:50]
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(fast.predict(x, batch_size=1), expected, rtol=0, atol=1e-5)

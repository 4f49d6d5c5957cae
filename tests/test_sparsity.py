import keras
import numpy as np
import pytest

from rectifier_zoo.nn.callbacks import SparsityCallback
from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.models import build_classifier
from rectifier_zoo.nn.sparsity import code_stats, sparsity

# hidden_1 = relu(x W + b) with W picking inputs 0..2 and b = [0, -10, -0.5]:
#   x1 = [1, 1, 1, 0] -> [1, -9, 0.5]  -> [1, 0, 0.5]
#   x2 = [0, 1, 0, 0] -> [0, -9, -0.5] -> [0, 0, 0]
# zeros: 4 of 6; dead units: unit 1 only (1 of 3); mean: 1.5 / 6 = 0.25
X = np.array([[1, 1, 1, 0], [0, 1, 0, 0]], "float32")


def known_model(flip_half=False):
    model = build_classifier(4, 2, hidden=(3,), flip_half=flip_half)
    dense = model.get_layer("hidden_1")
    dense.kernel.assign(np.eye(4, 3, dtype="float32"))
    dense.bias.assign(np.array([0, -10, -0.5], "float32"))
    return model


EXPECTED = {"hidden_1": {"zeros": pytest.approx(4 / 6), "dead": pytest.approx(1 / 3), "mean": pytest.approx(0.25)}}


def test_code_stats_by_hand():
    h = np.array([[0.0, 2.0], [0.0, 0.0], [1.0, 0.0]])
    assert code_stats(h) == {"zeros": pytest.approx(4 / 6), "dead": 0.0, "mean": pytest.approx(0.5)}


@pytest.mark.parametrize("flip_half", [False, True])
def test_sparsity_of_a_model_whose_zeros_are_known(flip_half):
    # the sign flip comes after the measured layer and cannot change zeros
    assert sparsity(known_model(flip_half), X) == EXPECTED


def test_sparsity_refuses_the_wrong_width():
    with pytest.raises(ConfigError, match=r"x must have shape \(n, 4\)"):
        sparsity(known_model(), np.zeros((2, 5), "float32"))


def test_callback_writes_stable_names_into_the_epoch_logs():
    callback = SparsityCallback(X, sample_size=10)
    callback.set_model(known_model())
    logs = {}
    callback.on_epoch_end(0, logs)
    assert logs == {
        "hidden_1_zeros": pytest.approx(4 / 6),
        "hidden_1_dead": pytest.approx(1 / 3),
        "hidden_1_mean": pytest.approx(0.25),
        "sparsity": pytest.approx(4 / 6),
    }


def test_callback_values_reach_history_each_epoch():
    model = known_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    y = np.array([0, 1])
    history = model.fit(X, y, epochs=2, verbose=0, callbacks=[SparsityCallback(X)])
    # learning rate 0: the weights, hence the zeros, stay as set
    assert history.history["hidden_1_zeros"] == [pytest.approx(4 / 6)] * 2
    assert history.history["hidden_1_dead"] == [pytest.approx(1 / 3)] * 2


def test_callback_uses_a_fixed_sample():
    x = np.random.default_rng(0).uniform(size=(500, 4)).astype("float32")
    a, b = SparsityCallback(x, sample_size=50, seed=3), SparsityCallback(x, sample_size=50, seed=3)
    assert a.x.shape == (50, 4)
    np.testing.assert_array_equal(a.x, b.x)


def test_callback_refuses_bad_data():
    with pytest.raises(ConfigError, match="shape"):
        SparsityCallback(np.zeros((0, 4)))

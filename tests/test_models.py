import keras
import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.layers import SignFlip
from rectifier_zoo.models import build_classifier, hidden_layers
from rectifier_zoo.regularizers import ActivityL1


def test_mnist_shape_has_the_papers_parameter_count():
    # (784+1)*1000 + 2*(1000+1)*1000 + (1000+1)*10
    assert build_classifier(784, 10).count_params() == 2_797_010


def test_layer_names_are_the_contract():
    model = build_classifier(20, 3, hidden=(8, 6, 4), l1=0.01, flip_half=True)
    names = [layer.name for layer in model.layers]
    assert names == [
        "features",
        "hidden_1", "hidden_1_l1", "hidden_1_flip",
        "hidden_2", "hidden_2_l1", "hidden_2_flip",
        "hidden_3", "hidden_3_l1", "hidden_3_flip",
        "probabilities",
    ]
    assert [layer.units for layer in hidden_layers(model)] == [8, 6, 4]
    assert isinstance(model.get_layer("hidden_2_l1"), ActivityL1)
    assert isinstance(model.get_layer("hidden_2_flip"), SignFlip)


def test_l1_and_flip_add_no_parameters():
    plain = build_classifier(784, 10).count_params()
    assert build_classifier(784, 10, l1=0.001, flip_half=True).count_params() == plain


@pytest.mark.parametrize("neuron, activation", [("rect", "relu"), ("softplus", "softplus"), ("tanh", "tanh"), ("sigmoid", "sigmoid"), ("relu", "relu")])
def test_neurons(neuron, activation):
    model = build_classifier(5, 2, hidden=(3,), neuron=neuron)
    assert model.get_layer("hidden_1").activation.__name__ == activation


def test_outputs_are_probabilities():
    model = build_classifier(5, 4, hidden=(7,), seed=0)
    probs = keras.ops.convert_to_numpy(model(np.random.default_rng(0).uniform(size=(6, 5)).astype("float32")))
    assert probs.shape == (6, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_same_seed_same_weights():
    a = build_classifier(5, 2, hidden=(4,), seed=7).get_weights()
    b = build_classifier(5, 2, hidden=(4,), seed=7).get_weights()
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"neuron": "maxout"}, "unknown neuron 'maxout'"),
        ({"l1": -0.001}, r"l1 must lie in \[0.0, inf\], got -0.001"),
        ({"hidden": ()}, "at least one layer"),
        ({"hidden": (10, 0)}, "hidden size must lie in"),
        ({"input_dim": 0}, "input_dim must lie in"),
        ({"num_classes": 1}, "num_classes must lie in"),
    ],
)
def test_bad_arguments_get_one_clear_error(kwargs, message):
    args = {"input_dim": 5, "num_classes": 2, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_classifier(**args)


def test_wrong_input_width_is_named_at_predict_time():
    model = build_classifier(5, 2, hidden=(3,))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 5\)|expected axis -1 of input shape to have value 5"):
        model.predict(np.zeros((2, 4), "float32"), verbose=0)

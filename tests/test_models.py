import keras
import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.layers import SignFlip
from rectifier_zoo.nn.models import build_classifier, hidden_layers
from rectifier_zoo.nn.regularizers import ActivityL1


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


# ------------------------------------------------------------ mixed precision

def entry_batch(spec, n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, spec.input_dim)).astype("float32"), rng.integers(0, spec.num_classes, n)


def test_every_entry_trains_and_predicts_under_mixed_float16(mixed_float16):
    """One real training step (Keras' own train step, eagerly) and a prediction, for each of the 40 entries."""
    import rectifier_zoo as rz

    for name in rz.list_models():
        spec = rz.get_spec(name)
        model = rz.build_model(name, hidden=(8, 8), seed=0)
        x, y = entry_batch(spec)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True)
        loss = model.train_on_batch(x, y)
        assert np.isfinite(loss), name
        probs = model(x)
        assert model.get_layer("hidden_1").compute_dtype == "float16", name
        assert keras.backend.standardize_dtype(probs.dtype) == "float32", name
        np.testing.assert_allclose(keras.ops.convert_to_numpy(probs).sum(axis=1), 1.0, atol=1e-6, err_msg=name)
        if spec.l1:
            assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in model.losses), name


def test_fit_with_pretraining_runs_under_mixed_float16(mixed_float16):
    """rz.fit as the zoo trains (XLA on TensorFlow): pre-training with L1, then fine-tuning, in mixed precision."""
    import rectifier_zoo as rz
    from rectifier_zoo.datasets.splits import Splits
    from rectifier_zoo.training.recipes import PretrainConfig, Recipe

    spec = rz.get_spec("mnist_rect_l1_dae")
    splits = Splits("mnist", *(entry_batch(spec, 60, seed) for seed in (1, 2, 3)), 10, (28, 28), "generated")
    model = rz.build_model(spec.name, hidden=(16, 16), seed=0)
    recipe = Recipe(learning_rate=0.05, epochs=2, batch_size=20, pretrain=PretrainConfig(epochs=1, batch_size=20))
    result = rz.fit(model, splits, recipe, verbose=0)
    assert np.isfinite(result.history["loss"]).all() and len(result.pretraining) == 2
    assert all(np.isfinite(r["reconstruction_after"]) for r in result.pretraining)
    assert 0.0 <= result.test_error <= 1.0

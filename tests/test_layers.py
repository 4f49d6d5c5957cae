import keras
import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.layers import SignFlip, TiedDenseAutoencoder


def softplus(z):
    return np.log1p(np.exp(z))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def built(ae, n_in, kernel=None, hidden_bias=None, visible_bias=None):
    ae.build((None, n_in))
    if kernel is not None:
        ae.kernel.assign(np.asarray(kernel, "float32"))
    if hidden_bias is not None:
        ae.hidden_bias.assign(np.asarray(hidden_bias, "float32"))
    if visible_bias is not None:
        ae.visible_bias.assign(np.asarray(visible_bias, "float32"))
    return ae


def numpy_of(t):
    return keras.ops.convert_to_numpy(t)


def test_tied_weights_are_one_kernel_and_two_biases():
    ae = built(TiedDenseAutoencoder(3), 4)
    shapes = {w.name: tuple(w.shape) for w in ae.trainable_weights}
    assert shapes == {"kernel": (4, 3), "hidden_bias": (3,), "visible_bias": (4,)}


def test_decoder_is_the_transposed_encoder():
    rng = np.random.default_rng(0)
    w, bh, bv = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=5)
    ae = built(TiedDenseAutoencoder(3, activation="rect"), 5, w, bh, bv)
    x = rng.uniform(size=(4, 5)).astype("float32")
    h = np.maximum(x @ w + bh, 0)
    np.testing.assert_allclose(numpy_of(ae.encode(x)), h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_of(ae.decode(h.astype("float32"))), softplus(h @ w.T + bv), rtol=1e-5)


# x = [1, 0], W = [[1], [0]]: the code is h = relu(1) = 1 and the decoder's
# pre-activation is h W^T = [1, 0]. Per example losses, worked by hand:
#   softplus_mse: (1 - softplus(1))^2 + (0 - softplus(0))^2 = 0.098133 + 0.480453
#   sigmoid_xent: -log(sigmoid(1)) - log(1 - sigmoid(0))     = 0.313262 + 0.693147
#   linear_mse:   (1 - 1)^2 + (0 - 0)^2                       = 0
@pytest.mark.parametrize(
    "reconstruction, expected",
    [("softplus_mse", 0.578586), ("sigmoid_xent", 1.006409), ("linear_mse", 0.0)],
)
def test_reconstruction_losses_worked_by_hand(reconstruction, expected):
    ae = built(TiedDenseAutoencoder(1, reconstruction=reconstruction), 2, [[1.0], [0.0]])
    x = np.array([[1.0, 0.0]], "float32")
    loss = ae.reconstruction_loss(x, ae.encode(x))
    assert float(numpy_of(loss)) == pytest.approx(expected, abs=1e-5)
    # averaged over the batch: two copies give the same value
    x2 = np.repeat(x, 2, axis=0)
    assert float(numpy_of(ae.reconstruction_loss(x2, ae.encode(x2)))) == pytest.approx(expected, abs=1e-5)


def tanh_aes(n_in=8, units=4, seed=0):
    """Two tanh auto-encoders with the same large random weights, for [-1, 1] and [0, 1] inputs."""
    rng = np.random.default_rng(seed)
    w, bh, bv = 3 * rng.normal(size=(n_in, units)), rng.normal(size=units), 3 * rng.normal(size=n_in)
    pair = [TiedDenseAutoencoder(units, activation="tanh", input_range=r) for r in ("symmetric", "unit")]
    return [built(ae, n_in, w, bh, bv) for ae in pair]


def test_xent_of_tanh_codes_compares_their_unit_image_and_is_never_negative():
    symmetric, unit = tanh_aes()
    codes = np.tanh(3 * np.random.default_rng(1).normal(size=(64, 8))).astype("float32")  # many near -1
    h = symmetric.encode(codes)  # the raw codes are what is encoded
    loss = float(numpy_of(symmetric.reconstruction_loss(codes, h)))
    assert 0.0 <= loss < np.inf
    mapped = float(numpy_of(unit.reconstruction_loss((codes + 1) / 2, h)))
    assert loss == pytest.approx(mapped, rel=1e-5)
    decoded = numpy_of(symmetric.decode(h))  # back in the inputs' own range
    np.testing.assert_allclose(decoded, 2 * numpy_of(unit.decode(h)) - 1, atol=1e-6)
    assert decoded.min() >= -1.0 and decoded.max() <= 1.0


def test_default_reconstruction_follows_the_paper():
    assert TiedDenseAutoencoder(2, activation="rect").reconstruction == "softplus_mse"
    assert TiedDenseAutoencoder(2, activation="softplus").reconstruction == "softplus_mse"
    assert TiedDenseAutoencoder(2, activation="tanh").reconstruction == "sigmoid_xent"


def identity_ae(n, **kwargs):
    return built(TiedDenseAutoencoder(n, activation="rect", **kwargs), n, np.eye(n), np.zeros(n), np.zeros(n))


def test_inference_neither_corrupts_nor_adds_a_loss():
    ae = identity_ae(50, corruption_level=0.5, seed=1)
    model = keras.Sequential([keras.Input((50,)), ae])
    x = np.full((20, 50), 2.0, "float32")
    np.testing.assert_array_equal(numpy_of(model(x, training=False)), x)
    assert model.losses == []


def test_masking_corruption_zeroes_inputs_with_its_probability_while_training():
    ae = identity_ae(100, corruption="masking", corruption_level=0.25, seed=3)
    model = keras.Sequential([keras.Input((100,)), ae])
    x = np.full((200, 100), 2.0, "float32")
    h = numpy_of(model(x, training=True))
    assert set(np.unique(h)) <= {0.0, 2.0}  # an input is kept whole or zeroed
    assert (h == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert len(model.losses) == 1  # the reconstruction loss, only while training


def test_gaussian_corruption_adds_noise_of_its_std():
    ae = identity_ae(100, corruption="gaussian", corruption_level=0.3, seed=3)
    x = np.full((200, 100), 5.0, "float32")  # far from 0: relu does not clip the noise
    noise = numpy_of(ae(x, training=True)) - x
    assert noise.std() == pytest.approx(0.3, rel=0.03)
    assert abs(noise.mean()) < 0.01


def test_l1_on_the_code_is_added_while_training():
    ae = identity_ae(2, corruption_level=0.0, l1=0.5, reconstruction="linear_mse")
    model = keras.Sequential([keras.Input((2,)), ae])
    model(np.array([[1.0, 3.0]], "float32"), training=True)
    losses = sorted(float(numpy_of(v)) for v in model.losses)
    assert losses == pytest.approx([0.0, 2.0])  # reconstruction exact; 0.5 * (1 + 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"corruption_level": 1.0}, r"corruption_level must lie in \[0.0, 1.0\), got 1.0"),
        ({"corruption_level": -0.1}, "corruption_level must lie in"),
        ({"activation": "relu6"}, "unknown neuron 'relu6'"),
        ({"corruption": "salt"}, "unknown corruption 'salt'"),
        ({"reconstruction": "mse"}, "unknown reconstruction 'mse'"),
        ({"l1": -1.0}, "l1 must lie in"),
        ({"units": 0}, "units must lie in"),
        ({"input_range": "wide"}, "unknown input_range 'wide'"),
        ({"activation": "tanh", "input_range": "unbounded"}, "sigmoid_xent reconstruction needs inputs in"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"units": 3, **kwargs}
    with pytest.raises(ConfigError, match=message):
        TiedDenseAutoencoder(**args)


def test_sign_flip_negates_the_last_half():
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]], "float32")
    np.testing.assert_array_equal(numpy_of(SignFlip()(x)), [[1.0, 2.0, 3.0, -4.0, -5.0]])
    flip = SignFlip()
    flip(x)
    assert flip.weights == []  # a constant mask, nothing to train or save


def test_config_round_trip():
    ae = TiedDenseAutoencoder(
        7, activation="tanh", corruption="gaussian", corruption_level=0.1, l1=0.01, seed=5, input_range="symmetric"
    )
    clone = TiedDenseAutoencoder.from_config(ae.get_config())
    assert clone.get_config() == ae.get_config() and clone.input_range == "symmetric"


def test_losses_are_float32_under_mixed_float16():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        ae = TiedDenseAutoencoder(3, activation="tanh", corruption_level=0.0, l1=0.5, seed=0)
        model = keras.Sequential([keras.Input((4,)), ae])
        code = model(np.full((2, 4), 0.5, "float32"), training=True)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert keras.backend.standardize_dtype(code.dtype) == "float16"  # the layer computes in float16
    assert [keras.backend.standardize_dtype(loss.dtype) for loss in model.losses] == ["float32", "float32"]
    assert all(np.isfinite(float(numpy_of(loss))) and float(numpy_of(loss)) > 0 for loss in model.losses)

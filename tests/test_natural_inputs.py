"""The models take their dataset's images as people have them: ``ImagePreprocessor``, ``ImageClassifier``,
``rz.load`` and the SavedModel's ``images`` signature. Generated data only; the real MNIST test
split is ``test_shipped_zoo.py``'s and ``test_serving_images.py``'s."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.errors import ConfigError
from rectifier_zoo.hub import export as exporting
from rectifier_zoo.nn import preprocessing
from rectifier_zoo.nn.models import build_classifier

pytestmark = pytest.mark.usefixtures("zoo_home")
MNIST_SHAPE, CIFAR_SHAPE = (28, 28), (32, 32, 3)


def pixels(n, shape=MNIST_SHAPE, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def features_of(x):
    """What the dataset loaders make of 8-bit pixels: float32, flat, divided by 255."""
    flat = x.reshape(len(x), -1).astype(np.float32)
    flat /= np.float32(255.0)
    return flat


def tiny(name="mnist_rect_l1", shape=MNIST_SHAPE, classes=10):
    """A small zoo-style classifier behind its dataset's preprocessor."""
    net = build_classifier(int(np.prod(shape)), classes, hidden=(16, 16), l1=0.001, seed=0, name=name)
    return preprocessing.wrap(net, preprocessing.ImagePreprocessor(shape))


def as_numpy(x):
    return keras.ops.convert_to_numpy(x)


# ---------------------------------------------------------------- the preprocessor


@pytest.mark.parametrize("shape", [MNIST_SHAPE, CIFAR_SHAPE])
def test_integer_pixels_in_every_shape_become_the_loaders_features_bit_for_bit(shape):
    layer = preprocessing.ImagePreprocessor(shape)
    x = pixels(6, shape)
    expected = features_of(x)
    forms = [x, x.reshape(6, -1), x.astype(np.int64)] + ([x[..., None]] if len(shape) == 2 else [])
    for form in forms:
        np.testing.assert_array_equal(as_numpy(layer(form)), expected)


def test_the_levels_stay_exact_under_a_compiled_graph():
    import tensorflow as tf

    layer = preprocessing.ImagePreprocessor(MNIST_SHAPE)
    x = np.arange(256, dtype=np.uint8).repeat(4)[:784].reshape(1, 28, 28).repeat(2, axis=0)
    for jit in (False, True):  # a division would come out one ulp off for some levels here
        traced = tf.function(lambda images: layer(images), jit_compile=jit)
        np.testing.assert_array_equal(traced(tf.constant(x)).numpy(), features_of(x))


def test_flat_float_features_pass_unchanged_and_signed_pixels_map_to_minus_one_one():
    flat = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(as_numpy(preprocessing.ImagePreprocessor(MNIST_SHAPE)(flat)), flat)
    signed = preprocessing.ImagePreprocessor((32, 32), value_range=(-1, 1))
    levels = as_numpy(signed(np.array([[0, 255] + [0] * 1022], np.uint8)))[0, :2]
    assert levels.tolist() == [-1.0, 1.0]


def test_the_config_round_trips():
    layer = preprocessing.ImagePreprocessor(CIFAR_SHAPE, value_range=(-1, 1), name="cifar10_images")
    again = preprocessing.ImagePreprocessor.from_config(layer.get_config())
    assert (again.image_shape, again.value_range, again.name) == (CIFAR_SHAPE, (-1.0, 1.0), "cifar10_images")


# ---------------------------------------------------------------- wrong scale, wrong shape


def test_floats_out_of_range_are_refused_naming_the_fix():
    model = tiny()
    x = pixels(4)
    with pytest.raises(ConfigError, match=r"mnist_rect_l1 takes float features in \[0, 1\], got values in \[0, 25\d\].*divide by 255"):
        model.predict(x.astype(np.float32), verbose=0)
    standardised = (x.astype(np.float32) - 33.3) / 78.6
    with pytest.raises(ConfigError, match=r"standardised pixels\? undo it"):
        model.evaluate(standardised, np.zeros(4), verbose=0)
    with pytest.raises(ConfigError, match="standardised"):
        model.fit(features_of(x), np.zeros(4), validation_data=(standardised, np.zeros(4)), verbose=0)
    with pytest.raises(ConfigError, match="standardised"):
        model(standardised)
    with pytest.raises(ConfigError, match=r"read as 8-bit pixels 0-255, got values in \[\d+, 510\]"):
        model.predict(x.astype(np.int32) * 2, verbose=0)


def test_in_traced_code_a_wrong_scale_gives_nan_for_that_example_never_an_answer():
    import tensorflow as tf

    model = tiny()
    x = features_of(pixels(4))
    good = model.predict(x, verbose=0)
    mixed = x.copy()
    mixed[1] *= 255.0  # one example's pixels as 0-255 floats
    out = model.predict(tf.data.Dataset.from_tensor_slices(mixed).batch(4), verbose=0)
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(np.delete(out, 1, axis=0), np.delete(good, 1, axis=0))


def test_wrong_shapes_name_the_shapes_taken():
    with pytest.raises(ConfigError, match=r"takes images of shape \(n, 28, 28\), \(n, 28, 28, 1\), \(n, 784\).*add the batch axis: x\[None\]"):
        tiny().predict(pixels(1)[0], verbose=0)
    cifar = tiny("cifar10_rect_l1", CIFAR_SHAPE)
    with pytest.raises(ConfigError, match=r"\(n, 32, 32, 3\), \(n, 3072\).*got shape \(2, 3, 32, 32\)"):
        cifar.predict(pixels(2, (3, 32, 32)), verbose=0)  # channels first: not the zoo's order
    assert cifar.predict(pixels(2, CIFAR_SHAPE), verbose=0).shape == (2, 10)


# ---------------------------------------------------------------- the model


def test_the_classifier_keeps_the_network_and_takes_every_form():
    model = tiny()
    net = preprocessing.classifier(model)
    assert [layer.name for layer in net.layers] == [layer.name for layer in model.layers]
    assert all(a is b for a, b in zip(net.weights, model.weights))  # the same variables: no copy
    assert model.inputs[0].shape == (None, 784) and model.get_layer("hidden_1").units == 16
    x = pixels(3)
    expected = as_numpy(net(features_of(x)))
    for form in (x, x[..., None], features_of(x)):
        np.testing.assert_array_equal(model.predict(form, verbose=0), expected)
        np.testing.assert_array_equal(as_numpy(model(form)), expected)
    assert model.predict_on_batch(x).shape == (3, 10)


def test_it_fine_tunes_on_uint8_images_and_round_trips_with_safe_mode(tmp_path):
    model = tiny()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = pixels(40), np.arange(40) % 10
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "natural.keras")
    # A fresh process that imports the zoo first, then plain Keras with safe_mode=True.
    code = (
        "import sys, numpy as np, rectifier_zoo, keras\n"
        "m = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "x = np.load(sys.argv[2])\n"
        "print(type(m).__name__, m.preprocessor.image_shape, m.name)\n"
        "np.save(sys.argv[3], m.predict(x, verbose=0))\n"
    )
    np.save(tmp_path / "x.npy", x)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "natural.keras"), str(tmp_path / "x.npy"),
                           str(tmp_path / "p.npy")], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "ImageClassifier (28, 28) mnist_rect_l1"
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0))


def test_rz_load_wraps_image_entries_only(tmp_path):
    mnist = rz.load("mnist_rect_l1", verbose=False)  # the shipped one: no data needed to load it
    assert isinstance(mnist, preprocessing.ImageClassifier) and mnist.compiled
    assert mnist.preprocessor.image_shape == MNIST_SHAPE and mnist.preprocessor.value_range == (0.0, 1.0)
    from rectifier_zoo.hub import locate as hub

    assert hub.provenance(mnist).result["test_error"] == 0.0158  # rz.export of it keeps its card's facts
    shapeset = rz.load("shapeset_rect_l1", verbose=False)
    assert shapeset.preprocessor.image_shape == (32, 32) and shapeset.predict(pixels(2, (32, 32)), verbose=0).shape == (2, 3)
    norb = build_classifier(2048, 5, hidden=(8,), seed=0, name="norb_rect")  # stereo pairs: no natural image
    folder = rz.export(norb, tmp_path / "ex", verbose=0, saved_model=False)
    assert not isinstance(rz.load(folder, verbose=False), preprocessing.ImageClassifier)


def test_every_shipped_file_still_loads_with_plain_keras_in_safe_mode_under_its_registered_names():
    from rectifier_zoo.hub import locate as hub
    from rectifier_zoo.nn import layers, regularizers

    files = sorted(hub.EXPORTS_DIR.glob("*/*/*.keras"))
    assert len(files) >= 14
    for path in files:  # the network as shipped: nothing re-exported for the new inputs
        model = keras.saving.load_model(path, safe_mode=True)
        assert not isinstance(model, preprocessing.ImageClassifier) and model.inputs[0].shape[1:] in ((784,), (1024,), (3072,))
    names = {cls: keras.saving.get_registered_name(cls) for cls in (
        layers.TiedDenseAutoencoder, layers.SignFlip, layers.ScaledSoftplus, regularizers.ActivityL1,
        preprocessing.ImagePreprocessor, preprocessing.ImageClassifier)}
    assert all(name == f"rectifier_zoo>{cls.__name__}" for cls, name in names.items())


# ---------------------------------------------------------------- the SavedModel


def signatures(folder):
    import tensorflow as tf

    return tf.saved_model.load(str(folder)).signatures


def test_export_writes_an_images_signature_beside_features(tmp_path):
    import tensorflow as tf

    model = tiny()
    folder = rz.export(model, tmp_path / "ex", verbose=0)
    assert (folder / f"{model.name}.keras").is_file()
    network = keras.saving.load_model(folder / f"{model.name}.keras", safe_mode=True)
    assert not isinstance(network, preprocessing.ImageClassifier)  # the .keras file: the network alone
    found = signatures(folder)
    assert sorted(found) == sorted([exporting.SIGNATURE, exporting.IMAGES_SIGNATURE])
    images = found[exporting.IMAGES_SIGNATURE]
    (spec,) = images.structured_input_signature[1].values()
    assert (spec.name, spec.dtype, tuple(spec.shape)) == ("images", tf.uint8, (None, 28, 28))
    x = pixels(5)
    by_images = images(images=tf.constant(x))
    by_features = found[exporting.SIGNATURE](features=tf.constant(features_of(x)))
    np.testing.assert_array_equal(by_images["probabilities"].numpy(), by_features["probabilities"].numpy())
    np.testing.assert_allclose(by_images["probabilities"].numpy(), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert by_images["class"].dtype == tf.int64


def test_the_features_signature_refuses_out_of_range_rows_with_class_minus_one(tmp_path):
    import tensorflow as tf

    folder = rz.export(tiny(), tmp_path / "ex", verbose=0)
    x = features_of(pixels(3))
    x[2] *= 255.0
    out = signatures(folder)[exporting.SIGNATURE](features=tf.constant(x))
    assert out["class"].numpy()[2] == -1 and np.isnan(out["probabilities"].numpy()[2]).all()
    assert (out["class"].numpy()[:2] >= 0).all()


def test_colour_entries_take_hwc_images_and_others_keep_features_only(tmp_path):
    import tensorflow as tf

    cifar = rz.export(tiny("cifar10_rect_l1", CIFAR_SHAPE), tmp_path / "ex", verbose=0)
    (spec,) = signatures(cifar)[exporting.IMAGES_SIGNATURE].structured_input_signature[1].values()
    assert (spec.dtype, tuple(spec.shape)) == (tf.uint8, (None, 32, 32, 3))
    norb = rz.export(build_classifier(2048, 5, hidden=(8,), seed=0, name="norb_rect"), tmp_path / "ex", verbose=0)
    assert list(signatures(norb)) == [exporting.SIGNATURE]


JAX_SCRIPT = """
import sys, json, numpy as np, tensorflow as tf, keras, rectifier_zoo as rz
from rectifier_zoo.nn import preprocessing
from rectifier_zoo.nn.models import build_classifier
net = build_classifier(784, 10, hidden=(16,), seed=0, name="mnist_rect")
model = preprocessing.wrap(net, preprocessing.ImagePreprocessor((28, 28)))
x = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
flat = x.reshape(4, -1).astype(np.float32) / np.float32(255)
folder = rz.export(model, sys.argv[1], verbose=0)
out = tf.saved_model.load(str(folder)).signatures["images"](images=tf.constant(x))
print(json.dumps({
    "backend": keras.backend.backend(),
    "same": bool(np.array_equal(model.predict(x, verbose=0), net.predict(flat, verbose=0))),
    "served": float(np.abs(out["probabilities"].numpy() - net.predict(flat, verbose=0)).max()),
}))
"""


@pytest.mark.slow  # a JAX process exporting a SavedModel
def test_on_jax_the_classifier_and_the_images_signature_work(tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(tmp_path / "ex")], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["backend"] == "jax" and report["same"] and report["served"] < 1e-5

"""Images as Keras and tensorflow-datasets give them, for the zoo's classifiers.

The networks read flat float32 features: an image's pixels row-major (HWC for colour),
in the dataset's range ([0, 1] for 8-bit pixels over 255). ``ImagePreprocessor``
takes a batch the way people have it and hands the network those features, by one
rule for the scale:

* **integers** (uint8 as ``keras.datasets`` and tensorflow-datasets give them, or any
  integer dtype) are 8-bit pixels, 0-255, mapped onto ``value_range``
  (``p / 255`` for [0, 1], the same float32 division the dataset loaders do);
* **floats** are the zoo's features already and must lie in ``value_range``; 0-255
  floats or standardised pixels are refused, never guessed at.

Shapes, after the batch axis: the image (``image_shape``, e.g. ``(28, 28)``), the
image with a channel axis of 1 for grey images (``(28, 28, 1)``), or flat
(``(784,)``). Anything else is a ConfigError naming the shapes it takes.

Where the data is at hand (NumPy arrays given to ``ImageClassifier``'s ``__call__``,
``predict``, ``evaluate``, ``fit`` and ``*_on_batch``) a wrong scale is a ConfigError
that names the fix. Inside traced code (a ``tf.data`` pipeline, a jitted function, the
SavedModel) values cannot raise: an example out of range comes out as NaN
probabilities instead of a plausible wrong answer.

``ImageClassifier`` is a zoo classifier behind a preprocessor: a functional model
over the same layers and weights (``model.layers``, ``get_layer("hidden_1")`` and
``model.inputs``, the flat ``features``, are the classifier's), whose calls take the
forms above. ``classifier(model)`` gives back the plain network, what ``.keras``
exports hold. Both classes are registered (package ``rectifier_zoo``), so a saved
``ImageClassifier`` loads with ``keras.saving.load_model(path, safe_mode=True)``.
``keras.ops`` only: every backend.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from rectifier_zoo.errors import ConfigError

PIXEL_MAX = 255.0
# Float features may stray this far outside their range (rounding of a resize or a
# float64 division), no further.
TOLERANCE = 1e-3
# The Model methods whose NumPy data is checked for its scale before Keras sees it.
CHECKED_METHODS = ("predict", "evaluate", "fit", "predict_on_batch", "test_on_batch", "train_on_batch")


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class ImagePreprocessor(keras.layers.Layer):
    """A dataset's images (integer pixels or in-range floats, natural or flat) -> flat float32 features.

    Args:
        image_shape: one image's shape as Keras gives it, e.g. ``(28, 28)`` or ``(32, 32, 3)``.
        value_range: the features' range, ``(0, 1)`` for pixels over 255; ``(-1, 1)``
            maps pixels to ``2 p / 255 - 1``.
    """

    def __init__(self, image_shape, value_range=(0.0, 1.0), **kwargs):
        kwargs.setdefault("dtype", "float32")  # the features stay float32 under mixed precision
        super().__init__(**kwargs)
        self.image_shape = tuple(_dimension(d) for d in image_shape)
        if len(value_range) != 2 or not float(value_range[0]) < float(value_range[1]):
            raise ConfigError(f"value_range must be (low, high) with low < high, e.g. (0, 1); got {value_range!r}")
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.width = math.prod(self.image_shape)
        self.built = True  # no weights

    def shapes(self) -> list:
        """The shapes (after the batch axis) it takes: the image, a grey image with a channel axis, flat."""
        found = [self.image_shape]
        if len(self.image_shape) == 2:
            found.append((*self.image_shape, 1))
        return [*found, (self.width,)]

    def describe(self) -> str:
        low, high = (f"{v:g}" for v in self.value_range)
        shapes = ", ".join(str((None, *s)).replace("None", "n") for s in self.shapes())
        return f"images of shape {shapes}: integer pixels 0-255 (uint8) or floats in [{low}, {high}]"

    def check_shape(self, shape, owner=None) -> None:
        """ConfigError unless ``shape`` (with its batch axis) is one it takes; unknown sizes pass.

        ``owner``: who the message says takes the images (default: this layer's name).
        """
        rest = tuple(shape)[1:]
        for accepted in self.shapes():
            if len(rest) == len(accepted) and all(d is None or d == a for d, a in zip(rest, accepted)):
                return
        hint = " (one image? add the batch axis: x[None])" if tuple(shape) in self.shapes() else ""
        raise ConfigError(f"{owner or self.name} takes {self.describe()}; got shape {tuple(shape)}{hint}")

    def check(self, x, owner=None) -> None:
        """The scale rule on NumPy data at hand: ConfigError naming the fix; anything else passes to ``call``."""
        if not isinstance(x, np.ndarray):
            return  # a tensor, a dataset, a generator: checked in the graph (NaN rows)
        owner = owner or self.name
        self.check_shape(x.shape, owner)
        if x.size == 0 or x.dtype == np.uint8:
            return
        low, high = self.value_range
        if np.issubdtype(x.dtype, np.integer):
            if x.min() < 0 or x.max() > PIXEL_MAX:
                raise ConfigError(
                    f"{owner}: integer input is read as 8-bit pixels 0-255, got values in [{x.min()}, {x.max()}]; "
                    "pass 8-bit images (x.astype('uint8') if they are 0-255) or floats in the features' range"
                )
        elif np.issubdtype(x.dtype, np.floating):
            seen_low, seen_high = float(np.nanmin(x)), float(np.nanmax(x))
            if seen_low < low - TOLERANCE or seen_high > high + TOLERANCE:
                raise ConfigError(_scale_message(owner, (low, high), (seen_low, seen_high)))
        else:
            raise ConfigError(f"{owner} takes {self.describe()}; got dtype {x.dtype}")

    def levels(self) -> np.ndarray:
        """The feature of each 8-bit level, float32: ``low + (high - low) * p / 255``, as the loaders compute it.

        A table, not a division in the graph: TensorFlow's graph optimiser and XLA turn ``/ 255``
        into a multiplication by its reciprocal, one ulp off for some levels.
        """
        low, high = self.value_range
        return (low + (high - low) * (np.arange(int(PIXEL_MAX) + 1) / PIXEL_MAX)).astype(np.float32)

    def call(self, inputs):
        shape = _static_shape(inputs)
        if shape is not None:  # TensorFlow may retrace with an unknown rank: the reshape still checks the width
            self.check_shape(shape)
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        flat = ops.reshape(inputs, (-1, self.width))
        low, high = self.value_range
        if "int" in dtype:
            index = ops.cast(flat, "int32")
            bad = None if dtype == "uint8" else ops.logical_or(index < 0, index > int(PIXEL_MAX))
            features = ops.take(ops.convert_to_tensor(self.levels()), ops.clip(index, 0, int(PIXEL_MAX)))
        elif "float" in dtype:
            features = ops.cast(flat, "float32")
            bad = ops.logical_or(features < low - TOLERANCE, features > high + TOLERANCE)
        else:
            raise ConfigError(f"{self.name} takes {self.describe()}; got dtype {dtype}")
        if bad is None:
            return features
        # Out of range in traced code: the whole example becomes NaN (``classify`` makes its outputs NaN).
        return ops.where(ops.any(bad, axis=-1, keepdims=True), float("nan"), features)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.width)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape), "value_range": list(self.value_range)}


def _static_shape(x):
    """``x``'s shape as a tuple (None for unknown sizes), or None when even its rank is unknown."""
    try:
        return tuple(x.shape)
    except (TypeError, ValueError):
        return None


def _dimension(d) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ConfigError(f"image_shape must hold positive integers, e.g. (28, 28); got {d!r}")
    return int(d)


def _scale_message(name, expected, seen) -> str:
    (low, high), (seen_low, seen_high) = expected, seen
    if seen_low < low - TOLERANCE:
        cause = "standardised pixels? undo it (x * std + mean, back to 0-255) and pass the uint8 images"
    else:
        cause = "0-255 pixels as floats? pass the uint8 images as they are, or divide by 255"
    return (
        f"{name} takes float features in [{low:g}, {high:g}], got values in [{seen_low:.3g}, {seen_high:.3g}] "
        f"({cause}); integer input is read as 8-bit pixels 0-255"
    )


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class ImageClassifier(keras.Model):
    """A zoo classifier behind an ``ImagePreprocessor``: the same layers and weights, natural images in.

    Built like a functional model (``ImageClassifier(inputs, outputs, preprocessor=...)``);
    ``wrap(model, preprocessor)`` puts one in front of a loaded classifier.
    """

    def __init__(self, *args, preprocessor=None, **kwargs):
        super().__init__(*args, **kwargs)  # functional: inputs, outputs, name
        if isinstance(preprocessor, dict):
            preprocessor = keras.saving.deserialize_keras_object(preprocessor)
        # None only while from_config rebuilds the graph (Keras passes no extra argument).
        if preprocessor is not None and not isinstance(preprocessor, ImagePreprocessor):
            raise ConfigError(f"ImageClassifier needs an ImagePreprocessor, got {type(preprocessor).__name__}")
        self.preprocessor = preprocessor

    @property
    def input_spec(self):
        return None  # any of the preprocessor's shapes and dtypes: it checks them

    @input_spec.setter
    def input_spec(self, value):
        pass  # the layers' own specs still check the features

    def __call__(self, *args, **kwargs):
        if args:
            self.preprocessor.check(args[0], self.name)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        def network(features):
            return super(ImageClassifier, self).call(features, training=training, mask=mask)

        return classify(network, self.preprocessor, inputs)

    def compute_output_spec(self, inputs, training=None, mask=None):
        flat = keras.KerasTensor((inputs.shape[0], self.preprocessor.width), dtype="float32")
        return super().compute_output_spec(flat, training=training, mask=mask)

    def features(self, x):
        """``x`` as the network reads it: flat float32 features (NumPy), e.g. for ``rz.sparsity``."""
        self.preprocessor.check(x, self.name)
        return ops.convert_to_numpy(self.preprocessor(x))

    def get_config(self):
        return {**super().get_config(), "preprocessor": keras.saving.serialize_keras_object(self.preprocessor)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        preprocessor = keras.saving.deserialize_keras_object(config.pop("preprocessor"), custom_objects=custom_objects)
        model = super().from_config(config, custom_objects=custom_objects)  # the graph, as Keras rebuilds it
        model.preprocessor = preprocessor
        return model


def _checking(name):
    """``ImageClassifier.<name>``: the NumPy data's shape and scale checked, then Keras's own."""

    def method(self, x=None, *args, **kwargs):
        self.preprocessor.check(x, self.name)
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            self.preprocessor.check(validation[0], self.name)
        return getattr(super(ImageClassifier, self), name)(x, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``keras.Model.{name}``, taking the dataset's images as well as its flat features."
    return method


for _name in CHECKED_METHODS:
    setattr(ImageClassifier, _name, _checking(_name))


def classify(network, preprocessor, inputs):
    """``network`` on ``inputs`` through ``preprocessor``, NaN for every example refused.

    NaN features alone would not do: a rectifier maps NaN to 0 on some backends, and the
    example would get a confident answer.
    """
    features = preprocessor(inputs)
    outputs = network(features)
    refused = ops.any(ops.isnan(features), axis=-1, keepdims=True)
    return ops.where(refused, float("nan"), outputs)


def wrap(model, preprocessor) -> ImageClassifier:
    """``model`` (a plain zoo classifier) behind ``preprocessor``: same layers, same weights, its name."""
    if preprocessor.width != int(model.inputs[0].shape[-1]):
        raise ConfigError(
            f"model {model.name!r} takes {int(model.inputs[0].shape[-1])} features, but images of shape "
            f"{preprocessor.image_shape} have {preprocessor.width}"
        )
    # model.input and .output: the network's own structure (one tensor each), not lists of one.
    return ImageClassifier(model.input, model.output, name=model.name, preprocessor=preprocessor)


def classifier(model):
    """The plain network of ``model``: itself, or an ``ImageClassifier``'s layers as a functional model."""
    if isinstance(model, ImageClassifier):
        return keras.Model(model.input, model.output, name=model.name)
    return model

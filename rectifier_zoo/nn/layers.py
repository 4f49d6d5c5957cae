"""The paper's custom layers (the tied-weight denoising auto-encoder, the sign flip) and
the scaled softplus activation of its softplus-to-rectifier sweep."""

from __future__ import annotations

import keras
from keras import ops

# The module, not its names: importing this one registers the zoo's layers with Keras
# (rectifier_zoo._internal.registration), possibly while rectifier_zoo.nn.regularizers is mid-import.
from rectifier_zoo._internal import validation
from rectifier_zoo.nn import neurons, regularizers
from rectifier_zoo.errors import ConfigError

CORRUPTIONS = ("masking", "gaussian")
RECONSTRUCTIONS = ("softplus_mse", "sigmoid_xent", "linear_mse")
# What the inputs are known to lie in: [0, 1], [-1, 1], or no bound.
INPUT_RANGES = ("unit", "symmetric", "unbounded")


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class TiedDenseAutoencoder(keras.layers.Layer):
    """A denoising auto-encoder layer whose decoder is its encoder transposed.

    Its weights are one kernel ``W`` (inputs x units), a hidden bias ``b_h`` and a
    visible bias ``b_v``. The code is ``h = act(x~ W + b_h)`` and the reconstruction
    ``r = out(h W^T + b_v)``.

    While training (``training=True``) it corrupts its input into ``x~`` and adds
    the reconstruction loss of the clean input to the model's losses, plus
    ``l1 * mean_batch(sum_units |h|)`` when ``l1 > 0``. At inference it does
    neither corruption nor reconstruction and returns the code of the clean input.
    Both losses are float32 under any dtype policy (``mixed_float16`` included).

    Corruption:
        ``"masking"``: each input set to 0 with probability ``corruption_level``
        (the AISTATS protocol, 0.25). ``"gaussian"``: add N(0, level^2) noise
        (the workshop paper's).

    Reconstruction (loss per example, summed over inputs, averaged over the batch):
        ``"softplus_mse"``: ``||x - softplus(h W^T + b_v)||^2`` (rectifier and softplus
        nets); ``"sigmoid_xent"``: binary cross-entropy of ``sigmoid(h W^T + b_v)``
        against ``x`` in [0, 1] (tanh nets); ``"linear_mse"``: ``||x - (h W^T + b_v)||^2``.

    Input range (what ``"sigmoid_xent"`` compares against; the squared errors ignore it):
        a cross-entropy target outside [0, 1] makes the loss unbounded below, so
        ``"unit"`` inputs in [0, 1] are the targets as they are, ``"symmetric"``
        inputs in [-1, 1] (tanh codes, NORB pixels) are compared as ``(x + 1) / 2``
        and decoded as ``2 sigmoid(.) - 1``, and ``"unbounded"`` inputs are refused.
        Only the target moves: the corrupted, encoded input is ``x`` itself.

    Args:
        units: size of the code.
        activation: the encoder's neuron, a zoo name (``"rect"``, ``"softplus"``,
            ``"tanh"``, ``"sigmoid"``) or its Keras name (``"relu"``).
        corruption: ``"masking"`` or ``"gaussian"``.
        corruption_level: masking probability or noise std, in ``[0, 1)``.
        reconstruction: one of the above; by default the paper's for the neuron.
        input_range: ``"unit"``, ``"symmetric"`` or ``"unbounded"`` (see above);
            ``pretraining`` reads it off the data.
        l1: L1 penalty on the code, ``>= 0``.
        seed: seed of the corruption noise.
        **kwargs: base layer keyword arguments, such as ``name``.

    Example:

    >>> ae = TiedDenseAutoencoder(1000, activation="rect", corruption_level=0.25)
    >>> model = keras.Sequential([keras.Input((784,)), ae])
    >>> model.compile(optimizer="sgd")  # the loss is the layer's own
    >>> model.fit(x, epochs=1)          # no targets: it reconstructs x
    """

    def __init__(
        self,
        units,
        activation="rect",
        corruption="masking",
        corruption_level=0.25,
        reconstruction=None,
        l1=0.0,
        seed=None,
        input_range="unit",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = int(validation.number("units", units, low=1, integer=True))
        self.neuron = neurons.canonical(activation)
        self.corruption = validation.choice("corruption", corruption, CORRUPTIONS)
        self.corruption_level = float(
            validation.number("corruption_level", corruption_level, low=0.0, high=1.0, high_open=True)
        )
        self.reconstruction = validation.choice(
            "reconstruction",
            reconstruction or neurons.get(self.neuron).reconstruction,
            RECONSTRUCTIONS,
        )
        self.input_range = self._checked_range(input_range)
        self.l1 = float(validation.number("l1", l1, low=0.0))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._activation = keras.activations.get(neurons.activation(self.neuron))

    def _checked_range(self, input_range):
        input_range = validation.choice("input_range", input_range, INPUT_RANGES)
        if self.reconstruction == "sigmoid_xent" and input_range == "unbounded":
            raise ConfigError(
                f"{self.name}: sigmoid_xent reconstruction needs inputs in [0, 1] or [-1, 1], not unbounded ones; "
                "scale the inputs into one of them or use reconstruction='softplus_mse' or 'linear_mse'"
            )
        return input_range

    def build(self, input_shape):
        n_in = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(n_in, self.units), initializer="glorot_uniform", name="kernel"
        )
        self.hidden_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="hidden_bias")
        self.visible_bias = self.add_weight(shape=(n_in,), initializer="zeros", name="visible_bias")

    def call(self, inputs, training=False):
        if not training:
            return self.encode(inputs)
        h = self.encode(self.corrupt(inputs))
        self.add_loss(self.reconstruction_loss(inputs, h))
        if self.l1:
            self.add_loss(regularizers.l1_penalty(h, self.l1))
        return h

    def corrupt(self, x):
        """The corrupted input ``x~`` (always corrupts: used while training)."""
        if self.corruption_level == 0.0:
            return x
        if self.corruption == "masking":
            keep = keras.random.uniform(ops.shape(x), seed=self.seed_generator) >= self.corruption_level
            return ops.where(keep, x, ops.zeros_like(x))
        noise = keras.random.normal(ops.shape(x), stddev=self.corruption_level, seed=self.seed_generator)
        return x + ops.cast(noise, x.dtype)

    def encode(self, x):
        """The code ``act(x W + b_h)``."""
        return self._activation(ops.matmul(x, self.kernel) + self.hidden_bias)

    def decode_logits(self, h):
        """The decoder's pre-activation ``h W^T + b_v`` (tied weights)."""
        return ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias

    def decode(self, h):
        """The reconstruction of the input from the code ``h``."""
        z = self.decode_logits(h)
        if self.reconstruction == "softplus_mse":
            return ops.softplus(z)
        if self.reconstruction == "sigmoid_xent":
            r = ops.sigmoid(z)
            return 2.0 * r - 1.0 if self.input_range == "symmetric" else r
        return z

    def reconstruction_loss(self, x, h):
        """Mean over the batch of the per-example reconstruction loss of clean ``x``, in float32.

        The decoder runs in the layer's compute dtype; the loss itself is summed in
        float32 (under ``mixed_float16``, float16 sums of 784 squared errors lose
        digits, and ``fit`` adds every loss to a float32 total).
        """
        x = ops.cast(x, "float32")
        z = ops.cast(self.decode_logits(h), "float32")
        if self.reconstruction == "sigmoid_xent":
            target = (x + 1.0) / 2.0 if self.input_range == "symmetric" else x
            per_input = ops.binary_crossentropy(target, z, from_logits=True)
        else:
            r = ops.softplus(z) if self.reconstruction == "softplus_mse" else z
            per_input = ops.square(x - r)
        return ops.mean(ops.sum(per_input, axis=-1))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.neuron,
            "corruption": self.corruption,
            "corruption_level": self.corruption_level,
            "reconstruction": self.reconstruction,
            "l1": self.l1,
            "seed": self.seed,
            "input_range": self.input_range,
        }


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class SignFlip(keras.layers.Layer):
    """Multiplies the last half of the units by -1 (AISTATS: cancels the mean activation).

    The paper negates the output of half the units of each rectifier layer so the
    next layer sees inputs of mean near zero. Zeros stay zeros, so sparsity is
    unchanged. The layer has no weights.

    Args:
        **kwargs: base layer keyword arguments, such as ``name``.

    Example:

    >>> h = keras.layers.Dense(1000, activation="relu")(inputs)
    >>> h = SignFlip()(h)   # units 500..999 now output -relu(.)
    """

    def call(self, inputs):
        n = ops.shape(inputs)[-1]
        keep = ops.arange(n) < (n - n // 2)
        return ops.where(keep, inputs, ops.negative(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class ScaledSoftplus:
    """The activation ``(1/α)·softplus(α·x)``: softplus at α = 1, the rectifier as α → ∞.

    The AISTATS paper trains NORB nets with it for α from 1 to ∞ to see the error
    fall as softplus turns into the rectifier. It is computed as

        relu(x) + softplus(-α·|x|) / α,

    the same function rearranged so that softplus only sees arguments <= 0, where
    its exponential cannot overflow, and the large part of the result, relu(x), is
    exact: finite for any finite α and x, whatever guards a backend's own softplus
    has or lacks.

    Args:
        alpha: the sharpness α, a finite number > 0.

    Example:

    >>> h = keras.layers.Dense(1000, activation=ScaledSoftplus(2.0), name="hidden_1")(inputs)
    >>> ScaledSoftplus(1.0)(keras.ops.zeros((1,)))  # softplus(0) = log 2
    """

    def __init__(self, alpha=1.0):
        self.alpha = neurons.softplus_alpha(alpha)

    def __call__(self, x):
        return ops.relu(x) + ops.softplus(-self.alpha * ops.abs(x)) / self.alpha

    def __repr__(self):  # what an error message naming a layer's activation shows
        return f"ScaledSoftplus(alpha={self.alpha:g})"

    def get_config(self):
        return {"alpha": self.alpha}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

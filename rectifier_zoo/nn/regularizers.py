"""The L1 penalty on hidden activations, with a scaling the zoo owns.

Keras changed how ``activity_regularizer`` losses are scaled (3.14 divides them by
the batch size; earlier versions did not), so the zoo does not go through that
mechanism: ``ActivityL1`` is a pass-through layer that adds its own penalty,

    penalty = l1 * mean over the batch of (sum over units of |h|),

which is the same number for a batch and for that batch repeated twice, on every
backend and every Keras version.
"""

from __future__ import annotations

import keras
from keras import ops

from rectifier_zoo._internal import validation


def l1_penalty(h, l1):
    """``l1 * mean_batch(sum_units |h|)``, in float32; features beyond the batch axis are all summed.

    Computed in float32 whatever ``h`` is: under ``mixed_float16`` the codes are
    float16, whose sum over 1000 units loses digits (and overflows past 65504),
    and a float16 penalty cannot be added to the float32 loss ``fit`` minimises.
    """
    h = ops.reshape(ops.cast(h, "float32"), (ops.shape(h)[0], -1))
    return ops.multiply(ops.cast(l1, "float32"), ops.mean(ops.sum(ops.abs(h), axis=-1)))


@keras.saving.register_keras_serializable(package="rectifier_zoo")
class ActivityL1(keras.layers.Layer):
    """L1 penalty on the activations that pass through it (the paper's sparsity prior).

    The layer returns its input unchanged and adds to the model's losses

        l1 * mean over the batch of (sum over units of |h|),

    i.e. the per-example L1 norm of the code, averaged over the batch. The value
    does not depend on the batch size, the backend or the Keras version. The
    penalty is added at inference too, so validation losses are comparable. It
    is computed in float32 under any dtype policy (``mixed_float16`` included).

    Args:
        l1: the penalty coefficient, ``>= 0`` (the paper uses 0.001).
        **kwargs: base layer keyword arguments, such as ``name``.

    Example:

    >>> inputs = keras.Input((784,))
    >>> h = keras.layers.Dense(1000, activation="relu")(inputs)
    >>> h = ActivityL1(0.001)(h)
    """

    def __init__(self, l1=0.001, **kwargs):
        super().__init__(**kwargs)
        self.l1 = float(validation.number("l1", l1, low=0.0))
        self.supports_masking = True

    def call(self, inputs):
        if self.l1:
            self.add_loss(l1_penalty(inputs, self.l1))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1}

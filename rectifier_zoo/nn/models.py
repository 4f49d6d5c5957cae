"""The paper's classifier: input -> hidden layers -> softmax, with stable layer names.

Layer names are the contract other stages rely on:

* ``features``: the input (float32, batch x features);
* ``hidden_<i>`` (i from 1): the Dense layer of hidden layer ``i``, whose output
  (after its activation) is the code whose sparsity is measured;
* ``hidden_<i>_l1``: its ActivityL1 penalty, when ``l1 > 0``;
* ``hidden_<i>_flip``: its SignFlip, when ``flip_half`` is set;
* ``probabilities``: the softmax output layer, float32 under any dtype policy.

Under ``keras.mixed_precision.set_dtype_policy("mixed_float16")`` the hidden layers
compute in float16 (weights stay float32), while the L1 and reconstruction
penalties and the softmax output are float32, so probabilities sum to 1 within
1e-6 and ``fit`` adds float32 losses only.
"""

from __future__ import annotations

import re

import keras

from rectifier_zoo._internal import validation
from rectifier_zoo.nn import neurons
from rectifier_zoo.nn.layers import ScaledSoftplus, SignFlip
from rectifier_zoo.nn.regularizers import ActivityL1

HIDDEN_NAME = re.compile(r"^hidden_(\d+)$")


def build_classifier(
    input_dim,
    num_classes,
    hidden=(1000, 1000, 1000),
    neuron="rect",
    l1=0.0,
    flip_half=False,
    seed=None,
    name=None,
    softplus_alpha=None,
):
    """Build the untrained classifier of the paper.

    Args:
        input_dim: number of input features (784 for MNIST).
        num_classes: number of classes of the softmax output.
        hidden: sizes of the hidden layers (the paper: three of 1000).
        neuron: ``"rect"``, ``"softplus"``, ``"tanh"`` or ``"sigmoid"``.
        l1: L1 activity penalty on every hidden layer (``ActivityL1``), ``>= 0``.
        flip_half: negate the output of half the units of each hidden layer (AISTATS).
        seed: seed of the weight initialisation (None: random).
        name: the model's name.
        softplus_alpha: for a softplus ``neuron``, the α of ``(1/α)·softplus(αx)``
            (``ScaledSoftplus``, the AISTATS NORB sweep); None: plain softplus.

    Returns:
        An uncompiled ``keras.Model``; for MNIST's 784 inputs, 10 classes and three
        hidden layers of 1000 it has 2,797,010 parameters.
    """
    input_dim = validation.number("input_dim", input_dim, low=1, integer=True)
    num_classes = validation.number("num_classes", num_classes, low=2, integer=True)
    hidden = tuple(validation.number("hidden size", h, low=1, integer=True) for h in hidden)
    if not hidden:
        raise validation.ConfigError("hidden must list at least one layer size, e.g. (1000, 1000, 1000)")
    act = neurons.activation(neuron)
    if softplus_alpha is not None:  # refused unless the neuron is softplus
        act = ScaledSoftplus(neurons.softplus_alpha(softplus_alpha, neuron))
    l1 = validation.number("l1", l1, low=0.0)

    def init(i):
        return keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)

    inputs = keras.Input((input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, activation=act, kernel_initializer=init(i), name=f"hidden_{i}")(x)
        if l1:
            x = ActivityL1(l1, name=f"hidden_{i}_l1")(x)
        if flip_half:
            x = SignFlip(name=f"hidden_{i}_flip")(x)
    # float32 under any dtype policy: a float16 softmax sums to 1 only within 1e-3.
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer=init(0), name="probabilities", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"{neuron}_{'x'.join(map(str, hidden))}")


def hidden_layers(model):
    """The hidden Dense layers of a zoo classifier, in order (``hidden_1``, ``hidden_2``, ...)."""
    found = [(int(m.group(1)), layer) for layer in model.layers if (m := HIDDEN_NAME.match(layer.name))]
    return [layer for _, layer in sorted(found, key=lambda pair: pair[0])]


def block_layers(model, index):
    """The layers of hidden block ``index``, in order: ``hidden_<i>`` then its L1 and flip."""
    prefix = f"hidden_{index}"
    return [layer for layer in model.layers if layer.name == prefix or layer.name.startswith(prefix + "_")]


def input_width(model) -> int:
    return int(model.inputs[0].shape[-1])

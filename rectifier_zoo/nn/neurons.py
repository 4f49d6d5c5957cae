"""One descriptor per neuron type: its Keras activation, NumPy function, reconstruction, label, family.

Adding a neuron is one ``Neuron(...)`` declaration: the layers, the DAE
pre-training, sparse inference, the report's labels and the ordering target all
read these fields, and no code branches on a neuron's name.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Callable

import numpy as np

from rectifier_zoo._internal import validation
from rectifier_zoo.errors import ConfigError

@dataclasses.dataclass(frozen=True)
class Neuron:
    """What the zoo knows of a neuron type.

    Args:
        name: the zoo's name, used in entry names (``rect``).
        keras: the Keras activation name.
        numpy: the same function on a float32 NumPy array (sparse inference).
        reconstruction: the AISTATS reconstruction layer of its denoising auto-encoder.
        label: its name in reports.
        family: ``"rectifying"`` (hard zeros) or ``"saturating"``: the paper's
            claim sets the first family ahead of the second.
        aliases: other names accepted for it.
        in_zoo: whether the paper's grid declares entries with it.
    """

    name: str
    keras: str
    numpy: Callable
    reconstruction: str
    label: str
    family: str
    aliases: tuple = ()
    in_zoo: bool = True


RECTIFYING, SATURATING = "rectifying", "saturating"

# Rectifier and softplus nets reconstruct with softplus + squared error, tanh (and
# sigmoid) nets with a sigmoid + cross-entropy (AISTATS). Adding a neuron is one line.
NEURONS = (
    Neuron("rect", "relu", lambda z: np.maximum(z, 0.0, out=z), "softplus_mse", "rectifier", RECTIFYING,
           aliases=("relu", "rectifier")),
    Neuron("softplus", "softplus", lambda z: np.logaddexp(z, 0.0).astype(z.dtype), "softplus_mse", "softplus",
           SATURATING),
    Neuron("tanh", "tanh", np.tanh, "sigmoid_xent", "tanh", SATURATING),
    # kept for reference runs only: no zoo entries
    Neuron("sigmoid", "sigmoid", lambda z: (1.0 / (1.0 + np.exp(-z))).astype(z.dtype), "sigmoid_xent", "sigmoid",
           SATURATING, in_zoo=False),
)
BY_NAME = {n.name: n for n in NEURONS}
ALIASES = {alias: n.name for n in NEURONS for alias in n.aliases}


def get(neuron: str) -> Neuron:
    """The descriptor of ``neuron`` (a zoo name or an alias); ConfigError if unknown."""
    return BY_NAME[canonical(neuron)]


def canonical(neuron: str) -> str:
    """The zoo's name for ``neuron`` (``"relu"`` -> ``"rect"``); ConfigError if unknown."""
    if isinstance(neuron, str):
        neuron = ALIASES.get(neuron, neuron)
    return validation.choice("neuron", neuron, BY_NAME)


def activation(neuron: str) -> str:
    """The Keras activation name for a zoo neuron name."""
    return get(neuron).keras


def softplus_alpha(alpha, neuron="softplus") -> float:
    """``alpha`` of the scaled softplus ``(1/α)·softplus(αx)`` as a float; ConfigError if refused.

    Only a softplus neuron takes it, and only a finite α > 0: α = 1 is softplus itself,
    and the α = ∞ end of the paper's sweep is the rectifier, which is its own entry.
    """
    if canonical(neuron) != "softplus":
        raise ConfigError(
            f"softplus_alpha applies to softplus neurons only, not {neuron!r}; "
            "drop softplus_alpha, or use a _softplus entry (α = ∞ is the rectifier: the _rect entry)"
        )
    ok = isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and math.isfinite(alpha) and alpha > 0
    if not ok:
        raise ConfigError(
            f"softplus_alpha must be a finite number > 0, got {alpha!r}; "
            "use α = 1 for softplus, and the _rect entry for α = ∞ (the rectifier)"
        )
    return float(alpha)

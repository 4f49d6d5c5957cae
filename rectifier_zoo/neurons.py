"""The paper's neuron types and the names the zoo uses for them."""

from __future__ import annotations

import math
import numbers

from rectifier_zoo import validation
from rectifier_zoo.errors import ConfigError

# zoo name -> Keras activation. "sigmoid" is kept for reference runs only.
NEURONS = {"rect": "relu", "softplus": "softplus", "tanh": "tanh", "sigmoid": "sigmoid"}
ALIASES = {"relu": "rect", "rectifier": "rect"}

# The AISTATS reconstruction layer for each neuron's denoising auto-encoder:
# rectifier and softplus nets use softplus + squared error, tanh nets cross-entropy.
DEFAULT_RECONSTRUCTION = {
    "rect": "softplus_mse",
    "softplus": "softplus_mse",
    "tanh": "sigmoid_xent",
    "sigmoid": "sigmoid_xent",
}


def canonical(neuron: str) -> str:
    """The zoo's name for ``neuron`` (``"relu"`` -> ``"rect"``); ConfigError if unknown."""
    if isinstance(neuron, str):
        neuron = ALIASES.get(neuron, neuron)
    return validation.choice("neuron", neuron, NEURONS)


def activation(neuron: str) -> str:
    """The Keras activation name for a zoo neuron name."""
    return NEURONS[canonical(neuron)]


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

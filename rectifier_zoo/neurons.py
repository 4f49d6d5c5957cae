"""The paper's neuron types and the names the zoo uses for them."""

from __future__ import annotations

from rectifier_zoo import validation

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

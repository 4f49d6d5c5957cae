"""Sparsity of the hidden codes: exact zeros, dead units and mean activation.

``sparsity(model, x)`` is the computation ``SparsityCallback`` logs each epoch and
reports use; it reads the outputs of the hidden Dense layers (after their
activation, before any sign flip, which does not change zeros anyway).
"""

from __future__ import annotations

import keras
import numpy as np

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.models import hidden_layers, input_width


class _Tally:
    """Running code statistics, so large test sets never hold all codes at once."""

    def __init__(self):
        self.zeros = 0
        self.count = 0
        self.total = 0.0
        self.alive = None  # per unit: non-zero on some example so far

    def add(self, h):
        h = np.asarray(h)
        zero = h == 0
        self.zeros += int(zero.sum())
        self.count += h.size
        self.total += float(h.sum(dtype="float64"))
        alive = ~zero.all(axis=0)
        self.alive = alive if self.alive is None else self.alive | alive

    def stats(self) -> dict:
        return {
            "zeros": self.zeros / self.count,
            "dead": float(1.0 - self.alive.mean()),
            "mean": self.total / self.count,
        }


def code_stats(h) -> dict:
    """Statistics of one layer's codes ``h`` (examples x units).

    Returns:
        ``zeros``: fraction of exact zeros over all (example, unit) pairs;
        ``dead``: fraction of units that are zero on every example;
        ``mean``: mean activation.
    """
    tally = _Tally()
    tally.add(h)
    return tally.stats()


def probe(model, layers=None):
    """A model returning the outputs of the given layers (default: the hidden layers)."""
    layers = hidden_layers(model) if layers is None else list(layers)
    if not layers:
        raise ConfigError(
            f"model {model.name!r} has no hidden layers named hidden_1, hidden_2, ...; "
            "build it with rectifier_zoo.build_model or models.build_classifier"
        )
    # A single input is passed as a tensor, not a list, to match how callers feed it.
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, [layer.output for layer in layers]), [layer.name for layer in layers]


def sparsity(model, x, batch_size=1000, layers=None) -> dict:
    """Per-layer code statistics of ``model`` on examples ``x``.

    Args:
        model: a zoo classifier (hidden layers named ``hidden_<i>``).
        x: examples, shape (n, features).
        batch_size: examples per forward pass.
        layers: the layers to measure (default: the hidden layers).

    Returns:
        ``{layer name: {"zeros": ..., "dead": ..., "mean": ...}}`` in layer order.
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2 or x.shape[1] != input_width(model):
        raise ConfigError(
            f"x must have shape (n, {input_width(model)}) for model {model.name!r}, got {x.shape}"
        )
    net, names = probe(model, layers)
    return probe_stats(net, names, x, batch_size)


def probe_stats(net, names, x, batch_size=1000) -> dict:
    """Run a probe model over ``x`` in batches and summarise each output."""
    tallies = [_Tally() for _ in names]
    for start in range(0, len(x), batch_size):
        outs = net(x[start : start + batch_size], training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for tally, out in zip(tallies, outs):
            tally.add(keras.ops.convert_to_numpy(out))
    return {name: tally.stats() for name, tally in zip(names, tallies)}


def log_names(layer_name) -> dict:
    """The stable names under which a layer's statistics appear in training logs."""
    return {stat: f"{layer_name}_{stat}" for stat in ("zeros", "dead", "mean")}

"""Inference that skips inactive rectifier units: fewer multiply-adds for sparse codes.

A rectifier network trained with an L1 penalty outputs exact zeros for 80-95% of
its hidden units on a given example. A zero unit contributes nothing to the next
layer, so the next layer only needs the kernel rows of the *active* units:

    z = h @ W + b  ==  h[:, active] @ W[active] + b,   active = units non-zero in the batch

``sparsify(model)`` copies the weights of a zoo classifier (``hidden_<i>``, optional
``hidden_<i>_flip``, ``probabilities``; see ``models.py``) into NumPy arrays and
returns a ``SparseInferenceModel`` whose ``predict`` gives the same probabilities
as the Keras model while doing that gather. The sign flips are folded into the
next layer's kernel (``flip(h) @ W == h @ (D W)`` with ``D`` the diagonal of signs),
so they cost nothing at inference.

Where it wins and where it loses (``benchmarks/sparse_inference.py``: 3x1000
MNIST-shaped net with 90% zeros per hidden layer, MNIST-like input with 19%
non-zero pixels, one BLAS thread, a loaded 2-core AMD EPYC): at batch 1 it needs
7.9x fewer multiply-adds but runs only about 1.1-1.3x faster than the same NumPy
code done densely, because copying a scattered kernel row costs several times
streaming it through a dense matrix-vector product, and because at batch 1 the
handful of NumPy calls per layer cost as much as the arithmetic. Against the Keras
model's direct call ``model(x)`` at batch 1 it is about 70x faster (that is Keras's
per-call overhead, not sparsity). From batch 4 up, the *union* of the active
units over the batch passes ``max_active`` (default 0.25) and each layer falls
back to the dense product, so the sparse model runs at the dense NumPy speed
(0.97-0.99x: the cost of finding the active set). Reaching the ideal ratio would
need a kernel that accumulates the active rows without copying them (a compiled
extension), which the zoo does not depend on.

Only the rectifier gives exact zeros; other neurons (tanh, softplus) are
accepted, but nothing is skipped for them in practice.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rectifier_zoo import validation
from rectifier_zoo.errors import ConfigError

# Gather only when at most this fraction of a layer's inputs is active: copying a
# scattered kernel row costs several times streaming it in a dense product (measured
# 3-6x on the benchmark machine), so at higher fractions the dense product is faster.
MAX_ACTIVE = 0.25

# Keras activation name -> NumPy function (float32 in, float32 out).
_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0, out=z),
    "tanh": np.tanh,
    "sigmoid": lambda z: (1.0 / (1.0 + np.exp(-z))).astype(z.dtype),
    "softplus": lambda z: np.logaddexp(z, 0.0).astype(z.dtype),
    "linear": lambda z: z,
}


def count_macs(kernel_shapes, active_inputs=None) -> int:
    """Multiply-adds of one example through dense layers, optionally skipping inputs.

    Args:
        kernel_shapes: ``(n_in, n_out)`` of each layer's kernel, in order.
        active_inputs: the number of non-zero inputs each layer actually multiplies
            (one per layer); ``None`` counts the dense product (all ``n_in``).

    Returns:
        ``sum(active_i * n_out_i)``: each active input meets every output unit once.

    Example:

    >>> count_macs([(4, 3), (3, 2)])            # 4*3 + 3*2
    18
    >>> count_macs([(4, 3), (3, 2)], [4, 1])    # 4*3 + 1*2: one unit of layer 1 active
    14
    """
    shapes = [(int(n_in), int(n_out)) for n_in, n_out in kernel_shapes]
    if active_inputs is None:
        return sum(n_in * n_out for n_in, n_out in shapes)
    active_inputs = list(active_inputs)
    if len(active_inputs) != len(shapes):
        raise ConfigError(
            f"active_inputs has {len(active_inputs)} entries for {len(shapes)} layers; give one per layer"
        )
    for (n_in, _), k in zip(shapes, active_inputs):
        validation.number("active inputs", k, low=0, high=n_in)
    return int(sum(k * n_out for (_, n_out), k in zip(shapes, active_inputs)))


@dataclasses.dataclass(frozen=True)
class SparseLayer:
    """One dense layer of the NumPy copy: ``activation(x @ kernel + bias)``."""

    kernel: np.ndarray  # (n_in, n_out), float32, C-contiguous so row gathers are cheap
    bias: np.ndarray  # (n_out,)
    activation: str
    name: str


class SparseInferenceModel:
    """A NumPy copy of a zoo classifier that multiplies only the active inputs of each layer.

    Build it with ``sparsify(model)``. ``predict`` returns the same probabilities
    as ``model.predict`` (up to float32 rounding of a different summation order).

    Args:
        layers: the ``SparseLayer`` objects, hidden layers then the softmax layer
            (sign flips already folded into the kernels).
        name: the source model's name.
        max_active: a layer uses the gathered product when at most this fraction of
            its inputs is non-zero somewhere in the batch, else the dense one.

    Example:

    >>> fast = sparsify(model)
    >>> probs = fast.predict(x, batch_size=1)
    >>> np.allclose(probs, model.predict(x), atol=1e-5)
    True
    """

    def __init__(self, layers, name="sparse", max_active=MAX_ACTIVE):
        if not layers:
            raise ConfigError("a SparseInferenceModel needs at least one layer (the softmax output)")
        self.layers = tuple(layers)
        self.name = name
        self.max_active = float(validation.number("max_active", max_active, low=0.0, high=1.0))

    @property
    def input_dim(self) -> int:
        return int(self.layers[0].kernel.shape[0])

    @property
    def kernel_shapes(self) -> list:
        return [tuple(layer.kernel.shape) for layer in self.layers]

    def predict(self, x, batch_size=1, sparse=True) -> np.ndarray:
        """Class probabilities of ``x``, ``batch_size`` examples at a time.

        Args:
            x: examples, shape (n, features).
            batch_size: examples per forward pass (the active set is the union over it).
            sparse: False runs the plain dense product (the baseline of the benchmark).

        Returns:
            float32 array (n, num_classes).
        """
        x = self._check(x)
        batch_size = int(validation.number("batch_size", batch_size, low=1, integer=True))
        out = [self.forward(x[i : i + batch_size], sparse) for i in range(0, len(x), batch_size)]
        n_out = self.layers[-1].kernel.shape[1]
        return np.concatenate(out) if out else np.zeros((0, n_out), np.float32)

    def forward(self, x, sparse=True) -> np.ndarray:
        """Probabilities of one batch ``x`` (float32, (n, features)); no checks."""
        if sparse and len(x) == 1:
            return self._forward_one(x[0])[None, :]
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = self._product(h, layer, sparse)
            if i == last:
                return _softmax(z)
            h = _ACTIVATIONS[layer.activation](z)
        return h  # unreachable: the last layer returns above

    def _forward_one(self, h):
        """One example as a 1-D vector: the cheapest indexing NumPy offers (batch 1 is all overhead)."""
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            active = np.flatnonzero(h)
            if len(active) <= self.max_active * h.shape[0]:
                z = h[active] @ layer.kernel[active]
            else:
                z = h @ layer.kernel
            z += layer.bias
            if i == last:
                return _softmax(z[None, :])[0]
            h = _ACTIVATIONS[layer.activation](z)
        return h  # unreachable: the last layer returns above

    def _product(self, h, layer, sparse):
        if sparse:
            # Units that are zero on every example of the batch contribute nothing.
            active = np.flatnonzero(h[0]) if len(h) == 1 else np.flatnonzero(h.any(axis=0))
            if len(active) <= self.max_active * h.shape[1]:
                return h[:, active] @ layer.kernel[active] + layer.bias
        return h @ layer.kernel + layer.bias

    def active_counts(self, x) -> list:
        """Per example, the number of non-zero inputs of each layer: (n, layers) int array."""
        x = self._check(x)
        counts, h = [], x
        for layer in self.layers:
            counts.append(np.count_nonzero(h, axis=1))
            h = _ACTIVATIONS[layer.activation](h @ layer.kernel + layer.bias)
        return np.stack(counts, axis=1)

    def mac_report(self, x, batch_size=1) -> dict:
        """What skipping saves on ``x``: dense MACs and the MACs actually needed, per example.

        ``needed_per_example`` counts only each example's own non-zero inputs (the
        ideal); ``gathered_per_example`` counts what ``predict`` multiplies at this
        ``batch_size``, where the active set is the union over the batch (and a
        layer above ``max_active`` goes dense).

        Returns:
            ``{"dense_per_example", "needed_per_example", "gathered_per_example",
            "ideal_ratio", "gathered_ratio"}`` (ratios are dense / needed).
        """
        x = self._check(x)
        shapes = self.kernel_shapes
        dense = count_macs(shapes)
        counts = self.active_counts(x)
        needed = float(np.mean([count_macs(shapes, row) for row in counts]))
        gathered = []
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            union = self._union_counts(batch)
            gathered.append(count_macs(shapes, union) * len(batch))
        gathered_mean = float(np.sum(gathered) / max(len(x), 1))
        return {
            "dense_per_example": dense,
            "needed_per_example": needed,
            "gathered_per_example": gathered_mean,
            "ideal_ratio": dense / max(needed, 1.0),
            "gathered_ratio": dense / max(gathered_mean, 1.0),
        }

    def _union_counts(self, batch):
        counts, h = [], batch
        for layer in self.layers:
            k = int(np.count_nonzero(h.any(axis=0)))
            counts.append(k if k <= self.max_active * h.shape[1] else h.shape[1])
            h = _ACTIVATIONS[layer.activation](h @ layer.kernel + layer.bias)
        return counts

    def _check(self, x):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ConfigError(
                f"x must have shape (n, {self.input_dim}) for sparse model {self.name!r}, got {x.shape}"
            )
        return np.ascontiguousarray(x)


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _activation_name(dense) -> str:
    name = getattr(dense.activation, "__name__", str(dense.activation))
    if name not in _ACTIVATIONS:
        raise ConfigError(
            f"layer {dense.name!r} has activation {name!r}, which sparse inference does not know; "
            f"supported: {sorted(_ACTIVATIONS)}"
        )
    return name


def _numpy(variable) -> np.ndarray:
    import keras  # deferred: the module's NumPy path needs no backend

    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)


def flip_signs(units: int) -> np.ndarray:
    """The signs ``SignFlip`` applies: +1 for the first ``units - units // 2``, -1 after."""
    signs = np.ones(units, np.float32)
    signs[units - units // 2 :] = -1.0
    return signs


def sparsify(model, max_active=MAX_ACTIVE) -> SparseInferenceModel:
    """A ``SparseInferenceModel`` with the weights of a zoo classifier.

    Reads the hidden Dense layers ``hidden_<i>``, their ``hidden_<i>_flip`` sign
    flips when present (folded into the next kernel) and the ``probabilities``
    softmax layer; ``hidden_<i>_l1`` penalties do nothing at inference.

    Args:
        model: a zoo classifier (``rz.build_model`` / ``rz.load``), trained or not.
        max_active: see ``SparseInferenceModel``.

    Returns:
        A ``SparseInferenceModel`` (weights copied: later training of ``model`` does
        not change it).

    Example:

    >>> model = rz.load("mnist_rect_l1")
    >>> fast = sparsify(model)
    >>> fast.predict(x_test[:1], batch_size=1).argmax(axis=1)
    """
    from rectifier_zoo.models import hidden_layers  # deferred: imports Keras

    hidden = hidden_layers(model)
    by_name = {layer.name: layer for layer in model.layers}
    output = by_name.get("probabilities")
    if output is None or not hidden:
        raise ConfigError(
            f"model {model.name!r} is not a zoo classifier (needs layers hidden_1, ... and "
            "probabilities); build it with rz.build_model or models.build_classifier"
        )
    layers, signs = [], None
    for dense in [*hidden, output]:
        kernel = _numpy(dense.kernel)
        if signs is not None:  # fold the previous layer's sign flip into this kernel
            kernel = kernel * signs[:, None]
        bias = _numpy(dense.bias) if dense.use_bias else np.zeros(kernel.shape[1], np.float32)
        activation = "linear" if dense is output else _activation_name(dense)
        layers.append(SparseLayer(np.ascontiguousarray(kernel), bias, activation, dense.name))
        flipped = f"{dense.name}_flip" in by_name
        signs = flip_signs(kernel.shape[1]) if flipped else None
    return SparseInferenceModel(layers, name=model.name, max_active=max_active)

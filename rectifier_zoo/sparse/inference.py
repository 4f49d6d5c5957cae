"""Inference that skips inactive rectifier units: fewer multiply-adds for sparse codes.

A rectifier network trained with an L1 penalty outputs exact zeros for most of its
hidden units on a given example, and most of MNIST's pixels are exactly zero too. A
zero input contributes nothing to the next layer, so each layer only needs the
kernel rows of the *non-zero* inputs:

    z = x @ W + b  ==  sum over j with x[j] != 0 of x[j] * W[j, :]  +  b

``sparsify(model)`` copies the weights of a zoo classifier (``hidden_<i>``, optional
``hidden_<i>_flip``, ``probabilities``; see ``models.py``) into NumPy arrays and
returns a ``SparseInferenceModel`` whose ``predict`` gives the same probabilities
as the Keras model. The sign flips are folded into the next layer's kernel
(``flip(h) @ W == h @ (D W)`` with ``D`` the diagonal of signs), so they cost
nothing at inference.

Two engines do the skipping (their arithmetic is in ``sparse_kernels``):

- ``"numba"`` (``pip install numba``, or ``pip install 'rectifier-zoo[sparse]'``):
  a compiled kernel that, example by example and layer by layer, adds the kernel
  rows of the non-zero inputs (the raw input included) into one accumulator, in
  place: no row is copied (only the indices of the non-zero inputs are listed), and
  one call runs the whole network. It is compiled on the first use in a process (a few seconds, then
  cached on disk by numba), single-threaded, without fast-math.
- ``"numpy"``, the fallback when numba is missing (a one-time warning says how to
  get the compiled one): gathers the active rows of each layer (``h[active] @
  W[active]``), and goes dense for a layer whose batch-wide active set is above
  ``max_active``.

Batches of ``dense_from_batch`` examples or more take the plain dense product
(``h @ W``), which is faster there: a dense product reads each kernel row once for
the whole batch, the per-example kernel once per example.

Where it wins and where it loses, and by how much: ``benchmarks/sparse_inference.py``,
its figures in ``benchmarks/results/sparse_inference.json`` and the table in
``docs/performance.md`` (figures go stale; they live beside the machine they were
measured on, not here). In short: the gain is largest at batch 1, where per-call
framework overhead dominates, and shrinks as the batch grows and the union of
active units widens; from ``DENSE_FROM_BATCH`` examples ``predict`` takes the dense
product.

Only the rectifier gives exact zeros; other neurons (tanh, softplus) are
accepted, but nothing is skipped for them in practice.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from rectifier_zoo._internal import validation
from rectifier_zoo.nn import neurons
from rectifier_zoo.sparse import kernels as sparse_kernels
from rectifier_zoo.errors import ConfigError
from rectifier_zoo.sparse.kernels import count_macs  # public here: MAC counts of a sparse model

# NumPy engine: gather only when at most this fraction of a layer's inputs is active:
# copying a scattered kernel row costs several times streaming it in a dense product,
# so at higher fractions dense is faster.
MAX_ACTIVE = 0.25

# From this batch size on, the dense product is at least as fast as the per-example
# compiled kernel (one-thread BLAS, the shipped 784-3x1000 net on its real test
# images): over six runs of benchmarks/sparse_inference.py the two were even at 16
# (0.9-1.2x) and dense won at 32. A sparser model moves it up: re-measure it when
# the model the benchmark uses changes.
DENSE_FROM_BATCH = 32

ENGINES = ("auto", "numba", "numpy")
INSTALL_HINT = "pip install numba (or pip install 'rectifier-zoo[sparse]')"

# Keras activation name -> NumPy function (float32 in, float32 out): each neuron's own.
_ACTIVATIONS = {"linear": lambda z: z, **{n.keras: n.numpy for n in neurons.NEURONS}}
# The compiled kernel's codes for the activations it implements (a new neuron runs
# on the NumPy engine until the kernel learns it: engine="numba" refuses it by name).
_ACTIVATION_CODES = {"linear": 0, "relu": 1, "tanh": 2, "sigmoid": 3, "softplus": 4}

_warned = False  # the missing-numba warning is given once per process


# ----------------------------------------------------------------- the engine


def _resolve_engine(engine) -> str:
    """``"numba"`` or ``"numpy"`` for the ``engine`` asked for (``ENGINES``), warning once without numba."""
    validation.choice("engine", engine, ENGINES)
    if engine == "numpy":
        return "numpy"
    if sparse_kernels.compiled_kernel() is not None:
        return "numba"
    if engine == "numba":
        raise ConfigError(f"engine='numba' needs numba, which is not installed; {INSTALL_HINT}, or pass engine='numpy'")
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "numba is not installed: sparse inference falls back to the NumPy engine, which is "
            f"barely faster than the dense product; for the compiled kernel, {INSTALL_HINT}",
            RuntimeWarning,
            stacklevel=3,
        )
    return "numpy"


# ------------------------------------------------------------------- the model


@dataclasses.dataclass(frozen=True)
class SparseLayer:
    """One dense layer of the NumPy copy: ``activation(x @ kernel + bias)``."""

    kernel: np.ndarray  # (n_in, n_out), float32, C-contiguous so each row is contiguous
    bias: np.ndarray  # (n_out,)
    activation: str
    name: str


class SparseInferenceModel:
    """A NumPy copy of a zoo classifier that multiplies only the non-zero inputs of each layer.

    Build it with ``sparsify(model)``. ``predict`` returns the same probabilities
    as ``model.predict`` (up to float32 rounding of a different summation order).

    Args:
        layers: the ``SparseLayer`` objects, hidden layers then the softmax layer
            (sign flips already folded into the kernels).
        name: the source model's name.
        max_active: NumPy engine only: a layer uses the gathered product when at
            most this fraction of its inputs is non-zero somewhere in the batch.
        dense_from_batch: batches of this many examples or more use the dense
            product (faster there); ``math.inf`` never does.
        engine: ``"auto"`` (numba when installed, else NumPy with a one-time
            warning), ``"numba"`` (an error without numba) or ``"numpy"``.

    Example:

    >>> fast = sparsify(model)
    >>> fast.engine
    'numba'
    >>> probs = fast.predict(x, batch_size=1)
    >>> np.allclose(probs, model.predict(x), atol=1e-5)
    True
    """

    def __init__(self, layers, name="sparse", max_active=MAX_ACTIVE, dense_from_batch=DENSE_FROM_BATCH,
                 engine="auto"):
        if not layers:
            raise ConfigError("a SparseInferenceModel needs at least one layer (the softmax output)")
        self.name = name
        self.max_active = float(validation.number("max_active", max_active, low=0.0, high=1.0))
        if dense_from_batch != math.inf:
            validation.number("dense_from_batch", dense_from_batch, low=1, integer=True)
        self.dense_from_batch = dense_from_batch
        self.engine = _resolve_engine(engine)
        self._pack(layers)

    def _pack(self, layers):
        """Lay all kernels and biases out in one flat buffer each; the layers become views of it."""
        for layer in layers:
            validation.choice(f"activation of layer {layer.name!r}", layer.activation, _ACTIVATION_CODES)
        for a, b in zip(layers, layers[1:]):
            if a.kernel.shape[1] != b.kernel.shape[0]:
                raise ConfigError(
                    f"layer {b.name!r} takes {b.kernel.shape[0]} inputs but {a.name!r} gives "
                    f"{a.kernel.shape[1]}; pass the layers of one network, in order"
                )
        sizes = [layer.kernel.size for layer in layers]
        widths = [layer.kernel.shape[1] for layer in layers]
        self._weights = np.concatenate([np.ravel(layer.kernel) for layer in layers]).astype(np.float32, copy=False)
        self._biases = np.concatenate([np.ravel(layer.bias) for layer in layers]).astype(np.float32, copy=False)
        self._w_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._b_start = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        self._dims = np.array([layers[0].kernel.shape[0], *widths], np.int64)
        self._acts = np.array([_ACTIVATION_CODES[layer.activation] for layer in layers], np.int64)
        self.layers = tuple(
            dataclasses.replace(
                layer,
                kernel=self._weights[w : w + layer.kernel.size].reshape(layer.kernel.shape),
                bias=self._biases[b : b + layer.kernel.shape[1]],
            )
            for layer, w, b in zip(layers, self._w_start, self._b_start)
        )

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
            batch_size: examples per forward pass; from ``dense_from_batch`` on,
                the dense product is used.
            sparse: False runs the plain dense product (the benchmark's baseline).

        Returns:
            float32 array (n, num_classes).
        """
        x = self._check(x)
        batch_size = int(validation.number("batch_size", batch_size, low=1, integer=True))
        if sparse and self.engine == "numba" and batch_size < self.dense_from_batch:
            return self._compiled(x)  # per example anyway: one call gives the same numbers
        out = [self.forward(x[i : i + batch_size], sparse) for i in range(0, len(x), batch_size)]
        n_out = self.layers[-1].kernel.shape[1]
        return np.concatenate(out) if out else np.zeros((0, n_out), np.float32)

    def forward(self, x, sparse=True) -> np.ndarray:
        """Probabilities of one batch ``x`` (float32, (n, features)); no checks.

        The path is chosen for the batch: the compiled kernel (numba engine) below
        ``dense_from_batch`` examples, the gathered NumPy product (NumPy engine),
        or the dense product (``sparse=False`` or a batch that large).
        """
        if sparse and len(x) < self.dense_from_batch:
            if self.engine == "numba":
                return self._compiled(x)
            if len(x) == 1:
                return self._forward_one(x[0])[None, :]
        else:
            sparse = False
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = self._product(h, layer, sparse)
            if i == last:
                return sparse_kernels.softmax(z)
            h = _ACTIVATIONS[layer.activation](z)
        return h  # unreachable: the last layer returns above

    def _compiled(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = np.empty((len(x), int(self._dims[-1])), np.float32)
        sparse_kernels.compiled_kernel()(x, self._weights, self._w_start, self._biases, self._b_start, self._dims, self._acts, out)
        return out

    def _forward_one(self, h):
        """NumPy engine, one example as a 1-D vector: the cheapest indexing NumPy offers."""
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = sparse_kernels.gathered_product_one(h, layer.kernel, layer.bias, self.max_active)
            if i == last:
                return sparse_kernels.softmax(z[None, :])[0]
            h = _ACTIVATIONS[layer.activation](z)
        return h  # unreachable: the last layer returns above

    def _product(self, h, layer, sparse):
        if sparse:
            return sparse_kernels.gathered_product(h, layer.kernel, layer.bias, self.max_active)
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
        ``batch_size``: the ideal for the numba engine, the union of the active
        inputs over the batch for the NumPy one (a layer above ``max_active`` going
        dense), and the dense count from ``dense_from_batch`` on.

        Returns:
            ``{"dense_per_example", "needed_per_example", "gathered_per_example",
            "ideal_ratio", "gathered_ratio"}`` (ratios are dense / needed).
        """
        x = self._check(x)
        shapes = self.kernel_shapes
        dense = count_macs(shapes)
        counts = self.active_counts(x)
        needed = float(np.mean([count_macs(shapes, row) for row in counts])) if len(x) else float(dense)
        if batch_size >= self.dense_from_batch:
            gathered_mean = float(dense)
        elif self.engine == "numba":
            gathered_mean = needed
        else:
            gathered = []
            for start in range(0, len(x), batch_size):
                batch = x[start : start + batch_size]
                gathered.append(count_macs(shapes, self._union_counts(batch)) * len(batch))
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


def sparsify(model, max_active=MAX_ACTIVE, dense_from_batch=DENSE_FROM_BATCH, engine="auto") -> SparseInferenceModel:
    """A ``SparseInferenceModel`` with the weights of a zoo classifier.

    Reads the hidden Dense layers ``hidden_<i>``, their ``hidden_<i>_flip`` sign
    flips when present (folded into the next kernel) and the ``probabilities``
    softmax layer; ``hidden_<i>_l1`` penalties do nothing at inference.

    Args:
        model: a zoo classifier (``rz.build_model`` / ``rz.load``), trained or not.
        max_active, dense_from_batch, engine: see ``SparseInferenceModel``.

    Returns:
        A ``SparseInferenceModel`` (weights copied: later training of ``model`` does
        not change it).

    Example:

    >>> model = rz.load("mnist_rect_l1")
    >>> fast = sparsify(model)
    >>> fast.predict(x_test[:1], batch_size=1).argmax(axis=1)
    """
    from rectifier_zoo.nn.models import hidden_layers  # deferred: imports Keras

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
    return SparseInferenceModel(
        layers, name=model.name, max_active=max_active, dense_from_batch=dense_from_batch, engine=engine
    )

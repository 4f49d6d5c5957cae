"""The arithmetic of sparse inference: the compiled kernel, its NumPy fallback, MAC counts.

``sparse_inference`` (the model, ``sparsify``, the engine choice) calls these:

- the numba kernel (``compiled_kernel``): one call runs a whole network example by
  example, adding only the kernel rows of the non-zero inputs; numba is optional
  and imported, then the kernel compiled, on the first use in a process;
- the NumPy fallback pieces: the gathered product of a batch or of one example
  (the rows of the active inputs only, dense above ``max_active``) and the softmax;
- ``count_macs``: the multiply-adds of a dense or a skipping forward pass.

The activations arrive as integer codes (``sparse_inference._ACTIVATION_CODES``);
the compiled ``_activate`` spells out the same codes.
"""

from __future__ import annotations

import numpy as np

from rectifier_zoo._internal import validation
from rectifier_zoo.errors import ConfigError


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


# ------------------------------------------------------------ compiled kernel


def _forward_kernel(x, weights, w_start, biases, b_start, dims, acts, out):
    """Probabilities of each row of ``x``, adding only the kernel rows of non-zero inputs.

    Plain Python that numba compiles (``compiled_kernel``). All layers' kernels
    live in one flat row-major buffer (row ``j`` of layer ``l`` starts at
    ``w_start[l] + j * dims[l + 1]``), so one call needs no list of arrays;
    ``acts`` holds ``sparse_inference._ACTIVATION_CODES``. One example at a time, so an example's
    result does not depend on the others of the call.
    """
    n_layers = acts.shape[0]
    width = 0
    for l in range(n_layers + 1):
        width = max(width, dims[l])
    h = np.empty(width, np.float32)  # a layer's inputs
    z = np.empty(width, np.float32)  # its outputs
    nonzero = np.empty(width, np.int64)  # indices of the non-zero inputs
    for e in range(x.shape[0]):
        for j in range(dims[0]):
            h[j] = x[e, j]
        for l in range(n_layers):
            n_in, n_out, start = dims[l], dims[l + 1], w_start[l]
            m = 0
            for j in range(n_in):
                if h[j] != 0.0:  # the whole point: a zero input's kernel row is never read
                    nonzero[m] = j
                    m += 1
            for k in range(n_out):
                z[k] = 0.0
            # Four rows per pass over z: a quarter of its loads and stores. Left to
            # right, so the rounding is that of adding the rows one by one.
            i = 0
            while i + 4 <= m:
                j0, j1, j2, j3 = nonzero[i], nonzero[i + 1], nonzero[i + 2], nonzero[i + 3]
                v0, v1, v2, v3 = h[j0], h[j1], h[j2], h[j3]
                r0 = weights[start + j0 * n_out : start + (j0 + 1) * n_out]  # views, not copies
                r1 = weights[start + j1 * n_out : start + (j1 + 1) * n_out]
                r2 = weights[start + j2 * n_out : start + (j2 + 1) * n_out]
                r3 = weights[start + j3 * n_out : start + (j3 + 1) * n_out]
                for k in range(n_out):
                    z[k] = z[k] + v0 * r0[k] + v1 * r1[k] + v2 * r2[k] + v3 * r3[k]
                i += 4
            while i < m:
                j0 = nonzero[i]
                v0 = h[j0]
                r0 = weights[start + j0 * n_out : start + (j0 + 1) * n_out]
                for k in range(n_out):
                    z[k] = z[k] + v0 * r0[k]
                i += 1
            for k in range(n_out):  # the bias last, as Keras adds it
                z[k] += biases[b_start[l] + k]
            if l < n_layers - 1:
                _activate(z[:n_out], h[:n_out], acts[l])
        _softmax_row(z[: dims[n_layers]], out[e])


def _activate(z, h, act):
    """``h = activation(z)`` for one example (``sparse_inference._ACTIVATION_CODES``); compiled with the kernel."""
    for k in range(z.shape[0]):
        t = z[k]
        if act == 1:
            if t < 0.0:  # NaN stays NaN, as with np.maximum
                t = 0.0
        elif act == 2:
            t = np.tanh(t)
        elif act == 3:
            t = 1.0 / (1.0 + np.exp(-t))
        elif act == 4:
            t = max(t, 0.0) + np.log1p(np.exp(-abs(t)))
        h[k] = t


def _softmax_row(z, out):
    """Softmax of one example's logits, in float64; compiled with the kernel."""
    top = -np.inf
    for k in range(z.shape[0]):
        top = max(top, np.float64(z[k]))
    total = 0.0
    for k in range(z.shape[0]):
        total += np.exp(np.float64(z[k]) - top)
    for k in range(z.shape[0]):
        out[k] = np.exp(np.float64(z[k]) - top) / total


_kernel = None  # the compiled _forward_kernel, built on first use


def _import_numba():
    import numba  # optional: pip install numba

    return numba


def compiled_kernel():
    """The numba-compiled ``_forward_kernel`` (compiled lazily), or None without numba."""
    global _kernel
    if _kernel is None:
        try:
            numba = _import_numba()
        except ImportError:
            return None
        _kernel = _compile(numba)
    return _kernel


def _compile(numba):
    """Compile the kernel and its helpers (lazily: numba compiles on the first call).

    The helpers are called by their module names from inside the kernel, so those
    names are bound to their compiled versions first. One thread, and no fast-math
    so the compiler keeps the written order of the additions: each example's rows
    are added one by one in increasing index, the same numbers on every run.
    """
    def jit(fn):
        fn = getattr(fn, "py_func", fn)  # compiled already (a second _compile): start from the source
        try:
            return numba.njit(cache=True, fastmath=False, nogil=True)(fn)
        except RuntimeError:  # no writable cache location: compile in every process instead
            return numba.njit(cache=False, fastmath=False, nogil=True)(fn)

    global _activate, _softmax_row
    _activate, _softmax_row = jit(_activate), jit(_softmax_row)
    return jit(_forward_kernel)


# ------------------------------------------------------------ NumPy fallback


def gathered_product(h, kernel, bias, max_active) -> np.ndarray:
    """``h @ kernel + bias`` for a batch, reading only the rows of inputs active in some example.

    Units that are zero on every example of the batch contribute nothing; when more
    than ``max_active`` of the inputs are active, the dense product is faster.
    """
    active = np.flatnonzero(h[0]) if len(h) == 1 else np.flatnonzero(h.any(axis=0))
    if len(active) <= max_active * h.shape[1]:
        return h[:, active] @ kernel[active] + bias
    return h @ kernel + bias


def gathered_product_one(h, kernel, bias, max_active) -> np.ndarray:
    """``h @ kernel + bias`` for one example as a 1-D vector: the cheapest indexing NumPy offers."""
    active = np.flatnonzero(h)
    if len(active) <= max_active * h.shape[0]:
        z = h[active] @ kernel[active]
    else:
        z = h @ kernel
    z += bias
    return z


def softmax(z):
    """Row-wise softmax of float32 logits ``(n, classes)``, computed in float64, returned as float32."""
    z = z.astype(np.float64)  # float64 like the compiled kernel: both match Keras to float32 rounding
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

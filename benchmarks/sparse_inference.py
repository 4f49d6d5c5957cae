"""Sparse inference: skipping inactive rectifier units vs the dense product of the same model.

Question: on a 3x1000 MNIST-shaped rectifier + L1 net with >= 85% zeros per hidden
layer, how much faster is ``rectifier_zoo.sparse_inference`` (gather the kernel
rows of the active units) than the dense path, at batch 1 and small batches, and
how close is that to the ideal ratio dense MACs / MACs needed?

The sparse model is *constructed*, not trained: ``mnist_rect_l1``'s architecture
with Glorot weights, then each hidden unit's bias set, layer by layer, to minus the
90th percentile of its pre-activation on the data, so each unit is on for about
10% of the examples (what an L1-trained net looks like: many units, each rarely on).
The headline input is synthetic MNIST-like images (19% non-zero pixels, as MNIST's
digits); measured beside it: Fashion-MNIST's real test images when
/usr/share/datasets/fashion-mnist is there (about 50% zero pixels), and dense
input (every feature non-zero), where the first layer, 28% of the MACs, cannot
skip anything.

Baselines, same process: the same NumPy code with skipping off (``sparse=False``,
the "dense path"), and the Keras model's direct call ``model(x)``.

    python -m benchmarks.sparse_inference [--full]
"""

from __future__ import annotations

import gzip
import os
import pathlib
import time

# One BLAS thread for both the sparse and the dense NumPy paths: at batch 1 a matvec
# gains nothing from threads, and on a loaded 2-core machine OpenBLAS's spinning
# threads made timings swing 10x. Set before NumPy loads (run as its own process).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from benchmarks.common import emit, median, parser
from rectifier_zoo.sparse_inference import MAX_ACTIVE

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
ACTIVE_FRACTION = 0.10  # each hidden unit on for ~10% of examples: ~90% zeros


def mnist_like(n, seed=0):
    """Synthetic MNIST-shaped images: 19% non-zero pixels in (0, 1], like MNIST's digits."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, 784), dtype=np.float32) * (rng.random((n, 784)) < 0.19)).astype(np.float32)


def fashion(n):
    """Fashion-MNIST test images in [0, 1] (about 50% zero pixels), or None when absent."""
    if not FASHION.exists():
        return None
    raw = gzip.decompress(FASHION.read_bytes())
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)[:n].astype(np.float32) / 255.0


def sparse_model(x):
    """mnist_rect_l1's net with biases set so each hidden unit is on for ~10% of ``x``."""
    import keras

    import rectifier_zoo as rz
    from rectifier_zoo.models import hidden_layers

    model = rz.build_model("mnist_rect_l1", seed=0)
    h = x
    for dense in hidden_layers(model):
        z = h @ keras.ops.convert_to_numpy(dense.kernel)
        bias = -np.quantile(z, 1.0 - ACTIVE_FRACTION, axis=0).astype(np.float32)
        dense.bias.assign(bias)
        h = np.maximum(z + bias, 0.0)
    return model


def per_example_seconds(paths, x, batch, repeats) -> dict:
    """name -> median over repeats of (seconds to run the path over ``x``) / examples.

    The paths take turns within each repeat, so load drift hits all of them alike.
    """
    out = {name: [] for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            start = time.perf_counter()
            for i in range(0, len(x), batch):
                fn(x[i : i + batch])
            out[name].append((time.perf_counter() - start) / len(x))
    return {name: median(t) for name, t in out.items()}


def measure(model, fast, x, batches, repeats) -> dict:
    import keras

    results = {}
    for batch in batches:
        n = min(len(x), max(200, 8 * batch))
        xs = x[:n]
        # warm up every path once (Keras traces, BLAS spins up threads)
        fast.forward(xs[:batch], True), fast.forward(xs[:batch], False), model(xs[:batch])
        paths = {
            "sparse": lambda b: fast.forward(b, True),
            "dense": lambda b: fast.forward(b, False),
            "keras": lambda b: keras.ops.convert_to_numpy(model(b)),
        }
        t = per_example_seconds(paths, xs, batch, repeats)
        sparse, dense, keras_call = t["sparse"], t["dense"], t["keras"]
        macs = fast.mac_report(xs, batch_size=batch)
        results[str(batch)] = {
            "sparse_us_per_example": sparse * 1e6,
            "dense_numpy_us_per_example": dense * 1e6,
            "keras_call_us_per_example": keras_call * 1e6,
            "speedup_vs_dense": dense / sparse,
            "speedup_vs_keras_call": keras_call / sparse,
            "ideal_ratio": macs["ideal_ratio"],
            "gathered_ratio": macs["gathered_ratio"],
        }
    return results


def check_same(model, fast, x) -> float:
    """Largest |difference| of probabilities, sparse (batch 1 and 7) vs Keras; asserts allclose."""
    import keras

    expected = keras.ops.convert_to_numpy(model(x))
    worst = 0.0
    for batch in (1, 7):
        got = fast.predict(x, batch_size=batch)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def variant(x, batches, repeats) -> dict:
    import rectifier_zoo as rz
    from rectifier_zoo.sparse_inference import sparsify

    model = sparse_model(x)
    fast = sparsify(model)
    stats = rz.sparsity(model, x)
    return {
        "input_nonzero_fraction": float(np.count_nonzero(x) / x.size),
        "sparsity": {k: round(v["zeros"], 4) for k, v in stats.items()},
        "mean_hidden_sparsity": float(np.mean([v["zeros"] for v in stats.values()])),
        "max_abs_probability_difference": check_same(model, fast, x[:200]),
        "batches": measure(model, fast, x, batches, repeats),
    }


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import keras

    keras.utils.set_random_seed(0)
    x = mnist_like(2000)
    repeats = 5 if not args.full else 9
    batches = (1, 4, 16, 64, 256) if not args.full else (1, 2, 4, 8, 16, 32, 64, 128, 256)
    result = {
        "model": "mnist_rect_l1 architecture, biases set for ~90% zeros (constructed, not trained)",
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "max_active": MAX_ACTIVE,
        "mnist_like_input": variant(x, batches, repeats),
        "dense_input": variant(np.random.default_rng(1).random(x.shape, dtype=np.float32), (1, 16), repeats),
    }
    real = fashion(2000)
    if real is not None:
        result["fashion_mnist_input"] = {"source": str(FASHION), **variant(real, (1, 16), repeats)}
    main_runs = result["mnist_like_input"]["batches"]
    b1 = main_runs["1"]
    losing = [int(b) for b, r in main_runs.items() if r["speedup_vs_dense"] < 1.0]
    result["headline"] = {
        "sparse_inference_speedup_bs1": b1["speedup_vs_dense"],
        "sparse_inference_ideal_bs1": b1["ideal_ratio"],
        "sparse_inference_gathered_ratio_bs1": b1["gathered_ratio"],
        "sparse_inference_speedup_vs_keras_call_bs1": b1["speedup_vs_keras_call"],
        "sparse_inference_speedup_bs1_dense_input": result["dense_input"]["batches"]["1"]["speedup_vs_dense"],
        "sparse_inference_ideal_bs1_dense_input": result["dense_input"]["batches"]["1"]["ideal_ratio"],
        "sparse_inference_speedup_by_batch": {b: r["speedup_vs_dense"] for b, r in main_runs.items()},
        "sparse_loses_from_batch": min(losing) if losing else None,
    }
    return emit("sparse_inference", result, save=not args.no_save)


if __name__ == "__main__":
    main()

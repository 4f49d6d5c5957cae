"""Sparse inference on the shipped MNIST model: the compiled skipping kernel vs the dense paths.

Question: on the shipped ``mnist_rect_l1`` and its real test images, how much
faster than the dense Keras paths is ``rectifier_zoo.sparse.inference`` (numba
engine: each example adds only the kernel rows of its non-zero inputs, the input
pixels included) at batch 1 and small batches, how close is that to the ideal
ratio of multiply-adds, and from which batch size does dense win?

Model: ``mnist_rect_l1`` when ``rz.load`` finds it, else the shipped
``fashion_mnist_rect_l1`` (same 784-1000-1000-1000-10 net, real L1 sparsity) as a
stand-in, on its own real test images (Fashion-MNIST's have 50% zero pixels,
MNIST's 81%); the result names the one used.

Baselines, same process, taking turns in every repeat so load drift hits all alike
(each repeat's figure is the median of its calls; the spread is over repeats):
the SavedModel's ``serving_default`` signature (what TF Serving runs; written by
``rz.export`` into a temporary folder) and the direct call ``model(x)``; the
headline speed-up is against the faster of the two at each batch size. Beside
them, the dense NumPy product of the same weights (``sparse=False``): the same
arithmetic without a framework, which says how much of the gain is skipping and
how much is per-call overhead. And the peers a user would pick for fast CPU
inference, converted from that same SavedModel (``benchmarks.peers``): ONNX
Runtime (tf2onnx, opset 17) and LiteRT (XNNPACK); the speed-up against the faster
of the two is reported at every batch size. Every path returns NumPy
probabilities and runs on one thread (TensorFlow intra/inter-op, BLAS, numba,
ONNX Runtime, LiteRT), so the comparison is like for like on the loaded 2-core
benchmark machine. A peer that is not installed is left out; the result names
what to install.

Before timing, the compiled predictions are checked against ``model(x)`` on the
whole test split (same argmax, probabilities within 1e-5), and so are the peers'
(the same class on every test image; their largest probability difference is
recorded).

    python -m benchmarks.sparse_inference [--full]
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time

# One thread everywhere, set before NumPy loads (run as its own process): at small
# batches threads gain little, and on a loaded 2-core machine OpenBLAS's spinning
# threads made timings swing 10x.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from benchmarks import peers
from benchmarks.common import data_dir, emit, median, parser

MODELS = ("mnist_rect_l1", "fashion_mnist_rect_l1")  # the shipped model, then its stand-in
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)


def set_one_thread():
    """TensorFlow on one thread; must run before TensorFlow executes anything."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def load_model():
    """(model, its zoo name): the shipped mnist_rect_l1, else fashion_mnist_rect_l1."""
    import rectifier_zoo as rz
    from rectifier_zoo.errors import ArtifactError

    for name in MODELS:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return rz.load(name), name
        except ArtifactError as error:
            print(f"{name}: {error}", file=sys.stderr)
    raise SystemExit(f"none of {MODELS} is shipped; export one (see README, 'Load and export')")


def test_split(dataset):
    """The real test split of ``dataset``: the shared copy when there, else the zoo's usual sources."""
    import rectifier_zoo as rz

    return rz.datasets.load(dataset, data_dir=data_dir(dataset)).test


def reference(model, x) -> np.ndarray:
    """``model(x)``'s probabilities on all of ``x``, 1000 at a time: what every path must agree with."""
    import keras

    return np.concatenate([keras.ops.convert_to_numpy(model(x[i : i + 1000])) for i in range(0, len(x), 1000)])


def check_same(expected, fast, x, y) -> dict:
    """Compiled vs ``model(x)`` on all of ``x``: asserts the same argmax and probabilities within 1e-5."""
    got = fast.predict(x, batch_size=1)
    mismatched = int(np.count_nonzero(got.argmax(axis=1) != expected.argmax(axis=1)))
    worst = float(np.abs(got - expected).max())
    if mismatched or worst > 1e-5:
        raise SystemExit(f"sparse predictions differ from model(x): {mismatched} argmax, max |diff| {worst:.2e}")
    return {
        "examples": len(x),
        "argmax_mismatches": mismatched,
        "max_abs_probability_difference": worst,
        "test_error": float(np.mean(got.argmax(axis=1) != y)),
    }


def check_peers(expected, peer_paths, x) -> dict:
    """Each peer vs ``model(x)`` on all of ``x``: asserts the same class on every image."""
    out = {}
    for name, fn in peer_paths.items():
        got = np.concatenate([fn(np.ascontiguousarray(x[i : i + 1000])) for i in range(0, len(x), 1000)])
        mismatched = int(np.count_nonzero(got.argmax(axis=1) != expected.argmax(axis=1)))
        if mismatched:
            raise SystemExit(f"{name} predicts another class than model(x) on {mismatched} of {len(x)} images")
        out[name] = {"examples": len(x), "argmax_mismatches": mismatched,
                     "max_abs_probability_difference": float(np.abs(got - expected).max())}
    return out


def dense_paths(model, fast, signature):
    """The baselines: name -> function(batch) returning NumPy probabilities."""
    import keras
    import tensorflow as tf

    return {
        "serving_default": lambda b: signature(features=tf.constant(b))["probabilities"].numpy(),
        "model_call": lambda b: keras.ops.convert_to_numpy(model(b)),
        "numpy_dense": lambda b: fast.forward(b, sparse=False),
    }


def time_paths(paths, x, batch, calls, repeats) -> dict:
    """name -> per-repeat microseconds per example over ``calls`` consecutive batches of ``x``.

    A repeat's figure is the median over its calls: on the loaded machine a call
    that is preempted takes many times longer, and the median ignores it.
    """
    batches = [x[i * batch : (i + 1) * batch] for i in range(calls)]  # distinct real images
    for fn in paths.values():  # warm up: tracing, thread pools, first touch of the weights
        fn(batches[0]), fn(batches[-1])
    out = {name: [] for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            seconds = []
            for b in batches:
                start = time.perf_counter()
                fn(b)
                seconds.append(time.perf_counter() - start)
            out[name].append(median(seconds) / batch * 1e6)
    return out


def spread(values) -> dict:
    return {"median": median(values), "min": float(min(values)), "max": float(max(values))}


def measure(paths, fast, x, batch, repeats) -> dict:
    """One batch size: times of every path, speed-ups (median, min, max over repeats), MAC ratios."""
    calls = max(8, 64 // batch)  # at least 64 examples per path and repeat
    us = time_paths(paths, x, batch, calls, repeats)
    sparse = np.asarray(us["sparse"])
    speedups = {name: spread(np.asarray(t) / sparse) for name, t in us.items() if name != "sparse"}
    baseline = min(("serving_default", "model_call"), key=lambda name: median(us[name]))
    present = [name for name in peers.NEEDS if name in us]
    peer = min(present, key=lambda name: median(us[name])) if present else None
    macs = fast.mac_report(x[: calls * batch], batch_size=batch)
    return {
        "us_per_example": {name: median(t) for name, t in us.items()},
        "baseline": baseline,
        "speedup": speedups[baseline],
        "speedup_vs": speedups,
        "fastest_peer": peer,
        "speedup_vs_fastest_peer": speedups[peer] if peer else None,
        "ideal_ratio": macs["ideal_ratio"],
        "gathered_ratio": macs["gathered_ratio"],  # what the kernel multiplies: the ideal
        "calls_per_repeat": calls,
    }


def first_loss(rows, key) -> int | None:
    """The smallest batch size from which the sparse kernel is slower at every larger size measured."""
    losing = None
    for batch in sorted(rows, key=int, reverse=True):
        if key(rows[batch]) >= 1.0:
            break
        losing = int(batch)
    return losing


def ahead_up_to(rows, key) -> int | None:
    """The largest batch size up to which the sparse kernel is faster at every size measured (None: not at 1)."""
    ahead = None
    for batch in sorted(rows, key=int):
        if key(rows[batch]) <= 1.0:
            break
        ahead = int(batch)
    return ahead


def peer_headline(rows, absent) -> dict:
    """The headline's figures against the fastest peer (ONNX Runtime or LiteRT) at each batch size."""
    if rows["1"]["fastest_peer"] is None:
        return {"sparse_inference_speedup_vs_fastest_peer_bs1": None, "sparse_inference_peers_missing": absent}
    ratio = lambda r: r["speedup_vs_fastest_peer"]["median"]
    return {
        "sparse_inference_speedup_vs_fastest_peer_bs1": ratio(rows["1"]),
        "sparse_inference_fastest_peer_bs1": rows["1"]["fastest_peer"],
        "sparse_inference_speedup_vs_fastest_peer_by_batch": {
            b: {"speedup": ratio(r), "min": r["speedup_vs_fastest_peer"]["min"],
                "max": r["speedup_vs_fastest_peer"]["max"], "peer": r["fastest_peer"],
                **{f"us_per_example_{name}": r["us_per_example"][name] for name in peers.NEEDS
                   if name in r["us_per_example"]}}
            for b, r in rows.items()
        },
        "sparse_inference_ahead_of_peers_up_to_batch": ahead_up_to(rows, ratio),
        "sparse_inference_peers_missing": absent,
    }


def headline(rows, name, absent) -> dict:
    b1 = rows["1"]
    return {
        "sparse_inference_speedup_bs1": b1["speedup"]["median"],
        "sparse_inference_speedup_bs1_spread": b1["speedup"],
        "sparse_inference_ideal_bs1": b1["ideal_ratio"],
        "sparse_inference_gathered_ratio_bs1": b1["gathered_ratio"],
        "sparse_inference_speedup_vs_numpy_dense_bs1": b1["speedup_vs"]["numpy_dense"]["median"],
        "sparse_inference_baseline": b1["baseline"],
        "sparse_inference_model": name,
        "sparse_inference_speedup_by_batch": {
            b: {"speedup": r["speedup"]["median"], "min": r["speedup"]["min"], "max": r["speedup"]["max"],
                "baseline": r["baseline"], "ideal_ratio": r["ideal_ratio"],
                "vs_numpy_dense": r["speedup_vs"]["numpy_dense"]["median"]}
            for b, r in rows.items()
        },
        "sparse_loses_from_batch": first_loss(rows, lambda r: r["speedup"]["median"]),
        "sparse_loses_from_batch_vs_numpy": first_loss(rows, lambda r: r["speedup_vs"]["numpy_dense"]["median"]),
        **peer_headline(rows, absent),
    }


def compiled(model):
    """(the kernel at every batch size, what ``sparsify`` picks by default, seconds to compile or load it)."""
    from rectifier_zoo.sparse import inference as sparse_inference

    auto = sparse_inference.sparsify(model)  # what rz.load(..., sparse_inference=True) returns
    if auto.engine != "numba":
        raise SystemExit(f"numba is not installed: this benchmark measures the compiled kernel; "
                         f"{sparse_inference.INSTALL_HINT}")
    kernel = sparse_inference.sparsify(model, dense_from_batch=math.inf)  # the kernel at every batch size
    started = time.perf_counter()
    kernel.predict(model_input_example(model))  # compiles, or loads numba's on-disk cache
    return kernel, auto, time.perf_counter() - started


def model_input_example(model):
    return np.zeros((1, model.inputs[0].shape[-1]), np.float32)


def timed_rows(model, kernel, x, expected, repeats) -> tuple:
    """Every batch size, every path, in a temporary export: (rows, peers' equality, missing peers, load averages)."""
    import tensorflow as tf

    import rectifier_zoo as rz

    with tempfile.TemporaryDirectory() as root:
        with contextlib.redirect_stdout(sys.stderr):
            version_dir = rz.export(model, root, version=1, verbose=0)
        signature = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
        peer_paths, absent = peers.paths(version_dir)
        for why in absent.values():
            print(f"peer left out: {why}", file=sys.stderr)
        same = check_peers(expected, peer_paths, x)
        paths = {"sparse": lambda b: kernel.forward(b), **dense_paths(model, kernel, signature), **peer_paths}
        before = os.getloadavg()[0]
        rows = {str(b): measure(paths, kernel, x, b, repeats) for b in BATCHES}
        after = os.getloadavg()[0]
    return rows, same, absent, {"before_timing": round(before, 2), "after_timing": round(after, 2)}


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    set_one_thread()
    import rectifier_zoo as rz

    model, name = load_model()
    x, y = test_split(rz.get_spec(name).dataset)
    kernel, auto, compile_seconds = compiled(model)
    expected = reference(model, x)
    same = check_same(expected, kernel, x, y)
    stats = rz.sparsity(model, x[:2000])
    repeats = 7 if not args.full else 15
    rows, same_peers, absent, load = timed_rows(model, kernel, x, expected, repeats)
    for batch, row in rows.items():
        row["auto_path"] = "sparse" if int(batch) < auto.dense_from_batch else "numpy_dense"
    result = {
        "model": name,
        "stand_in": name != MODELS[0],
        "data": f"{rz.get_spec(name).dataset} test split, {len(x)} real images",
        "input_zero_fraction": float(1.0 - np.count_nonzero(x) / x.size),
        "hidden_zero_fraction": {k: round(v["zeros"], 4) for k, v in stats.items()},
        "threads": {"tensorflow_intra_op": 1, "tensorflow_inter_op": 1,
                    "blas": os.environ.get("OPENBLAS_NUM_THREADS"), "numba": "1 (no parallel loops)",
                    "onnxruntime": "intra_op 1, inter_op 1, sequential", "litert": "num_threads=1 (XNNPACK)"},
        "peers": {"onnxruntime": f"tf2onnx from the SavedModel, opset {peers.OPSET}, CPUExecutionProvider",
                  "litert": "tf.lite.TFLiteConverter.from_saved_model, ai_edge_litert Interpreter",
                  "missing": absent},
        "engine": kernel.engine,
        "dense_from_batch": auto.dense_from_batch,
        "compile_or_cache_load_seconds": compile_seconds,
        "repeats": repeats,
        "load_average_1m": load,
        "equality": {**same, "peers": same_peers},
        "batches": rows,
        "headline": headline(rows, name, absent),
    }
    return emit("sparse_inference", result, save=not args.no_save)


if __name__ == "__main__":
    main()

"""Training on JAX against TensorFlow: mnist_rect_l1 by the paper's plain SGD, seconds per epoch, one thread and two.

Question: is the JAX backend faster than TensorFlow at training the zoo's
networks on a CPU, at the paper's batch of 10 and at 100, with one thread and with
two? And does the zoo's training path (``training.compile_model`` + ``model.fit``:
fused steps, XLA) still beat the same network written the obvious way in Keras
(Sequential Dense layers with an L1 activity regulariser, SGD, compile defaults)
on each backend?

Each (backend, threads) pair runs in its own process (the backend is chosen when
Keras is imported; the thread count before the backend starts): CPU affinity set to
that many cores (XLA and TensorFlow size their thread pools by it), TensorFlow's
intra- and inter-op threads, BLAS's and, at one thread, XLA's Eigen threading off.
Inside a process the zoo's path and plain Keras take turns, one epoch each, after
an untimed warm-up epoch (tracing): that ratio is like for like. Across backends
the processes run in the order TF-1, JAX-1, TF-2, JAX-2, then backwards, so slow
drift of the shared machine's load falls on both alike; each process records the
load average.

Between the epochs each process also times the same epoch's training matmuls in
NumPy (BLAS on the same threads; ``reference``): a yardstick with no backend in
it. The JAX/TF speed-up compares each backend's epoch against the yardstick timed
in its own process just before it, so the machine's load at the moment cancels;
the raw seconds per epoch are reported beside it.

An "epoch" here is the first N real MNIST training images (quick: 2,000 at batch
10, 6,000 at batch 100); seconds per epoch are projected to the full 50,000. With
``--cifar10``, one real epoch of ``cifar10_rect_l1`` (3072-1000-1000-1000-10) on
the whole CIFAR-10 training split, on each backend, two threads: the zoo's path.

    python -m benchmarks.train_backends [--full] [--cifar10]
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

from benchmarks.common import data_dir, data_label, emit, median, parser

ENTRY = "mnist_rect_l1"
CIFAR_ENTRY = "cifar10_rect_l1"
FULL_EPOCH = 50_000  # MNIST's training split, the paper's
BACKENDS = ("tensorflow", "jax")


def threads_env(backend, threads) -> dict:
    """The environment a child starts with: the backend, and its thread count before anything loads."""
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2",
           "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if threads == 1:  # XLA's CPU matmuls otherwise use Eigen's pool of one thread per core
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                            " intra_op_parallelism_threads=1").strip()
    return env


def pin(threads) -> list:
    """Affinity to ``threads`` cores (the last ones), and TensorFlow's pools to match; the cores used."""
    cores = sorted(os.sched_getaffinity(0))[-threads:]
    os.sched_setaffinity(0, cores)
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return cores


def plain_keras(spec):
    """The entry's network written the obvious way: Sequential, L1 on the codes, SGD, compile defaults."""
    import keras

    l1 = keras.regularizers.L1(spec.l1) if spec.l1 else None
    model = keras.Sequential(
        [keras.Input((spec.input_dim,))]
        + [keras.layers.Dense(h, activation="relu", activity_regularizer=l1) for h in spec.hidden]
        + [keras.layers.Dense(spec.num_classes, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.SGD(spec.recipe.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def library(spec, batch):
    """The zoo's model and compile, as ``training.fit`` does for a full epoch at ``batch``."""
    import dataclasses

    import rectifier_zoo as rz
    from rectifier_zoo.training.fit import compile_model

    model = rz.build_model(spec.name, seed=0)
    compile_model(model, dataclasses.replace(spec.recipe, batch_size=batch), FULL_EPOCH)
    return model


def epoch_seconds(model, x, y, batch) -> float:
    """Seconds of one epoch of ``model.fit`` (on_epoch_begin to on_epoch_end: no set-up)."""
    from benchmarks.train_throughput import EpochTimer

    timer = EpochTimer()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0, callbacks=[timer])
    return timer.seconds[-1]


def reference(shapes, batch):
    """``x -> seconds``: the training matmuls of one epoch in NumPy (BLAS, same threads), a backend-free yardstick.

    Per layer and step: forward ``h @ W``, weight gradient ``h.T @ dz`` and input
    gradient ``dz @ W.T``; no framework, loss or optimizer. Timed in the same process
    between the Keras epochs, so the ratio of a backend's epoch to it cancels the
    load of the moment: two backends' processes compare through it. Always one BLAS
    thread (threadpoolctl, which scikit-learn brings): on the loaded machine two
    OpenBLAS threads spin and made the yardstick itself swing 10x.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(shape, dtype=np.float32) * 0.03 for shape in shapes]

    def run(x):
        with threadpool_limits(limits=1, user_api="blas"):
            return epoch(x)

    def epoch(x):
        started = time.perf_counter()
        for i in range(0, len(x) - batch + 1, batch):
            h, acts = x[i : i + batch], []
            for w in weights:
                acts.append(h)
                h = np.maximum(h @ w, 0.0)
            dz = h
            for w, a in zip(reversed(weights), reversed(acts)):
                a.T @ dz
                dz = dz @ w.T
        return time.perf_counter() - started

    return run


def mnist_train(n):
    import rectifier_zoo as rz

    x, y = rz.datasets.load("mnist", data_dir=data_dir("mnist")).train
    return x[:n], y[:n]


def child_mnist(threads, plan, rounds) -> dict:
    """One (backend, threads) process: zoo path vs plain Keras, interleaved, per batch size."""
    cores = pin(threads)  # before Keras starts its backend
    import keras

    import rectifier_zoo as rz

    keras.utils.set_random_seed(0)
    spec = rz.get_spec(ENTRY)
    x_all, y_all = mnist_train(max(plan.values()))
    out = {"backend": keras.backend.backend(), "threads": threads, "cores": cores, "batches": {}}
    for batch, n in plan.items():
        x, y = x_all[:n], y_all[:n]
        models = {"library": library(spec, batch), "keras_plain": plain_keras(spec)}
        for model in models.values():
            epoch_seconds(model, x, y, batch)  # warm-up: tracing, compiling
        numpy_epoch = reference([w.shape for w in models["keras_plain"].weights if len(w.shape) == 2], batch)
        seconds = {name: [] for name in (*models, "numpy_reference")}
        for _ in range(rounds):
            for name, model in models.items():
                seconds["numpy_reference"].append(numpy_epoch(x))  # one before each Keras epoch
                seconds[name].append(epoch_seconds(model, x, y, batch))
        ref = seconds["numpy_reference"]
        out["batches"][str(batch)] = {
            "examples": n,
            **{name: {"seconds_per_full_epoch": median(s) * FULL_EPOCH / n, "samples": s,
                      # each epoch against the NumPy yardstick timed just before it
                      "vs_numpy_reference": median([r / t for r, t in zip(ref[i::2], s)]) if name in models else None}
               for i, (name, s) in enumerate(seconds.items())},
            "library_vs_keras_plain": median([p / q for p, q in zip(seconds["keras_plain"], seconds["library"])]),
        }
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    return out


def child_cifar10(threads) -> dict:
    """One real epoch of cifar10_rect_l1 on the whole training split, the zoo's path, after a short warm-up."""
    cores = pin(threads)  # before Keras starts its backend
    import keras

    import rectifier_zoo as rz

    keras.utils.set_random_seed(0)
    spec = rz.get_spec(CIFAR_ENTRY)
    x, y = rz.datasets.load("cifar10", data_dir=data_dir("cifar10")).train
    model = library(spec, spec.recipe.batch_size)
    epoch_seconds(model, x[:1000], y[:1000], spec.recipe.batch_size)  # tracing, compiling
    load_before = os.getloadavg()[0]
    seconds = epoch_seconds(model, x, y, spec.recipe.batch_size)
    return {"backend": keras.backend.backend(), "threads": threads, "cores": cores, "examples": len(x),
            "batch_size": spec.recipe.batch_size, "epoch_seconds": seconds, "data": data_label("cifar10"),
            "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}}


# ------------------------------------------------------------------- parent


def run_child(backend, threads, args) -> dict:
    cmd = [sys.executable, "-W", "ignore", "-m", "benchmarks.train_backends", "--child", str(threads)]
    cmd += ["--cifar10"] if args.cifar10 else []
    cmd += ["--full"] if args.full else []
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=threads_env(backend, threads), timeout=3600,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{backend} with {threads} thread(s) failed: {done.stderr.strip()[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": time.perf_counter() - started}


def compare(passes, backends) -> dict:
    """Per threads and batch: each backend's seconds per epoch (median over passes) and JAX's speed-up over TF."""
    out = {}
    for threads in (1, 2):
        for batch in passes[0][(backends[0], threads)]["batches"]:
            row = {}
            for backend in backends:
                runs = [p[(backend, threads)]["batches"][batch] for p in passes]
                row[backend] = {name: median([r[name]["seconds_per_full_epoch"] for r in runs])
                                for name in ("library", "keras_plain")}
                row[backend]["library_vs_keras_plain"] = median([r["library_vs_keras_plain"] for r in runs])
            if "jax" in row and "tensorflow" in row:
                row["jax_speedup_over_tensorflow"] = jax_over_tf(passes, threads, batch)
            out[f"bs{batch}_threads{threads}"] = row
    return out


def jax_over_tf(passes, threads, batch) -> dict:
    """JAX's speed-up over TensorFlow per path: each backend's epoch against the NumPy yardstick of its own
    process (so the load of the moment cancels), JAX's ratio over TF's, median over passes."""
    def ratio(p, backend, name):
        return p[(backend, threads)]["batches"][batch][name]["vs_numpy_reference"]

    def seconds(p, backend, name):
        return p[(backend, threads)]["batches"][batch][name]["seconds_per_full_epoch"]

    out = {name: median([ratio(p, "jax", name) / ratio(p, "tensorflow", name) for p in passes])
           for name in ("library", "keras_plain")}
    # the raw ratio of seconds, per pass (neighbouring processes, no yardstick), for comparison
    out["library_raw"] = median([seconds(p, "tensorflow", "library") / seconds(p, "jax", "library") for p in passes])
    return out


def headline(table) -> dict:
    out = {}
    for key, row in table.items():
        for backend in BACKENDS:
            if backend in row:
                out[f"train_{backend}_seconds_per_epoch_{key}"] = row[backend]["library"]
                out[f"train_{backend}_library_vs_keras_plain_{key}"] = row[backend]["library_vs_keras_plain"]
        if "jax_speedup_over_tensorflow" in row:
            out[f"train_jax_speedup_over_tensorflow_{key}"] = row["jax_speedup_over_tensorflow"]["library"]
            out[f"train_jax_speedup_over_tensorflow_raw_{key}"] = row["jax_speedup_over_tensorflow"]["library_raw"]
    return out


def main_mnist(args, backends) -> dict:
    order = [(b, t) for t in (1, 2) for b in backends]
    passes = []
    for pass_order in (order, order[::-1]):  # ABBA: linear drift falls on both backends alike
        passes.append({(b, t): run_child(b, t, args) for b, t in pass_order})
    table = compare(passes, backends)
    return {"entry": ENTRY, "data": f"{data_label('mnist')} training images", "full_epoch_examples": FULL_EPOCH,
            "table": table, "runs": [{f"{b}_{t}": r for (b, t), r in p.items()} for p in passes],
            "headline": headline(table)}


def main_cifar10(args, backends) -> dict:
    runs = {b: run_child(b, 2, args) for b in backends}
    out = {"entry": CIFAR_ENTRY, "data": f"{data_label('cifar10')} training split", "runs": runs}
    out["headline"] = {f"cifar10_epoch_seconds_{b}": r["epoch_seconds"] for b, r in runs.items()}
    if len(runs) == 2:
        out["headline"]["cifar10_jax_speedup_over_tensorflow"] = (runs["tensorflow"]["epoch_seconds"]
                                                                  / runs["jax"]["epoch_seconds"])
    return out


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--cifar10", action="store_true", help="one real CIFAR-10 epoch per backend instead")
    p.add_argument("--child", type=int, help=argparse_hidden())
    args = p.parse_args(argv)
    if args.child:
        plan = {10: 2000, 100: 6000} if not args.full else {10: 10000, 100: 25000}
        out = child_cifar10(args.child) if args.cifar10 else child_mnist(args.child, plan, 3 if not args.full else 5)
        print(json.dumps(out))
        return None
    backends = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    load_before = os.getloadavg()[0]
    result = main_cifar10(args, backends) if args.cifar10 else main_mnist(args, backends)
    result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return emit("train_backends_cifar10" if args.cifar10 else "train_backends", result, save=not args.no_save)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()

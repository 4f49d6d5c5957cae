"""SparsityCallback overhead per epoch, and the cost of pre-training per layer.

Questions:

1. What fraction of a 50k-example MNIST epoch (the paper's batch 10, and batch
   100) does ``SparsityCallback`` (default sample: 1000 validation examples) add?
   Its per-call time is measured directly (``on_epoch_end`` on the 3x1000 net,
   median of calls after the first, which builds the probe model once); the epoch
   time of 50k examples is extrapolated from the library path's measured
   throughput on a shorter epoch (examples/s is flat in epoch length once traced).
   As a cross-check, a short fit with and without the callback is timed too.
2. Pre-training: seconds per epoch per layer of ``pretraining.pretrain`` (greedy
   DAE), extrapolated to 50k examples, and the same DAE fit compiled with
   ``steps_per_execution`` (what ``pretraining.py`` does not set) for comparison.

    python -m benchmarks.callback_overhead [--full]
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import emit, median, parser

EPOCH = 50_000


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


def library_model(batch, n_train):
    import rectifier_zoo as rz
    from rectifier_zoo.training.fit import compile_model
    from rectifier_zoo.training.recipes import Recipe

    model = rz.build_model("mnist_rect_l1", seed=0)
    compile_model(model, Recipe(batch_size=batch), n_train)
    return model


def callback_seconds(model, xv, calls) -> dict:
    """First-call and median later-call seconds of SparsityCallback.on_epoch_end."""
    from rectifier_zoo.nn.callbacks import SparsityCallback

    cb = SparsityCallback(xv, sample_size=1000)
    cb.set_model(model)
    start = time.perf_counter()
    cb.on_epoch_end(0, {})
    first = time.perf_counter() - start
    later = []
    for epoch in range(1, calls + 1):
        start = time.perf_counter()
        cb.on_epoch_end(epoch, {})
        later.append(time.perf_counter() - start)
    return {"first_call_seconds": first, "call_seconds": median(later), "calls": calls}


def epoch_seconds(model, x, y, batch, rounds, callbacks=()) -> float:
    """Median seconds of one fit epoch (``fit`` call set-up included)."""
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=list(callbacks))  # warm-up
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=list(callbacks))
        out.append(time.perf_counter() - start)
    return median(out)


def callback_overhead(full) -> dict:
    from rectifier_zoo.nn.callbacks import SparsityCallback

    xv, _ = data(10_000, seed=1)
    out = {}
    for batch, n in ((10, 3000 if not full else 10_000), (100, 10_000 if not full else 50_000)):
        x, y = data(n)
        model = library_model(batch, n)
        rounds = 3 if not full else 5
        plain = epoch_seconds(model, x, y, batch, rounds)
        cb = callback_seconds(model, xv, calls=5 if not full else 15)
        with_cb = epoch_seconds(model, x, y, batch, rounds, [SparsityCallback(xv, sample_size=1000)])
        per_example = plain / n
        out[str(batch)] = {
            **cb,
            "measured_epoch_examples": n,
            "measured_epoch_seconds": plain,
            "extrapolated_epoch_seconds_50k": per_example * EPOCH,
            "overhead_fraction_50k": cb["call_seconds"] / (per_example * EPOCH),
            "first_epoch_overhead_fraction_50k": cb["first_call_seconds"] / (per_example * EPOCH),
            "cross_check_short_epoch_with_callback_ratio": with_cb / plain,
            "cross_check_expected_ratio": (plain + cb["call_seconds"]) / plain,
        }
    return out


def dae_fit_seconds(x, units, batch, spe, rounds) -> float:
    """Median seconds of one epoch of one DAE layer, compiled as pretraining.py does (+ spe)."""
    import keras

    from rectifier_zoo.nn.layers import TiedDenseAutoencoder

    ae = TiedDenseAutoencoder(units, activation="rect", l1=0.001, seed=0)
    net = keras.Sequential([keras.Input((x.shape[1],)), ae])
    net.compile(optimizer=keras.optimizers.SGD(0.01), steps_per_execution=spe)
    net.fit(x, epochs=1, batch_size=batch, verbose=0)  # warm-up: tracing
    return epoch_seconds_unsupervised(net, x, batch, rounds)


def epoch_seconds_unsupervised(net, x, batch, rounds):
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        net.fit(x, epochs=1, batch_size=batch, verbose=0)
        out.append(time.perf_counter() - start)
    return median(out)


def pretraining_cost(full) -> dict:
    """Seconds per epoch per layer of the greedy DAE pre-training, at batch 10."""
    import rectifier_zoo as rz
    from rectifier_zoo.training.pretraining import pretrain
    from rectifier_zoo.training.recipes import PretrainConfig

    n = 2000 if not full else 10_000
    x, _ = data(n, seed=2)
    model = rz.build_model("mnist_rect_l1_dae", seed=0)
    report = pretrain(model, x, PretrainConfig(epochs=1, batch_size=10), verbose=0)
    layers = {
        r["layer"]: {
            "seconds_one_epoch_incl_evaluation": r["seconds"],
            "extrapolated_seconds_per_epoch_50k": r["seconds"] * EPOCH / n,
        }
        for r in report
    }
    rounds = 2 if not full else 4
    shapes = {"hidden_1": 784, "hidden_2": 1000, "hidden_3": 1000}
    per_shape = {}
    for width in sorted(set(shapes.values())):
        xs = x if width == 784 else np.random.default_rng(3).random((n, width), dtype=np.float32)
        spe1 = dae_fit_seconds(xs, 1000, 10, 1, rounds)  # pretraining.py compiles without spe
        spe100 = dae_fit_seconds(xs, 1000, 10, 100, rounds)
        per_shape[width] = {"spe1": spe1, "spe100": spe100}
    for layer, width in shapes.items():
        t = per_shape[width]
        layers[layer].update({
            "epoch_seconds_after_tracing": t["spe1"],
            "extrapolated_fit_seconds_per_epoch_50k": t["spe1"] * EPOCH / n,
            "extrapolated_fit_seconds_per_epoch_50k_spe100": t["spe100"] * EPOCH / n,
        })
    return {
        "examples": n,
        "batch_size": 10,
        "layers": layers,
        "note": "seconds_one_epoch_incl_evaluation is pretrain()'s own per-layer time: one epoch plus "
                "the reconstruction error before/after, the next layer's codes and TF tracing of a new "
                "Sequential; extrapolated_fit_seconds_per_epoch_50k is the DAE fit epoch alone, traced",
        "dae_speedup_with_steps_per_execution_100": {
            str(w): t["spe1"] / t["spe100"] for w, t in per_shape.items()
        },
    }


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import keras

    keras.utils.set_random_seed(0)
    cb = callback_overhead(args.full)
    result = {
        "model": "mnist_rect_l1 (784-1000-1000-1000-10); sample 1000 of 10k validation examples",
        "sparsity_callback": cb,
        "pretraining": pretraining_cost(args.full),
    }
    result["headline"] = {
        "sparsity_callback_overhead": cb["10"]["overhead_fraction_50k"],
        "sparsity_callback_overhead_bs100": cb["100"]["overhead_fraction_50k"],
        "sparsity_callback_call_seconds": cb["10"]["call_seconds"],
        "pretraining_seconds_per_epoch_per_layer_50k": {
            k: v["extrapolated_fit_seconds_per_epoch_50k"] for k, v in result["pretraining"]["layers"].items()
        },
        "pretraining_speedup_with_steps_per_execution_100": result["pretraining"][
            "dae_speedup_with_steps_per_execution_100"],
    }
    return emit("callback_overhead", result, save=not args.no_save)


if __name__ == "__main__":
    main()

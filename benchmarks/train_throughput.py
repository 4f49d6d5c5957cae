"""Training throughput of the 3x1000 MNIST-shaped net: library path vs plain Keras vs the matmul limit.

Question: how many examples per second does ``training.fit``'s path train (it is
``training.compile_model`` + ``model.fit``), at batch 10 (the paper's) and 100,
against (a) the same architecture written the obvious way in Keras (Sequential,
SGD, compile defaults: no steps_per_execution) and (b) the limit set by this
machine's matmul rate times the model's FLOPs per example (forward + backward =
3 x 2 x MACs). Alternative configurations of the library model are measured in
the same process to find the best default (steps_per_execution, XLA, tf.data).

Each configuration is warmed up (tracing), then the configurations are timed in
interleaved rounds, one epoch each (seconds from on_epoch_begin to on_epoch_end),
so slow drift of the shared machine's load hits every one alike; medians reported.

    python -m benchmarks.train_throughput [--full]
"""

from __future__ import annotations

import itertools
import time

from benchmarks.common import emit, median, parser

INPUT_DIM, HIDDEN, CLASSES = 784, (1000, 1000, 1000), 10


def kernel_shapes():
    return list(itertools.pairwise((INPUT_DIM, *HIDDEN, CLASSES)))


def flops_per_example() -> int:
    """Forward + backward of the dense layers: 3 matmuls of 2 FLOPs per MAC each."""
    return 3 * 2 * sum(a * b for a, b in kernel_shapes())


class EpochTimer:
    """A Keras callback keeping the wall time of each epoch (excludes fit's set-up)."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        return _Timer()


def matmul_limit(batch, steps=50):
    """A function timing exactly the training matmuls of ``steps`` steps at ``batch``, in one graph.

    Per layer: forward ``x @ W``, weight gradient ``x^T @ dz`` and input gradient
    ``dz @ W^T`` (Keras skips the last for the first layer; it is run here so the
    FLOP count is exactly the 3 x 2 x MACs convention). No optimizer, loss or data
    pipeline: the rate no training loop at this batch can beat. The returned
    function runs the loop once and gives examples per second at that rate; it is
    called once per round, between the configurations, so it sees the same load.
    """
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(0)
    weights = [tf.Variable(rng.normal((a, b)) * 0.03) for a, b in kernel_shapes()]
    x0 = rng.normal((batch, INPUT_DIM))

    @tf.function
    def run(x0):
        def body(i, acc):
            h, acts = x0 + tf.cast(i, tf.float32) * 1e-6, []
            for w in weights:
                acts.append(h)
                h = tf.nn.relu(tf.matmul(h, w))
            dz = h
            for w, a in zip(reversed(weights), reversed(acts)):
                acc += tf.reduce_sum(tf.matmul(a, dz, transpose_a=True)[0])
                dz = tf.matmul(dz, w, transpose_b=True)
            return i + 1, acc + tf.reduce_sum(dz[0])

        return tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), tf.constant(0.0)))[1]

    run(x0).numpy()  # trace

    def examples_per_second():
        start = time.perf_counter()
        run(x0).numpy()
        return batch * steps / (time.perf_counter() - start)

    return examples_per_second


def square_matmul_rate(n=2048, repeats=5) -> float:
    """FLOP/s of a large square float32 matmul (the machine's peak-ish dense rate)."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)[0]))
    f(a, b).numpy()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(a, b).numpy()
        seconds.append(time.perf_counter() - start)
    return 2 * n**3 / median(seconds)


def plain_keras(batch, n_train):
    """The architecture written the obvious way: Sequential Dense, SGD, compile defaults."""
    import keras

    model = keras.Sequential(
        [keras.Input((INPUT_DIM,))]
        + [keras.layers.Dense(h, activation="relu") for h in HIDDEN]
        + [keras.layers.Dense(CLASSES, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def library(batch, n_train, **compile_overrides):
    """The library's model and compile call (``training.compile_model``), as ``training.fit`` does."""
    import keras

    import rectifier_zoo as rz
    from rectifier_zoo.training.fit import compile_model
    from rectifier_zoo.training.recipes import Recipe

    model = rz.build_model("mnist_rect", seed=0)
    recipe = Recipe(batch_size=batch)
    compile_model(model, recipe, n_train)
    if compile_overrides:  # the same compile with one setting changed
        spe = compile_overrides.pop("steps_per_execution", model.steps_per_execution)
        model.compile(
            optimizer=keras.optimizers.SGD(recipe.learning_rate, momentum=recipe.momentum),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=spe,
            **compile_overrides,
        )
    return model


def configurations(batch, n_train, full):
    """name -> (model factory, input kind). The first two are the compared pair."""
    from rectifier_zoo.training.compilation import steps_per_execution

    lib_spe = steps_per_execution(batch, n_train)
    epoch_steps = -(-n_train // batch)
    configs = {
        "library": (lambda: library(batch, n_train), "numpy"),
        "keras_plain": (lambda: plain_keras(batch, n_train), "numpy"),
        "library_spe1": (lambda: library(batch, n_train, steps_per_execution=1), "numpy"),
        "library_spe4x": (lambda: library(batch, n_train, steps_per_execution=4 * lib_spe), "numpy"),
        "library_jit": (lambda: library(batch, n_train, jit_compile=True), "numpy"),
        "library_tfdata": (lambda: library(batch, n_train), "tfdata"),
    }
    if full:
        configs["library_spe_epoch"] = (lambda: library(batch, n_train, steps_per_execution=epoch_steps), "numpy")
        configs["library_jit_tfdata"] = (lambda: library(batch, n_train, jit_compile=True), "tfdata")
        configs["keras_plain_tfdata"] = (lambda: plain_keras(batch, n_train), "tfdata")
    return configs


def tf_dataset(x, y, batch):
    """In-memory tf.data pipeline: shuffled each epoch, batched, prefetched."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def measure_batch(batch, n_train, rounds, full) -> dict:
    """Examples per second of each configuration at ``batch`` (median over rounds)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((n_train, INPUT_DIM), dtype=np.float32)
    y = rng.integers(0, CLASSES, n_train).astype(np.int64)
    runs, limit_rates = {}, []
    limit = matmul_limit(batch)
    for name, (factory, kind) in configurations(batch, n_train, full).items():
        model, timer = factory(), EpochTimer()
        data = (tf_dataset(x, y, batch),) if kind == "tfdata" else (x, y)
        kwargs = {} if kind == "tfdata" else {"batch_size": batch, "shuffle": True}
        model.fit(*data, epochs=1, verbose=0, callbacks=[timer], **kwargs)  # warm-up: tracing
        runs[name] = (model, timer, data, kwargs)
    for _ in range(rounds):
        limit_rates.append(limit())
        for model, timer, data, kwargs in runs.values():
            model.fit(*data, epochs=1, verbose=0, callbacks=[timer], **kwargs)
        limit_rates.append(limit())
    rate = median(limit_rates)
    out = {"matmul_limit": {
        "examples_per_second": rate,
        "flops_per_second": rate * flops_per_example(),
        "samples": [round(r, 1) for r in limit_rates],
    }}
    for name, (model, timer, _, _) in runs.items():
        timed = timer.seconds[1:]
        out[name] = {
            "examples_per_second": n_train / median(timed),
            "epoch_seconds": [round(s, 4) for s in timed],
            "steps_per_execution": int(model.steps_per_execution),
            "jit_compile": bool(model.jit_compile),
        }
    return out


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import keras

    keras.utils.set_random_seed(0)
    # (batch, examples per epoch): an epoch of a few seconds per configuration.
    plan = {10: 2000, 100: 6000} if not args.full else {10: 10000, 100: 30000}
    rounds = 4 if not args.full else 7
    result = {"model": "mnist_rect (784-1000-1000-1000-10)", "flops_per_example": flops_per_example(),
              "square_matmul_flops_per_second": square_matmul_rate(), "batches": {}}
    for batch, n_train in plan.items():
        configs = measure_batch(batch, n_train, rounds, args.full)
        limit = configs.pop("matmul_limit")
        base = configs["keras_plain"]["examples_per_second"]
        for cfg in configs.values():
            cfg["vs_keras_plain"] = cfg["examples_per_second"] / base
            cfg["fraction_of_matmul_limit"] = cfg["examples_per_second"] / limit["examples_per_second"]
        best = max(configs, key=lambda k: configs[k]["examples_per_second"])
        result["batches"][str(batch)] = {
            "examples_per_epoch": n_train,
            "matmul_limit": limit,
            "configurations": configs,
            "best": best,
        }
    b10, b100 = result["batches"]["10"], result["batches"]["100"]
    result["headline"] = {
        "train_speedup_vs_keras_bs10": b10["configurations"]["library"]["vs_keras_plain"],
        "train_speedup_vs_keras_bs100": b100["configurations"]["library"]["vs_keras_plain"],
        "train_fraction_of_matmul_limit_bs10": b10["configurations"]["library"]["fraction_of_matmul_limit"],
        "train_fraction_of_matmul_limit_bs100": b100["configurations"]["library"]["fraction_of_matmul_limit"],
        "keras_plain_fraction_of_matmul_limit_bs10": b10["configurations"]["keras_plain"]["fraction_of_matmul_limit"],
        "keras_plain_fraction_of_matmul_limit_bs100": b100["configurations"]["keras_plain"]["fraction_of_matmul_limit"],
        "best_configuration_bs10": b10["best"],
        "best_configuration_bs100": b100["best"],
    }
    return emit("train_throughput", result, save=not args.no_save)


if __name__ == "__main__":
    main()

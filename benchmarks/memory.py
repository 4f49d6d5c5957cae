"""Peak memory (RSS) of training each dataset's entries, one fresh subprocess per shape.

Question: how much memory does a training run of each dataset shape need, with
in-memory data of the real split sizes, and does the largest dataset fit in 4 GiB?

Each shape runs in its own Python process (peak RSS is per process and never
goes down): random float32 splits of the real sizes, the entry's model, the
library's compile (``training.compile_model``) and a short ``model.fit`` with
validation data and the ``SparsityCallback`` (``steps_per_epoch`` capped so it is
short: the peak comes from the data and the pipeline Keras builds over it, not
from the number of steps), then the test-set predict and sparsity that
``training.fit`` ends with. The dataset *loaders* are measured by another
engineer; here the load's peak is estimated from the array sizes (float32
features + int64 labels, plus the uint8 source images alive during conversion).

With ``--load`` (and in every full run of this module): the peak memory of
``rz.load`` plus ``predict`` on the largest shipped entry (the biggest ``.keras``
file in ``exports/``), a fresh process per installed Keras backend: RSS after the
imports, after the load, and the peak once ``predict`` has run over a test-sized
batch of inputs (random: memory does not depend on the values).

    python -m benchmarks.memory [--full] [--load]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.common import emit, parser

GIB = 1024**3
MIB = 1024**2
TEST_EXAMPLES = 10_000  # predict over a test split's worth of rows
# entry -> (features, train, valid, test, source bytes per feature while loading)
SHAPES = {
    "mnist_rect_l1": (784, 50_000, 10_000, 10_000, 1),
    "shapeset_rect_l1": (1024, 10_000, 10_000, 10_000, 0),
    "cifar10_rect_l1": (3072, 50_000, 5_000, 5_000, 1),
    "norb_rect_l1": (2048, 20_000, 4_300, 24_300, 1),
}


def rss_now() -> int:
    """Current resident set size in bytes (Linux /proc)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def rss_peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(entry, steps) -> dict:
    """Run in the subprocess: a short training run of ``entry`` on data of the real sizes."""
    import numpy as np

    import rectifier_zoo as rz
    from rectifier_zoo.nn.callbacks import SparsityCallback
    from rectifier_zoo.training.fit import compile_model, error_rate
    from rectifier_zoo.training.recipes import Recipe

    width, n_train, n_valid, n_test, _ = SHAPES[entry]
    spec = rz.get_spec(entry, tuned=False)
    model = rz.build_model(entry, seed=0)
    after_import = rss_now()
    rng = np.random.default_rng(0)

    def split(n):
        return rng.random((n, width), dtype=np.float32), rng.integers(0, spec.num_classes, n).astype(np.int64)

    (x, y), (xv, yv), (xt, yt) = split(n_train), split(n_valid), split(n_test)
    after_data = rss_now()
    recipe = Recipe(batch_size=10)
    compile_model(model, recipe, n_train)
    model.fit(
        x, y, batch_size=recipe.batch_size, epochs=1, steps_per_epoch=steps, validation_data=(xv, yv),
        validation_steps=5, callbacks=[SparsityCallback(xv, sample_size=1000)], shuffle=True, verbose=0,
    )
    after_fit, peak_fit = rss_now(), rss_peak()
    error_rate(model, xt, yt)
    after_predict, peak_predict = rss_now(), rss_peak()
    rz.sparsity(model, xt)  # keeps every hidden code of the test split, then concatenates
    data_bytes = sum(a.nbytes for a in (x, y, xv, yv, xt, yt))
    return {
        "entry": entry,
        "features": width,
        "hidden": list(spec.hidden),
        "parameters": int(model.count_params()),
        "data_bytes": data_bytes,
        "rss_after_import_and_model_mib": after_import / MIB,
        "rss_after_data_mib": after_data / MIB,
        "rss_after_fit_mib": after_fit / MIB,
        "peak_rss_during_fit_mib": peak_fit / MIB,
        "rss_after_test_predict_mib": after_predict / MIB,
        "peak_rss_during_test_predict_mib": peak_predict / MIB,
        "test_codes_mib": n_test * sum(spec.hidden) * 4 / MIB,
        "peak_rss_mib": rss_peak() / MIB,
        "peak_over_data": (rss_peak() - after_import) / data_bytes,
        "fit_steps": steps,
    }


def load_estimate(entry) -> dict:
    """Peak of loading the dataset, estimated from array sizes (not measured here)."""
    width, n_train, n_valid, n_test, source = SHAPES[entry]
    n = n_train + n_valid + n_test
    floats = n * width * 4 + n * 8
    peak = floats + n * width * source  # uint8 images alive while converting to float32
    return {"arrays_mib": floats / MIB, "estimated_load_peak_mib": peak / MIB, "fits_4gib": peak < 4 * GIB}


def load_result() -> dict:
    """The ``--load`` result: per backend, and the headline of the TensorFlow backend (the default)."""
    found = run_load_children()
    tf = found["runs"].get("tensorflow", {})
    return {**found, "headline": {
        "load_predict_entry": found["entry"],
        "load_predict_peak_rss_mib": tf.get("peak_rss_mib"),
        "load_predict_over_imports_mib": tf.get("load_and_predict_over_imports_mib"),
        **{f"load_predict_peak_rss_mib_{b}": r.get("peak_rss_mib") for b, r in found["runs"].items()},
    }}


def largest_shipped() -> tuple:
    """(name, bytes) of the shipped entry whose newest ``.keras`` file is the largest."""
    from rectifier_zoo.hub import locate

    manifest = json.loads((locate.EXPORTS_DIR / "manifest.json").read_text())["models"]
    sizes = {}
    for name, entry in manifest.items():
        version = entry["versions"][str(entry["latest"])]
        sizes[name] = (locate.EXPORTS_DIR / name / str(entry["latest"]) / version["keras_file"]).stat().st_size
    name = max(sizes, key=sizes.get)
    return name, sizes[name]


def load_child(entry, examples) -> dict:
    """Run in the subprocess: import, ``rz.load(entry)``, ``predict`` on ``examples`` rows; RSS after each."""
    import numpy as np

    started = rss_now()
    import keras

    import rectifier_zoo as rz

    after_import = rss_now()
    model = rz.load(entry, verbose=False)
    after_load, peak_load = rss_now(), rss_peak()
    width = int(model.inputs[0].shape[-1])
    x = np.random.default_rng(0).random((examples, width), dtype=np.float32)
    model.predict(x, verbose=0)
    return {
        "entry": entry,
        "backend": keras.backend.backend(),
        "examples": examples,
        "input_mib": x.nbytes / MIB,
        "rss_at_start_mib": started / MIB,
        "rss_after_imports_mib": after_import / MIB,
        "rss_after_load_mib": after_load / MIB,
        "peak_rss_through_load_mib": peak_load / MIB,
        "peak_rss_mib": rss_peak() / MIB,
        "load_and_predict_over_imports_mib": (rss_peak() - after_import) / MIB,
        "tensorflow_imported": "tensorflow" in sys.modules,
    }


def run_load_children() -> dict:
    """``load_child`` on the largest shipped entry, a fresh process per installed backend."""
    import importlib.util

    entry, size = largest_shipped()
    runs = {}
    for backend in ("tensorflow", "jax", "torch", "numpy"):
        if importlib.util.find_spec(backend) is None:
            continue
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
        cmd = [sys.executable, "-W", "ignore", "-m", "benchmarks.memory", "--load-child", entry]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
        if done.returncode != 0:
            runs[backend] = {"error": done.stderr.strip().splitlines()[-1:]}
            continue
        runs[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"entry": entry, "keras_file_mib": size / MIB, "runs": runs}


def run_child(entry, steps) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "benchmarks.memory", "--child", entry, "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    if done.returncode != 0:
        return {"entry": entry, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--child", help=argparse_hidden())
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--load", action="store_true", help="only the peak memory of rz.load + predict")
    p.add_argument("--load-child", help=argparse_hidden())
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.steps)))
        return None
    if args.load_child:
        print(json.dumps(load_child(args.load_child, TEST_EXAMPLES)))
        return None
    if args.load:
        return emit("memory_load", load_result(), save=not args.no_save)
    steps = 20 if not args.full else 500
    # quick: the MNIST shape, the biggest data (CIFAR-10) and the biggest model (NORB)
    entries = [e for e in SHAPES if args.full or e != "shapeset_rect_l1"]
    runs = {entry: {**run_child(entry, steps), "load_estimate": load_estimate(entry)} for entry in entries}
    loading = load_result()
    largest = max(runs, key=lambda e: runs[e]["load_estimate"]["estimated_load_peak_mib"])
    result = {
        "runs": runs,
        "load_and_predict": {k: v for k, v in loading.items() if k != "headline"},
        "headline": {
            **loading["headline"],
            "peak_rss_mib_mnist": runs["mnist_rect_l1"].get("peak_rss_mib"),
            "peak_rss_mib_norb": runs["norb_rect_l1"].get("peak_rss_mib"),
            "peak_rss_mib_max": max(r.get("peak_rss_mib", 0) for r in runs.values()),
            "largest_dataset": largest,
            "largest_dataset_load_estimate_mib": runs[largest]["load_estimate"]["estimated_load_peak_mib"],
            "largest_dataset_load_fits_4gib": runs[largest]["load_estimate"]["fits_4gib"],
        },
    }
    return emit("memory", result, save=not args.no_save)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()

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

    python -m benchmarks.memory [--full]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.common import emit, parser

GIB = 1024**3
MIB = 1024**2
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
    from rectifier_zoo.training.recipes import Recipe
    from rectifier_zoo.training.fit import compile_model, error_rate

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
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.steps)))
        return None
    steps = 20 if not args.full else 500
    # quick: the MNIST shape, the biggest data (CIFAR-10) and the biggest model (NORB)
    entries = [e for e in SHAPES if args.full or e != "shapeset_rect_l1"]
    runs = {entry: {**run_child(entry, steps), "load_estimate": load_estimate(entry)} for entry in entries}
    largest = max(runs, key=lambda e: runs[e]["load_estimate"]["estimated_load_peak_mib"])
    result = {
        "runs": runs,
        "headline": {
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

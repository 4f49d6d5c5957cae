"""Loading a shipped model: ``rz.load`` cold (a fresh process) and warm, split into its phases, per Keras backend.

Question: how long does ``rz.load("mnist_rect_l1")`` take in a fresh process
(``import rectifier_zoo`` included) and a second time in the same process, how
much of the cold load is only importing Keras (and its backend), and where does
the rest go: file checks (finding the version, reading its card, the sha256 of
the ``.keras`` file), Keras deserialisation, and the rest (compiling, the digest
of the weights kept for provenance, wrapping)?

Per installed backend (TensorFlow, JAX, PyTorch, NumPy), in rounds that take turns
so load drift on the shared machine hits every backend and measurement alike,
three fresh processes:

- ``import-keras``: a bare ``import keras`` (its backend with it), the baseline;
- ``cold``: ``import rectifier_zoo``, then ``rz.load``, uninstrumented, then warm
  loads; it records the modules the load imported, in order;
- ``split``: the same, with those modules imported first (the "imports" phase:
  ``import keras``, then ``import rectifier_zoo`` and the rest), then ``rz.load`` timed by phase: the
  location and file checks (``hub.locate.find``, of which the sha256 is
  ``integrity.sha256_file``), ``keras.saving.load_model``, and the rest; then warm
  loads, split the same way. Modules still imported inside the timed load are listed.

Each process also predicts one batch and says whether ``tensorflow`` was ever
imported (on the JAX and NumPy backends the zoo needs no TensorFlow to load and
predict). Headline figures are medians over rounds. The zoo's own cost of a cold
load is measured inside the ``split`` process: the imports after Keras's plus
``rz.load`` itself; the cold load minus the bare ``import keras`` of the same round
(two processes, so noisier on a loaded machine) is recorded beside it.

    python -m benchmarks.load [--full]
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import emit, median, parser

ENTRY = "mnist_rect_l1"
BACKENDS = ("tensorflow", "jax", "torch", "numpy")  # numpy needs no package beyond Keras
BACKEND_MODULE = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}
WARM = 5  # warm loads per process


def installed_backends() -> list:
    return [b for b in BACKENDS if importlib.util.find_spec(BACKEND_MODULE[b]) is not None]


# ------------------------------------------------------------------ children


def child_import_keras() -> dict:
    started = time.perf_counter()
    import keras

    return {"import_keras_seconds": time.perf_counter() - started, "backend": keras.backend.backend(),
            "tensorflow_imported": "tensorflow" in sys.modules}


def predicts(model) -> bool:
    """One prediction on a batch of zeros in the model's input width (flat features)."""
    import numpy as np

    width = int(model.inputs[0].shape[-1])
    return model.predict(np.zeros((2, width), np.float32), verbose=0).shape == (2, 10)


def child_cold(entry) -> dict:
    """``import rectifier_zoo`` + ``rz.load``, uninstrumented; then warm loads; the modules the load imported."""
    before = set(sys.modules)
    started = time.perf_counter()
    import rectifier_zoo as rz

    model = rz.load(entry, verbose=False)
    cold = time.perf_counter() - started
    imported = [name for name in sys.modules if name not in before]  # in the order they were first imported
    warm = []
    for _ in range(WARM):
        started = time.perf_counter()
        rz.load(entry, verbose=False)
        warm.append(time.perf_counter() - started)
    tensorflow_after_load = "tensorflow" in sys.modules
    return {"cold_seconds": cold, "warm_seconds": warm, "modules_imported": imported,
            "tensorflow_after_load": tensorflow_after_load, "predicts": predicts(model),
            "tensorflow_after_predict": "tensorflow" in sys.modules}


class Phases:
    """Wall seconds spent inside a few functions of the load path, by patching them in place."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, owner, attr, phase):
        inner = getattr(owner, attr)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

        setattr(owner, attr, timed)

    def load(self, rz, entry) -> dict:
        """One ``rz.load``: its total and its phases (the rest is what no wrapped function took)."""
        self.seconds = {}
        started = time.perf_counter()
        rz.load(entry, verbose=False)
        total = time.perf_counter() - started
        files, keras_load = self.seconds.get("file_checks", 0.0), self.seconds.get("deserialisation", 0.0)
        return {"total": total, "file_checks": files, "sha256": self.seconds.get("sha256", 0.0),
                "deserialisation": keras_load, "rest": total - files - keras_load}


def import_all(modules) -> None:
    """Import ``modules`` by name, in order; a generated or virtual one (six.moves, a hashed name) is its parent's."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def child_split(entry, modules) -> dict:
    """The modules a cold load imports, imported first and timed (Keras first); then ``rz.load`` timed by phase."""
    started = time.perf_counter()
    import keras

    keras_done = time.perf_counter()
    import rectifier_zoo as rz

    import_all(modules)
    imports_done = time.perf_counter()
    from rectifier_zoo.hub import integrity, locate

    phases = Phases()
    phases.wrap(locate, "find", "file_checks")
    phases.wrap(integrity, "sha256_file", "sha256")
    phases.wrap(keras.saving, "load_model", "deserialisation")
    before = set(sys.modules)
    cold = phases.load(rz, entry)
    late = [name for name in sys.modules if name not in before]
    warm = [phases.load(rz, entry) for _ in range(WARM)]
    other_imports = imports_done - keras_done
    return {"imports": imports_done - started, "import_keras": keras_done - started, "other_imports": other_imports,
            "cold": {**cold, "with_imports": imports_done - started + cold["total"],
                     "beyond_import_keras": other_imports + cold["total"]},
            "imported_inside_the_timed_load": late, "warm": warm,
            "tensorflow_after_load": "tensorflow" in sys.modules}


# ------------------------------------------------------------------- parent


def run_child(mode, backend, entry, modules_file=None) -> dict:
    """One fresh process on ``backend``: its JSON, plus its wall time from the parent's side."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-W", "ignore", "-m", "benchmarks.load", "--child", mode, "--entry", entry]
    if modules_file:
        cmd += ["--modules", modules_file]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{mode} on {backend} failed: {done.stderr.strip()[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": wall,
            "load_average_1m": round(os.getloadavg()[0], 2)}


def one_round(backend, entry, folder) -> dict:
    """The three processes of one round on one backend, baseline first."""
    bare = run_child("import-keras", backend, entry)
    cold = run_child("cold", backend, entry)
    modules_file = os.path.join(folder, f"{backend}.json")
    with open(modules_file, "w") as f:
        json.dump(cold.pop("modules_imported"), f)
    split = run_child("split", backend, entry, modules_file)
    return {"import_keras": bare, "cold": cold, "split": split}


def summarise(rounds) -> dict:
    """Medians over rounds of one backend's figures."""
    cold = [r["cold"]["cold_seconds"] for r in rounds]
    bare = [r["import_keras"]["import_keras_seconds"] for r in rounds]
    warm = [median(r["cold"]["warm_seconds"]) for r in rounds]
    split_cold = {k: median([r["split"]["cold"][k] for r in rounds])
                  for k in ("total", "file_checks", "sha256", "deserialisation", "rest", "with_imports",
                            "beyond_import_keras")}
    split_warm = {k: median([median([w[k] for w in r["split"]["warm"]]) for r in rounds])
                  for k in ("total", "file_checks", "sha256", "deserialisation", "rest")}
    return {
        "load_seconds_cold": median(cold),
        "load_seconds_warm": median(warm),
        "import_keras_seconds": median(bare),
        # in one process: the imports after Keras's, plus rz.load itself (less noisy than two processes' difference)
        "zoo_cold_seconds_beyond_import_keras": split_cold["beyond_import_keras"],
        "cold_minus_bare_import_keras": median([c - b for c, b in zip(cold, bare)]),
        "cold_over_import_keras": median([c / b for c, b in zip(cold, bare)]),
        "cold_split": {k: median([r["split"][k] for r in rounds]) for k in ("imports", "import_keras", "other_imports")}
        | split_cold,
        "warm_split": split_warm,
        "sha256_fraction_warm": split_warm["sha256"] / split_warm["total"],
        "sha256_fraction_cold": split_cold["sha256"] / median(cold),
        "tensorflow_imported": any(r["cold"]["tensorflow_after_predict"] for r in rounds),
        "predicts": all(r["cold"]["predicts"] for r in rounds),
        "samples": {"cold": cold, "import_keras": bare, "warm": warm},
    }


def headline(per_backend) -> dict:
    tf = per_backend.get("tensorflow") or next(iter(per_backend.values()))
    out = {
        "load_seconds_cold": tf["load_seconds_cold"],
        "load_seconds_warm": tf["load_seconds_warm"],
        "import_keras_seconds": tf["import_keras_seconds"],
        "load_zoo_cold_seconds_beyond_import_keras": tf["zoo_cold_seconds_beyond_import_keras"],
        "load_sha256_seconds_warm": tf["warm_split"]["sha256"],
        "load_sha256_fraction_warm": tf["sha256_fraction_warm"],
        "load_without_tensorflow": sorted(b for b, s in per_backend.items() if not s["tensorflow_imported"]
                                          and s["predicts"]),
    }
    for backend, s in per_backend.items():
        out[f"load_seconds_cold_{backend}"] = s["load_seconds_cold"]
        out[f"import_keras_seconds_{backend}"] = s["import_keras_seconds"]
    return out


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--child", choices=("import-keras", "cold", "split"), help=argparse_hidden())
    p.add_argument("--entry", default=ENTRY, help="the shipped entry to load (default %(default)s)")
    p.add_argument("--modules", help=argparse_hidden())
    p.add_argument("--rounds", type=int, help="rounds per backend (default 3, 5 with --full)")
    args = p.parse_args(argv)
    if args.child:
        return print_child(args)
    backends = installed_backends()
    rounds = args.rounds or (3 if not args.full else 5)
    samples = {b: [] for b in backends}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(rounds):
            for backend in backends:
                samples[backend].append(one_round(backend, args.entry, folder))
    per_backend = {b: summarise(r) for b, r in samples.items()}
    result = {
        "entry": args.entry,
        "backends": backends,
        "rounds": rounds,
        "warm_loads_per_process": WARM,
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "per_backend": per_backend,
        "runs": samples,
        "headline": headline(per_backend),
    }
    return emit("load", result, save=not args.no_save)


def print_child(args):
    if args.child == "import-keras":
        out = child_import_keras()
    elif args.child == "cold":
        out = child_cold(args.entry)
    else:
        with open(args.modules) as f:
            out = child_split(args.entry, json.load(f))
    print(json.dumps(out))


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()

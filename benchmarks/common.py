"""Shared helpers of the benchmarks: machine description, timing, result files."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
# The real datasets beside the repository (as tests/realdata.py finds them), by dataset name;
# elsewhere the zoo's usual places (``rz.datasets.load(name)`` with no data_dir).
SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SHARED_FOLDERS = {"mnist": "mnist", "cifar10": "cifar10-jpeg"}
# What a result file calls the data each folder holds.
DATA_LABELS = {"cifar10-jpeg": "CIFAR-10 (JPEG q75 copy)"}


def data_dir(dataset):
    """The shared copy of ``dataset`` beside the repository when it is there, else None (the usual places)."""
    folder = SHARED_DATA / SHARED_FOLDERS.get(dataset, dataset)
    return folder if folder.is_dir() else None


def data_label(dataset) -> str:
    """How results name the data: the JPEG copy of CIFAR-10 says so."""
    folder = data_dir(dataset)
    return DATA_LABELS.get(folder.name, dataset) if folder is not None else dataset


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """Where a figure was measured: CPU, cores, load, backend and library versions."""
    from rectifier_zoo._internal.environment import library_versions

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "gpu": gpu_names(),
        **library_versions(),
    }


def gpu_names() -> list:
    """Visible GPUs (empty on the CPU-only machines the default figures come from)."""
    if "tensorflow" not in sys.modules:
        return []
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def median(values) -> float:
    return float(statistics.median(values))


def timed(fn, repeats, warmup=1) -> list:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def parser(description) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--full", action="store_true", help="more repeats and bigger runs (slower, less noisy)")
    p.add_argument("--no-save", action="store_true", help="print the JSON only, write no result file")
    return p


def emit(name, result, save=True) -> dict:
    """Print ``result`` as JSON and write it to ``benchmarks/results/<name>.json`` (atomically)."""
    from rectifier_zoo._internal import atomic

    result = {"benchmark": name, "machine": machine(), **result}
    text = json.dumps(result, indent=2, sort_keys=False, default=float)
    print(text)
    if save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        atomic.write_text(RESULTS / f"{name}.json", text + "\n")
    return result

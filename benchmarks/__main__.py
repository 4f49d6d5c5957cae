"""Run every benchmark, each in a fresh process, and write ``benchmarks/results/summary.json``.

    python -m benchmarks                 # quick repeats: a few minutes in all
    python -m benchmarks --full          # more repeats, longer epochs
    python -m benchmarks --only serving,memory
    python -m benchmarks --only load,train_backends_cifar10

Each benchmark writes ``benchmarks/results/<name>.json`` (all its figures and the
machine); the summary collects their headline ratios, checks them against the
targets of the performance issue, and records the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.common import RESULTS, emit

# name -> module; run in this order (cheapest questions first is no help: the
# training figures matter most, so they run while the machine is freshest).
BENCHMARKS = ("train_throughput", "train_backends", "callback_overhead", "sparse_inference", "serving", "load",
              "memory", "tuning_throughput", "train_backends_cifar10")
# Run only with --full or when named in --only: one real CIFAR-10 epoch per backend is minutes.
LONG = ("train_backends_cifar10",)
# name -> (module, extra arguments), where the result is not the module's own
VARIANTS = {"train_backends_cifar10": ("train_backends", ["--cifar10"])}


def result_file(name):
    """Where a benchmark writes its result (tuning_throughput names the backend in it)."""
    if name == "tuning_throughput":
        return RESULTS / f"tuning_throughput_{os.environ.get('KERAS_BACKEND', 'tensorflow')}.json"
    return RESULTS / f"{name}.json"


# summary key -> (benchmark, headline key, comparison, target)
TARGETS = {
    "train_speedup_vs_keras_bs10": ("train_throughput", ">=", 1.5),
    "train_speedup_vs_keras_bs100": ("train_throughput", ">=", 1.1),
    "train_fraction_of_matmul_limit_bs100": ("train_throughput", ">=", 0.75),
    "sparsity_callback_overhead": ("callback_overhead", "<=", 0.03),
    "sparse_inference_speedup_bs1": ("sparse_inference", ">=", 3.0),
    "sparse_inference_speedup_vs_fastest_peer_bs1": ("sparse_inference", ">=", 3.0),
    "sparse_inference_ahead_of_peers_up_to_batch": ("sparse_inference", ">=", 8),
    "load_zoo_cold_seconds_beyond_import_keras": ("load", "<=", 1.0),
    "load_seconds_warm": ("load", "<=", 0.5),
}
# summary keys copied from each benchmark's headline without a target
EXTRA = {
    "train_throughput": ("train_fraction_of_matmul_limit_bs10", "keras_plain_fraction_of_matmul_limit_bs10",
                         "keras_plain_fraction_of_matmul_limit_bs100", "best_configuration_bs10",
                         "best_configuration_bs100"),
    "callback_overhead": ("sparsity_callback_overhead_bs100", "pretraining_seconds_per_epoch_per_layer_50k"),
    "sparse_inference": ("sparse_inference_ideal_bs1", "sparse_inference_gathered_ratio_bs1",
                         "sparse_inference_speedup_by_batch", "sparse_loses_from_batch",
                         "sparse_inference_speedup_bs1_spread", "sparse_inference_speedup_vs_numpy_dense_bs1",
                         "sparse_inference_baseline", "sparse_inference_model", "sparse_loses_from_batch_vs_numpy",
                         "sparse_inference_fastest_peer_bs1", "sparse_inference_speedup_vs_fastest_peer_by_batch",
                         "sparse_inference_peers_missing"),
    "train_backends": tuple(f"train_{what}_bs{b}_threads{t}" for b in (10, 100) for t in (1, 2)
                            for what in ("jax_speedup_over_tensorflow", "jax_speedup_over_tensorflow_raw",
                                         "tensorflow_seconds_per_epoch",
                                         "jax_seconds_per_epoch", "jax_library_vs_keras_plain")),
    "train_backends_cifar10": ("cifar10_epoch_seconds_tensorflow", "cifar10_epoch_seconds_jax",
                               "cifar10_jax_speedup_over_tensorflow"),
    "load": ("load_seconds_cold", "import_keras_seconds", "load_sha256_seconds_warm", "load_sha256_fraction_warm",
             "load_without_tensorflow", "load_seconds_cold_tensorflow", "load_seconds_cold_jax",
             "load_seconds_cold_numpy", "import_keras_seconds_jax", "import_keras_seconds_numpy"),
    "serving": ("serving_p50_ms_bs1", "serving_p99_ms_bs1", "serving_examples_per_second_bs256",
                "keras_predict_p50_vs_serving_bs1", "keras_call_p50_vs_serving_bs1"),
    "memory": ("peak_rss_mib_mnist", "peak_rss_mib_norb", "peak_rss_mib_max",
               "largest_dataset_load_estimate_mib", "largest_dataset_load_fits_4gib", "load_predict_entry",
               "load_predict_peak_rss_mib", "load_predict_over_imports_mib", "load_predict_peak_rss_mib_jax",
               "load_predict_peak_rss_mib_numpy"),
    "tuning_throughput": ("trials_per_hour", "steady_trials_per_hour"),
}


def run(name, full) -> dict:
    """Run one benchmark in its own process; its result file, or an error record."""
    module, extra = VARIANTS.get(name, (name, []))
    cmd = [sys.executable, "-W", "ignore", "-m", f"benchmarks.{module}", *extra] + (["--full"] if full else [])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    print(f"{name}: exit {done.returncode} in {seconds:.0f}s", file=sys.stderr)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1], "seconds": seconds}
    result = json.loads(result_file(name).read_text())
    result["seconds"] = seconds  # in the summary only; the result file stays as written
    return result


def summarise(results) -> dict:
    summary, met = {}, {}
    for key, (bench, op, target) in TARGETS.items():
        value = results.get(bench, {}).get("headline", {}).get(key)
        summary[key] = value
        if value is not None:
            met[key] = {"value": value, "target": f"{op} {target}",
                        "met": value >= target if op == ">=" else value <= target}
    for bench, keys in EXTRA.items():
        found = results.get(bench, {})
        for key in keys:  # from the headline, or top level for benchmarks without one
            summary.setdefault(key, found.get("headline", {}).get(key, found.get(key)))
    summary["targets"] = met
    # how loaded the machine was as each result was written (each file has its own, in "machine")
    summary["load_average_1m"] = {name: r.get("machine", {}).get("load_average_1m") for name, r in results.items()}
    # seconds of the benchmarks run now; null for figures kept from an earlier run (--only)
    summary["seconds"] = {name: r.get("seconds") and round(r["seconds"], 1) for name, r in results.items()}
    errors = {name: r["error"] for name, r in results.items() if "error" in r}
    if errors:
        summary["errors"] = errors
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="more repeats and bigger runs")
    p.add_argument("--only", help="comma-separated benchmark names (default: all); the summary keeps the others'"
                   " last results")
    args = p.parse_args(argv)
    chosen = args.only.split(",") if args.only else [b for b in BENCHMARKS if args.full or b not in LONG]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    results = {}
    for name in BENCHMARKS:
        if name in chosen:
            results[name] = run(name, args.full)
        elif result_file(name).exists():  # keep the last run's figures
            results[name] = json.loads(result_file(name).read_text())
    emit("summary", {"mode": "full" if args.full else "quick", **summarise(results)})
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

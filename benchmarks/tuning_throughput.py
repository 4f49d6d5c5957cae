"""Tuning throughput: trials per hour of a small fixed search on the current Keras backend.

Question: how many trials of a zoo search does this machine run per hour? The
search is fixed so figures compare across machines and backends: entry
``shapeset_rect_l1`` at its full width (3 x 1000 units), generated Shapeset
(2000 train / 500 valid), the paper's mini-batches of 10, a random search of
4 trials x 3 epochs (``--full``: 8 x 5), seed 0. Each trial is the zoo's real trial
path (``ZooTuner.run_trial``: checkpointed ``training.fit`` + sparsity callback).
The first trial includes tracing/compilation; ``steady_trials_per_hour`` leaves it out.

    python -m benchmarks.tuning_throughput [--full]               # TensorFlow (default)
    KERAS_BACKEND=jax python -m benchmarks.tuning_throughput      # JAX, e.g. on a GPU
"""

from __future__ import annotations

import dataclasses
import tempfile
import time

from benchmarks.common import emit, parser

NAME = "shapeset_rect_l1"


def fixed_splits(n_train=2000, n_valid=500):
    from rectifier_zoo.datasets import shapeset
    from rectifier_zoo.datasets.splits import Splits

    x, y = shapeset.generate(n_train + n_valid, seed=0)
    train, valid = (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
    return Splits("shapeset", train, valid, valid, 3, (32, 32), "generated")


def run(trials, epochs, batch_size=10):
    from rectifier_zoo import zoo
    from rectifier_zoo.tuning import ZooHyperModel, ZooTuner, make_oracle

    durations = []

    class TimedTuner(ZooTuner):
        def run_trial(self, trial, *args, **kwargs):
            start = time.perf_counter()
            try:
                return super().run_trial(trial, *args, **kwargs)
            finally:
                durations.append(time.perf_counter() - start)

    splits = fixed_splits()
    recipe = dataclasses.replace(zoo.get_spec(NAME, tuned=False).recipe, batch_size=batch_size, epochs=epochs, patience=epochs)
    hypermodel = ZooHyperModel(NAME, recipe=recipe, input_dim=splits.num_features, num_classes=3)
    with tempfile.TemporaryDirectory() as tmp:
        tuner = TimedTuner(
            make_oracle("random", trials, epochs, seed=0), hypermodel, directory=tmp, project_name=NAME, progress=True
        )
        start = time.perf_counter()
        tuner.search(splits=splits, epochs=epochs, seed=0, verbose=0)
        total = time.perf_counter() - start
        completed = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    steady = durations[1:] or durations
    return {
        "entry": NAME,
        "hidden": list(zoo.get_spec(NAME).hidden),
        "n_train": len(splits.train[1]),
        "n_valid": len(splits.valid[1]),
        "batch_size": batch_size,
        "epochs_per_trial": epochs,
        "trials": len(durations),
        "completed": completed,
        "search_seconds": round(total, 2),
        "trial_seconds": [round(d, 2) for d in durations],
        "trials_per_hour": round(3600 * len(durations) / total, 1),
        "steady_trials_per_hour": round(3600 * len(steady) / sum(steady), 1),
    }


def main():
    args = parser(__doc__.splitlines()[0]).parse_args()
    trials, epochs = (8, 5) if args.full else (4, 3)
    import keras

    emit(f"tuning_throughput_{keras.backend.backend()}", run(trials, epochs), save=not args.no_save)


if __name__ == "__main__":
    main()

"""The zoo's KerasTuner ``Tuner``: each trial is a resumable ``training.fit`` run.

What it adds to KerasTuner 1.4.8:

- A trial trains through ``training.fit(..., checkpoint_dir=...)`` with a checkpoint
  directory keyed on the trial's hyper-parameter values (not on its trial id, which
  a re-run may change), so a killed trial resumes from its last finished epoch.
- ``val_error`` (1 - val_accuracy) and the ``SparsityCallback`` statistics are the
  trial's metrics; the per-epoch history is kept in the trial's ``history.json``.
- A diverging trial (NaN or inf loss: ``training.fit`` stops it with a
  ``TrainingError``) raises ``FailedTrialError``: it is recorded as FAILED with
  its reason and the search goes on (up to ``max_consecutive_failed_trials`` in a row).
- The oracle's and tuner's state files are written atomically, so a SIGKILL never
  leaves a half-written ``oracle.json`` / ``trial.json`` behind.
- The test split never reaches a trial: trials see splits whose test part is the
  validation part (``search_view``).

KerasTuner is used through its public API (``kt.Tuner``'s ``run_trial``,
``save_model``, ``load_model``, ``search``, ``on_*`` hooks, ``kt.oracles``,
``kt.errors``) except where that API has no way to do what the zoo needs. Each
of those internals says why where it is used, and ``tests/test_tuning.py`` fails
if KerasTuner changes one (``test_the_kerastuner_internals_we_override_are_there``,
``test_our_overrides_write_the_state_atomically_and_keep_failures_quiet``):

- atomic state files: ``Oracle._save_trial`` (overridden: the one place a trial's
  ``trial.json`` is written), and the paths ``Oracle.reload`` and ``BaseTuner``
  read back, ``Oracle._get_oracle_fname``, ``Oracle._get_trial_dir``,
  ``BaseTuner._get_tuner_fname``, with ``BaseTuner._is_worker`` as in its ``save``;
- quiet failed trials: the flag ``keras_tuner.src.config.DEBUG``.

The chief's gRPC server (``chief.serve``) has its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pathlib
import shutil

import keras
import keras_tuner as kt
import numpy as np
from keras_tuner.src import config as kt_config  # internal: see _quiet_failed_trials

from rectifier_zoo._internal import atomic
from rectifier_zoo.training import fit as training
from rectifier_zoo.errors import TrainingError, TuningError
from rectifier_zoo.tuning.hypermodel import effective_values

OBJECTIVE = kt.Objective("val_error", direction="min")


class ValErrorCallback(keras.callbacks.Callback):
    """Adds ``val_error`` = 1 - ``val_accuracy`` to the epoch logs (the search objective)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and "val_accuracy" in logs:
            logs["val_error"] = 1.0 - float(logs["val_accuracy"])


def search_view(splits):
    """``splits`` with the test part replaced by the validation part: trials never see test."""
    return dataclasses.replace(splits, test=splits.valid)


def values_key(values) -> str:
    """A short stable key of a trial's hyper-parameter values (its checkpoint's name)."""
    text = json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class _AtomicOracle:
    """Writes the oracle's and trials' state files atomically (KerasTuner does not).

    KerasTuner internals, on purpose: the public API has no hook for how state is
    written. ``save`` is public, but its file must be the one ``Oracle.reload``
    reads, which only ``_get_oracle_fname`` names; a trial's ``trial.json`` is
    written by the private ``_save_trial`` alone (from ``create_trial``,
    ``update_trial`` and ``end_trial``), into ``_get_trial_dir``.
    """

    def save(self):
        atomic.write_text(self._get_oracle_fname(), json.dumps(self.get_state()))

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        atomic.write_text(path, json.dumps(trial.get_state()))


class RandomSearchOracle(_AtomicOracle, kt.oracles.RandomSearchOracle):
    pass


class BayesianOptimizationOracle(_AtomicOracle, kt.oracles.BayesianOptimizationOracle):
    pass


class HyperbandOracle(_AtomicOracle, kt.oracles.HyperbandOracle):
    pass


class GridSearchOracle(_AtomicOracle, kt.oracles.GridSearchOracle):
    pass


def make_oracle(tuner, max_trials, epochs, seed, max_consecutive_failed_trials=3):
    """The oracle of ``tuner`` (``random``, ``bayesian``, ``hyperband`` or ``grid``)."""
    common = {"objective": OBJECTIVE, "seed": seed, "max_consecutive_failed_trials": max_consecutive_failed_trials}
    if tuner == "hyperband":  # Hyperband sizes its own brackets from max_epochs
        return HyperbandOracle(max_epochs=max(2, epochs), factor=3, **common)
    cls = {"random": RandomSearchOracle, "bayesian": BayesianOptimizationOracle, "grid": GridSearchOracle}[tuner]
    try:
        return cls(max_trials=max_trials, **common)
    except ImportError as err:  # KerasTuner's Bayesian oracle needs scikit-learn
        raise TuningError(
            f"the {tuner} tuner needs scikit-learn ({err.__class__.__name__}); "
            "`pip install scikit-learn` or pick --tuner random / hyperband / grid"
        ) from None


class ZooTuner(kt.Tuner):
    """Runs each trial as a checkpointed, resumable ``training.fit`` of a zoo entry.

    ``search(splits, epochs=, seed=, verbose=, recipe_overrides=)`` takes the data
    itself (``Splits``); the test split is withheld from every trial.

    Args:
        oracle: a KerasTuner oracle (see ``make_oracle``).
        hypermodel: a ``ZooHyperModel``.
        keep_checkpoints: keep a finished trial's per-epoch checkpoint (Hyperband
            needs them: a trial continues its parent's training).
        progress: print one line per finished trial.
        **kwargs: ``directory``, ``project_name``, ``overwrite`` as in KerasTuner.
    """

    def __init__(self, oracle, hypermodel, keep_checkpoints=False, progress=True, **kwargs):
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.keep_checkpoints = keep_checkpoints
        self.progress = progress

    # ------------------------------------------------------------------ state
    def save(self):
        # BaseTuner.save, written atomically. Internals, on purpose: the file must be
        # the one BaseTuner.__init__ reloads from, which only _get_tuner_fname names;
        # _is_worker is KerasTuner's own test (a worker's oracle is the chief's).
        if not self._is_worker():
            self.oracle.save()
        atomic.write_text(self._get_tuner_fname(), json.dumps(self.get_state()))

    def on_search_begin(self):
        # Record the tuner file at once: a run killed in its first trial must reload
        # the oracle (which knows the interrupted trial) rather than start afresh.
        self.save()

    def checkpoint_dir(self, values) -> pathlib.Path:
        return pathlib.Path(self.project_dir) / "checkpoints" / values_key(values)

    def _inherit_checkpoint(self, parent_id, target):
        """Hyperband: start from the parent trial's checkpoint (copied, atomically)."""
        if target.exists():
            return
        source = self.checkpoint_dir(self.oracle.get_trial(parent_id).hyperparameters.values)
        if not source.exists():
            return
        try:
            with atomic.atomic_dir(target) as tmp:
                shutil.copytree(source, tmp, dirs_exist_ok=True)
        except FileExistsError:
            pass  # another worker copied it first

    # ------------------------------------------------------------------ trials
    def search(self, *args, **kwargs):
        with _quiet_failed_trials():
            return super().search(*args, **kwargs)

    def run_trial(self, trial, splits, epochs=1, seed=0, verbose=0, recipe_overrides=None, sparsity_sample=1000):
        hp = trial.hyperparameters
        epochs = int(hp.values.get("tuner/epochs", epochs))  # Hyperband's budget for this trial
        model = self.hypermodel.build(hp)
        ckpt = self.checkpoint_dir(hp.values)
        if hp.values.get("tuner/trial_id"):
            self._inherit_checkpoint(hp.values["tuner/trial_id"], ckpt)
        recipe = self.hypermodel.recipe(hp, epochs, **(recipe_overrides or {}))
        try:
            result = training.fit(
                model,
                search_view(splits),
                recipe,
                seed=seed,
                verbose=verbose,
                callbacks=[ValErrorCallback()],
                checkpoint_dir=ckpt,
                sparsity_sample=sparsity_sample,
            )
        except TrainingError as error:  # fit stops a run whose loss (or pre-training) diverged
            where = f"the loss became NaN or inf in epoch {error.epoch}" if error.epoch else str(error)
            values = format_values(effective_values(self.hypermodel, hp))
            # KerasTuner records a FailedTrialError as FAILED, with its reason, and the search goes on.
            raise kt.errors.FailedTrialError(f"diverged: {where} with {values}; lower the learning-rate range") from error
        atomic.write_json(pathlib.Path(self.get_trial_dir(trial.trial_id)) / "history.json", result.history)
        self.save_model(trial.trial_id, model)
        return trial_metrics(result, model)

    # ------------------------------------------------------------------ models
    # KerasTuner's hooks for a trial's model (``get_best_models`` calls load_model),
    # in KerasTuner's own file names, so trial folders of earlier searches still load.
    def save_model(self, trial_id, model, step=0):
        with atomic.atomic_path(self._weights_path(trial_id), suffix=".weights.h5") as tmp:
            model.save_weights(tmp)
        atomic.write_json(self._build_config_path(trial_id), model.get_build_config())

    def load_model(self, trial):
        model = self.hypermodel.build(trial.hyperparameters)
        if not model.built:  # a zoo classifier is built by its Input; a subclassed model is not
            model.build_from_config(json.loads(self._build_config_path(trial.trial_id).read_text()))
        model.load_weights(self._weights_path(trial.trial_id))
        return model

    def _weights_path(self, trial_id) -> pathlib.Path:
        return pathlib.Path(self.get_trial_dir(trial_id)) / "checkpoint.weights.h5"

    def _build_config_path(self, trial_id) -> pathlib.Path:
        return pathlib.Path(self.get_trial_dir(trial_id)) / "build_config.json"

    def on_trial_end(self, trial):
        super().on_trial_end(trial)  # the oracle records it (and saves) first
        if not self.keep_checkpoints:
            shutil.rmtree(self.checkpoint_dir(trial.hyperparameters.values), ignore_errors=True)
        if self.progress:
            print(progress_line(self.hypermodel, self.oracle.get_trial(trial.trial_id), self.planned_trials()), flush=True)

    def planned_trials(self):
        """The trials this search will run: ``max_trials``, or fewer where a grid runs out first
        (Hyperband trains one point at several budgets, so its count is its own)."""
        size = None if isinstance(self.oracle, HyperbandOracle) else self.hypermodel.grid_size()
        total = self.oracle.max_trials
        return size if size is not None and (total is None or size < total) else total


@contextlib.contextmanager
def _quiet_failed_trials():
    """Within the block, KerasTuner does not print each failed trial's traceback.

    The trial keeps the traceback in its message and our progress line gives the
    reason. Internal, on purpose: the only switch is the module flag
    ``keras_tuner.src.config.DEBUG`` (on by default), read where a trial fails.
    """
    debug, kt_config.DEBUG = kt_config.DEBUG, False
    try:
        yield
    finally:
        kt_config.DEBUG = debug


def trial_metrics(result, model) -> dict:
    """A finished trial's metrics: the best epoch's logs plus the returned model's sparsity.

    ``val_error`` is the best epoch's (early stopping restores that epoch's weights);
    ``final_hidden_<i>_zeros`` are measured on the validation split with the weights the
    trial ends with (the test split is never touched).
    """
    history = result.history
    errors = history.get("val_error") or [1.0 - a for a in history.get("val_accuracy", [])]
    best = int(np.argmin(errors)) if errors else 0
    metrics = {key: float(values[best]) for key, values in history.items() if len(values) > best}
    metrics["val_error"] = float(errors[best]) if errors else result.valid_error
    for layer, stats in result.sparsity.items():
        metrics[f"final_{layer}_zeros"] = float(stats["zeros"])
    metrics["final_sparsity"] = float(np.mean([s["zeros"] for s in result.sparsity.values()]))
    metrics["epochs"] = float(result.epochs)
    return metrics


def format_values(values) -> str:
    names = {"learning_rate": "lr", "l1": "l1", "pretrain_learning_rate": "pretrain_lr"}
    return " ".join(f"{names[k]}={v:.3g}" for k, v in values.items())


def layer_zeros(trial) -> list:
    """The final per-layer zero fractions recorded in a trial's metrics, in layer order."""
    found = []
    i = 1
    while trial.metrics.exists(f"final_hidden_{i}_zeros"):
        found.append(float(trial.metrics.get_last_value(f"final_hidden_{i}_zeros")))
        i += 1
    return found


def failure_reason(trial) -> str:
    """The last line of a failed trial's message (KerasTuner stores the whole traceback)."""
    lines = [line for line in (trial.message or "").strip().splitlines() if line.strip()]
    if not lines:
        return "unknown reason"
    last = lines[-1]
    return last.split(": ", 1)[1] if last.startswith(("keras_tuner", "FailedTrialError")) and ": " in last else last


def progress_line(hypermodel, trial, max_trials=None) -> str:
    """``trial 3/10: lr=0.01 l1=0.001 -> val error 4.2%, zeros 81/64/55%`` (or its failure)."""
    number = f"{int(trial.trial_id) + 1}/{max_trials}" if max_trials else str(int(trial.trial_id) + 1)
    values = format_values(effective_values(hypermodel, trial.hyperparameters))
    if trial.status != "COMPLETED":
        return f"trial {number}: {values} -> {trial.status.lower()}: {failure_reason(trial)}"
    zeros = "/".join(f"{z:.0%}".rstrip("%") for z in layer_zeros(trial))
    error = trial.metrics.get_last_value("val_error")
    return f"trial {number}: {values} -> val error {error:.1%}, zeros {zeros}%"

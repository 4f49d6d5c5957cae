"""Per-epoch checkpoints, so a killed training run resumes where it stopped.

A checkpoint directory holds ``weights.npz`` (the model's weights after the last
finished epoch), ``optimizer.npz`` (the optimizer's variables), ``best.npz`` (the
weights of the best epoch so far) and ``state.json`` (epoch, early-stopping state,
history so far). Each file is written atomically and ``state.json`` last, so it is
the commit point: whatever it names is complete on disk.
"""

from __future__ import annotations

import json
import pathlib

import keras
import numpy as np

from rectifier_zoo import atomic


def _save_arrays(path, arrays):
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, *arrays)


def _load_arrays(path):
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping whose state can be saved and restored across processes."""

    def __init__(self, *args, initial_state=None, initial_best_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._initial_state = initial_state
        self._initial_best_weights = initial_best_weights

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._initial_state:
            self.wait = self._initial_state["wait"]
            self.best = self._initial_state["best"]
            self.best_epoch = self._initial_state["best_epoch"]
            self.best_weights = self._initial_best_weights

    def state(self):
        best = self.best
        return {"wait": int(self.wait), "best": None if best is None else float(best), "best_epoch": int(self.best_epoch)}


class EpochCheckpoint(keras.callbacks.Callback):
    """Writes a resumable checkpoint at the end of every epoch.

    Args:
        directory: where the checkpoint lives (created if needed).
        early_stopping: the run's ``ResumableEarlyStopping``, whose state is saved too.
    """

    def __init__(self, directory, early_stopping=None, history=None, extra=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.early_stopping = early_stopping
        self.history = {} if history is None else history
        self.extra = dict(extra or {})
        self.epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch
        save(self.directory, self.model, epoch, self.history, self.early_stopping, self.extra)

    def on_train_end(self, logs=None):
        # Early stopping has restored the best weights by now: record the run as
        # finished so a rerun returns this result instead of training on.
        if self.early_stopping is not None and self.early_stopping.stopped_epoch > 0:
            self.extra["stopped"] = True
            save(self.directory, self.model, self.epoch, self.history, self.early_stopping, self.extra)


def save(directory, model, epoch, history, early_stopping=None, extra=None):
    """Write a checkpoint of ``model`` after ``epoch`` (0-based; -1 for 'before training').

    ``extra`` (JSON-able) is stored in the state as it is.
    """
    directory = pathlib.Path(directory)
    _save_arrays(directory / "weights.npz", model.get_weights())
    if model.optimizer is not None and model.optimizer.built:
        _save_arrays(directory / "optimizer.npz", [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables])
    state = {**(extra or {}), "epoch": int(epoch), "history": history}
    if early_stopping is not None:
        state["early_stopping"] = early_stopping.state()
        if early_stopping.best_weights is not None:
            _save_arrays(directory / "best.npz", early_stopping.best_weights)
    atomic.write_json(directory / "state.json", state)


def load_state(directory):
    """The saved state dict, or None when there is no complete checkpoint."""
    path = pathlib.Path(directory) / "state.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def restore(directory, model):
    """Load the checkpointed weights and optimizer variables into a compiled ``model``.

    Returns:
        ``(state, best_weights)``: the saved state and the best weights (or None).
    """
    directory = pathlib.Path(directory)
    state = load_state(directory)
    model.set_weights(_load_arrays(directory / "weights.npz"))
    opt_path = directory / "optimizer.npz"
    if opt_path.exists() and model.optimizer is not None:
        model.optimizer.build(model.trainable_variables)
        for var, value in zip(model.optimizer.variables, _load_arrays(opt_path)):
            var.assign(value)
    best_path = directory / "best.npz"
    best = _load_arrays(best_path) if best_path.exists() else None
    return state, best

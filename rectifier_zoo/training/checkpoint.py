"""Per-epoch checkpoints, so a killed training run resumes where it stopped.

A checkpoint directory holds ``weights-<N>.<tag>.npz`` (the model's weights after
N finished epochs), ``optimizer-<N>.<tag>.npz`` (the optimizer's variables),
``best-<N>.<tag>.npz`` (the weights of the best epoch so far) and ``state.json``
(epoch, early-stopping state, history so far, and the names of those files). Each
file is written atomically under a name never used before and ``state.json`` last,
so it is the commit point: the files it names are whole and all of the same
epoch (a kill between two writes leaves the previous epoch's files in place, not
a mix). Files no state names any more are removed after each commit. Directories
written before the names were recorded (plain ``weights.npz``...) still restore.

A run holds ``.lock`` in its directory while it trains (``in_use``): a second
trainer on the same directory would interleave its epochs with the first's, so
it is refused; the lock goes when its process does, however it dies.
"""

from __future__ import annotations

import json
import pathlib

import keras
import numpy as np

from rectifier_zoo._internal import atomic, locking

LOCK = ".lock"


def in_use(directory):
    """Hold ``directory``'s lock for a training run; ConfigError if another process holds it."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return locking.locked(
        directory / LOCK,
        blocking=False,
        busy_message=f"{directory} is in use by another training run (process {{pid}}); wait for it to finish, "
        "stop it, or give this run another checkpoint_dir",
    )


def _save_arrays(path, arrays):
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, *arrays)


def _load_arrays(path):
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


class _Resumable:
    """Mixin: a Keras callback whose counters (``COUNTERS``) are saved and restored across processes."""

    COUNTERS = ("wait", "best")

    def __init__(self, *args, initial_state=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._initial_state = initial_state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # resets the counters...
        for key in self.COUNTERS if self._initial_state else ():
            setattr(self, key, self._initial_state[key])  # ...which a resumed run puts back

    def state(self):
        return {key: _plain(getattr(self, key)) for key in self.COUNTERS}


def _plain(value):
    """A counter as JSON takes it: None, an int, or a float (Keras keeps NumPy scalars)."""
    return value if value is None or isinstance(value, int) else float(value)


class ResumableEarlyStopping(_Resumable, keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping whose state (and best weights) survive a restart."""

    COUNTERS = ("wait", "best", "best_epoch")

    def __init__(self, *args, initial_best_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._initial_best_weights = initial_best_weights

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._initial_state:
            self.best_weights = self._initial_best_weights


class ResumableLearningRateDecay(_Resumable, keras.callbacks.ReduceLROnPlateau):
    """Keras' ReduceLROnPlateau whose plateau counters survive a restart.

    The rate itself is an optimizer variable, so the checkpoint restores it; only
    the counters (epochs waited, best value, cooldown) are kept here.
    """

    COUNTERS = ("wait", "best", "cooldown_counter")


class EpochCheckpoint(keras.callbacks.Callback):
    """Writes a resumable checkpoint at the end of every epoch.

    Args:
        directory: where the checkpoint lives (created if needed).
        early_stopping: the run's ``ResumableEarlyStopping``, whose state is saved too.
        history: the history so far (a resumed run's), appended to each epoch.
        extra: JSON-able facts stored in the state as they are.
        stateful: ``{key: callback}`` whose ``state()`` is stored under ``key``
            each epoch (e.g. the learning-rate decay's counters).
    """

    def __init__(self, directory, early_stopping=None, history=None, extra=None, stateful=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.early_stopping = early_stopping
        self.history = {} if history is None else history
        self.extra = dict(extra or {})
        self.stateful = dict(stateful or {})
        self.epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        if not np.isfinite((logs or {}).get("loss", 0.0)):
            return  # a diverged epoch: the checkpoint keeps the last finite one
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch
        self.extra.update({key: cb.state() for key, cb in self.stateful.items()})
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
    import secrets

    directory = pathlib.Path(directory)
    tag = f"{int(epoch) + 1}.{secrets.token_hex(4)}"  # never the name of a committed file
    files = {"weights": model.get_weights()}
    if model.optimizer is not None and model.optimizer.built:
        files["optimizer"] = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    state = {**(extra or {}), "epoch": int(epoch), "history": history}
    if early_stopping is not None:
        state["early_stopping"] = early_stopping.state()
        if early_stopping.best_weights is not None:
            files["best"] = early_stopping.best_weights
    state["files"] = {kind: f"{kind}-{tag}.npz" for kind in files}
    for kind, arrays in files.items():
        _save_arrays(directory / state["files"][kind], arrays)
    atomic.write_json(directory / "state.json", state)
    _remove_unnamed(directory, set(state["files"].values()))


def _remove_unnamed(directory, keep):
    """Delete array files of older commits (and of saves killed before their commit)."""
    for path in directory.glob("*.npz"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def _file(directory, state, kind):
    """The array file of ``kind`` that ``state`` committed (old layout: ``<kind>.npz``)."""
    name = (state.get("files") or {}).get(kind) if "files" in state else f"{kind}.npz"
    return directory / name if name else None


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
    model.set_weights(_load_arrays(_file(directory, state, "weights")))
    opt_path = _file(directory, state, "optimizer")
    if opt_path is not None and opt_path.exists() and model.optimizer is not None:
        model.optimizer.build(model.trainable_variables)
        for var, value in zip(model.optimizer.variables, _load_arrays(opt_path)):
            var.assign(value)
    best_path = _file(directory, state, "best")
    best = _load_arrays(best_path) if best_path is not None and best_path.exists() else None
    return state, best

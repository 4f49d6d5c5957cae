"""Training by the paper's protocol: plain SGD, small mini-batches, early stopping.

``fit(model, splits, recipe)`` trains any zoo classifier on any splits and returns a
``TrainResult``; ``rz.train(name)`` (``rectifier_zoo.api.train``) wires a zoo entry's
dataset, model and recipe into it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import time

import keras
import numpy as np

from rectifier_zoo._internal import atomic, validation
from rectifier_zoo.training import checkpoint
from rectifier_zoo.nn.callbacks import SparsityCallback
from rectifier_zoo._internal.environment import library_versions
from rectifier_zoo.training.compilation import jit_compile, steps_per_execution
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError, TrainingError
from rectifier_zoo.nn.models import hidden_layers, input_width
from rectifier_zoo.training.pretraining import pretrain
from rectifier_zoo.training.recipes import Recipe
from rectifier_zoo.nn.sparsity import sparsity


@dataclasses.dataclass
class TrainResult:
    """What a training run measured.

    Errors are fractions (0.0142 is 1.42%); ``sparsity`` maps each hidden layer to
    its ``zeros`` / ``dead`` / ``mean`` statistics on the test split.
    """

    name: str
    dataset: str
    test_error: float
    valid_error: float
    sparsity: dict
    epochs: int
    best_epoch: int
    seconds: float
    hyperparameters: dict
    versions: dict
    history: dict = dataclasses.field(default_factory=dict)
    pretraining: list = dataclasses.field(default_factory=list)
    # Whose data, for sources that must say so (e.g. the CIFAR-10 JPEG copy): source and fingerprint.
    data: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        return dataclasses.asdict(self)

    def save(self, path):
        atomic.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """Read a saved result; keys a newer version added are ignored."""
        data = json.loads(pathlib.Path(path).read_text())
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def summary(self) -> str:
        zeros = " / ".join(f"{v['zeros']:.1%}" for v in self.sparsity.values())
        return (
            f"{self.name}: test error {self.test_error:.2%}, valid error {self.valid_error:.2%}, "
            f"zeros per layer {zeros or '-'}, {self.epochs} epochs in {self.seconds:.0f}s"
        )


def check_data(model, splits):
    """Refuse splits that are not whole, finite, non-empty and shaped for ``model``.

    The arrays are checked again here, not only when the ``Splits`` was made: they
    are mutable, and NaN features would otherwise train silently into NaN weights.
    """
    if not isinstance(splits, Splits):
        raise ConfigError(
            f"splits must be a rz.datasets.Splits (e.g. rz.datasets.load('shapeset')), got {type(splits).__name__}"
        )
    splits.check()
    empty = [s for s in ("train", "valid", "test") if len(getattr(splits, s)[1]) == 0]
    if empty:
        raise ConfigError(f"dataset {splits.name!r}: split(s) {', '.join(empty)} are empty; give each at least one example")
    outputs = getattr(model, "outputs", None) or []
    classes = int(outputs[0].shape[-1]) if outputs else splits.num_classes
    if splits.num_classes > classes:
        raise ConfigError(
            f"dataset {splits.name!r} has {splits.num_classes} classes but model {model.name!r} outputs {classes}; "
            f"build it with num_classes={splits.num_classes}"
        )
    width = input_width(model)
    if splits.num_features != width:
        raise ConfigError(
            f"dataset {splits.name!r} has {splits.num_features} features but model "
            f"{model.name!r} takes {width}; build the model for this dataset "
            f"(rz.build_model(name) picks the width from the entry)"
        )


def compile_model(model, recipe, n_train):
    model.compile(
        optimizer=keras.optimizers.SGD(recipe.learning_rate, momentum=recipe.momentum),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution(recipe.batch_size, n_train),
        jit_compile=jit_compile(),
    )


# Recipe fields a resumed run may change: they bound the run, they do not shape it.
_MAY_CHANGE_ON_RESUME = ("epochs", "patience")


def data_fingerprint(x, y) -> str:
    """A short hash of a training split: its shape, its labels and every 64th image.

    Enough to tell another dataset, a data variant (a Shapeset option) or another
    generator apart, at the cost of hashing a few hundred kilobytes.
    """
    digest = hashlib.sha256(f"{x.shape}{x.dtype}".encode())
    digest.update(np.ascontiguousarray(y).tobytes())
    digest.update(np.ascontiguousarray(x[:: max(1, len(x) // 64)]).tobytes())
    return digest.hexdigest()[:16]


def run_facts(recipe, seed, data=None) -> dict:
    """What a checkpoint must have been trained with for a run to resume from it.

    ``data`` is the training split's ``data_fingerprint``: a run's checkpoint
    directory names its entry and seed but not always its data options.
    """
    facts = {k: v for k, v in recipe.to_dict().items() if k not in _MAY_CHANGE_ON_RESUME}
    return {**facts, "seed": seed, **({"data": data} if data is not None else {})}


def check_resumable(state, facts, checkpoint_dir):
    """Refuse to resume a checkpoint made with other ``run_facts`` (recipe, seed or training data).

    The restored optimizer variables include the learning rate, so resuming with
    another rate would silently keep the old one; resuming on other data would
    silently mix two runs.
    """
    saved = state.get("run")
    if saved is None:  # a checkpoint older than this check
        return
    now = json.loads(json.dumps(facts))  # tuples -> lists, as saved
    if "data" not in saved:  # a checkpoint from before data fingerprints: compare the rest
        now.pop("data", None)
    changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
    if changed:
        was = ", ".join(f"{k}={saved.get(k)!r}" for k in changed if k != "data")
        if "data" in changed:  # a hash means nothing to a reader: say what it stands for
            was = ", ".join(filter(None, [was, "other training data (another dataset, option or generator)"]))
        raise ConfigError(
            f"{checkpoint_dir} holds a run trained with {was}; resume it with the same settings "
            f"(only {' and '.join(_MAY_CHANGE_ON_RESUME)} may change) or use another checkpoint_dir"
        )


def check_finite(model, losses, recipe, initial_epoch=0):
    """Refuse a run whose loss became NaN or inf (``TerminateOnNaN`` stopped it): its model predicts nothing."""
    for epoch, loss in enumerate(losses, start=initial_epoch + 1):
        if not np.isfinite(loss):
            raise TrainingError(
                f"{model.name} diverged in epoch {epoch}: its loss became NaN or inf at learning rate "
                f"{recipe.learning_rate:g}; lower the learning_rate and train again",
                epoch=epoch,
            )


def error_rate(model, x, y, batch_size=1000) -> float:
    """Fraction of examples whose most probable class is wrong."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probs, axis=-1) != y))


def fit(
    model,
    splits,
    recipe=Recipe(),
    seed=0,
    verbose=1,
    callbacks=(),
    checkpoint_dir=None,
    sparsity_sample=1000,
):
    """Train ``model`` on ``splits`` by ``recipe`` and measure it.

    Pre-trains first when ``recipe.pretrain`` is set; then fine-tunes with plain SGD
    (cross-entropy), early stopping on validation error that restores the best
    weights, and logs per-layer sparsity each epoch (``SparsityCallback``).

    Args:
        model: a zoo classifier (``rz.build_model``), uncompiled or compiled.
        splits: a ``rz.datasets.Splits``.
        recipe: a ``Recipe``.
        seed: seeds initialisation noise, shuffling and corruption.
        verbose: 0 silent, 1 progress bars, 2 one line per epoch.
        callbacks: more Keras callbacks.
        checkpoint_dir: if set, a checkpoint is written there after every epoch and
            a run started again with the same directory resumes after the last
            finished epoch (nothing finished is lost).
        sparsity_sample: validation examples the sparsity callback uses per epoch.

    Returns:
        A ``TrainResult``.
    """
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"recipe must be a rz.Recipe, got {type(recipe).__name__}")
    checkpoint_dir = validation.run_arguments(seed, verbose, checkpoint_dir)
    check_data(model, splits)
    if checkpoint_dir is None:
        return _fit(model, splits, recipe, seed, verbose, callbacks, None, sparsity_sample)
    with checkpoint.in_use(checkpoint_dir):  # a second trainer here would interleave its epochs
        return _fit(model, splits, recipe, seed, verbose, callbacks, checkpoint_dir, sparsity_sample)


def _fit(model, splits, recipe, seed, verbose, callbacks, checkpoint_dir, sparsity_sample):
    """``fit`` once its arguments are checked (and the checkpoint dir is this run's)."""
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    (x, y), (xv, yv) = splits.train, splits.valid
    # Hashed only where a checkpoint will keep it (a run without checkpoint_dir never resumes).
    facts = run_facts(recipe, seed, data_fingerprint(x, y) if checkpoint_dir else None)
    compile_model(model, recipe, len(x))
    run = _start(model, x, xv, recipe, seed, verbose, checkpoint_dir, facts)
    probe = SparsityCallback(xv, sample_size=min(sparsity_sample, len(xv)), seed=seed)
    stopper, stateful = _resumable_callbacks(recipe, run, verbose)
    cbs = [keras.callbacks.TerminateOnNaN(), probe, stopper, *stateful.values(), *callbacks]
    if checkpoint_dir:
        extra = {"pretraining": run.pretraining, "run": facts}
        cbs.append(checkpoint.EpochCheckpoint(checkpoint_dir, stopper, run.history, extra, stateful))
    done = run.state is not None and run.state.get("stopped", False)
    if recipe.epochs > run.initial_epoch and not done:
        fitted = model.fit(x, y, batch_size=recipe.batch_size, epochs=recipe.epochs, initial_epoch=run.initial_epoch,
                           validation_data=(xv, yv), callbacks=cbs, shuffle=True, verbose=verbose)
        check_finite(model, fitted.history.get("loss", []), recipe, run.initial_epoch)
        for key, values in fitted.history.items():
            run.history.setdefault(key, [])
            if not checkpoint_dir:  # the saver already appended them
                run.history[key].extend(float(v) for v in values)
    elif run.best_weights is not None:
        model.set_weights(run.best_weights)
    return _result(model, splits, recipe, seed, run, time.perf_counter() - started)


@dataclasses.dataclass
class _Run:
    """Where a run starts: its checkpoint state (None: a fresh run) and what it carries over."""

    state: dict | None = None
    pretraining: list = dataclasses.field(default_factory=list)
    best_weights: list | None = None
    initial_epoch: int = 0
    history: dict = dataclasses.field(default_factory=dict)


def _start(model, x, xv, recipe, seed, verbose, checkpoint_dir, facts) -> _Run:
    """Pre-train a fresh ``_dae`` run (checkpointed), or restore a run from its last finished epoch."""
    run = _Run(state=checkpoint.load_state(checkpoint_dir) if checkpoint_dir else None)
    if recipe.pretrain is not None and (run.state is None or run.state.get("pretraining_partial")):
        _pretrain(run, model, x, xv, recipe, seed, verbose, checkpoint_dir, facts)
    if run.state is not None:
        check_resumable(run.state, facts, checkpoint_dir)
        run.state, run.best_weights = checkpoint.restore(checkpoint_dir, model)
        run.initial_epoch, run.history = run.state["epoch"] + 1, run.state["history"]
        run.pretraining = run.state.get("pretraining", [])
        if verbose and run.initial_epoch:
            print(f"resuming from {checkpoint_dir} after epoch {run.initial_epoch}")
    return run


def _pretrain(run: _Run, model, x, xv, recipe, seed, verbose, checkpoint_dir, facts):
    """Pre-train, checkpointing after each layer; a run killed while pre-training goes on from its last layer."""
    done = []
    if run.state is not None:
        check_resumable(run.state, facts, checkpoint_dir)
        checkpoint.restore(checkpoint_dir, model)
        done = run.state["pretraining"]
        if verbose:
            print(f"resuming pre-training from {checkpoint_dir} after {len(done)} layer(s)")
    layers = len(hidden_layers(model))

    def save(report):  # a crash later must not cost the layers already pre-trained
        extra = {"pretraining": report, "pretraining_partial": len(report) < layers, "run": facts}
        checkpoint.save(checkpoint_dir, model, -1, {}, extra=extra)

    after_layer = save if checkpoint_dir else None
    run.pretraining = pretrain(model, x, recipe.pretrain, seed, verbose, xv, done=done, after_layer=after_layer)
    if checkpoint_dir:
        run.state = checkpoint.load_state(checkpoint_dir)


def _resumable_callbacks(recipe, run: _Run, verbose):
    """Early stopping (and the rate's decay, if the recipe has one), from the run's saved state."""
    state = run.state or {}
    stopper = checkpoint.ResumableEarlyStopping(
        monitor="val_accuracy",
        mode="max",
        patience=recipe.patience,
        restore_best_weights=True,
        initial_state=state.get("early_stopping"),
        initial_best_weights=run.best_weights,
    )
    stateful = {}
    if recipe.lr_decay_patience:
        stateful["lr_decay"] = checkpoint.ResumableLearningRateDecay(
            monitor="val_accuracy",
            mode="max",
            factor=recipe.lr_decay_factor,
            patience=recipe.lr_decay_patience,
            initial_state=state.get("lr_decay"),
            verbose=int(verbose > 0),
        )
    return stopper, stateful


def _result(model, splits, recipe, seed, run: _Run, seconds) -> TrainResult:
    """The finished run measured: errors on validation and test, sparsity on test, its history."""
    accuracies = run.history.get("val_accuracy", [])
    return TrainResult(
        name=model.name,
        dataset=splits.name,
        test_error=error_rate(model, *splits.test),
        valid_error=error_rate(model, *splits.valid),
        sparsity=sparsity(model, splits.test[0]),
        epochs=len(run.history.get("loss", [])),
        best_epoch=int(np.argmax(accuracies)) + 1 if accuracies else 0,
        seconds=seconds,
        hyperparameters={**recipe.to_dict(), "seed": seed},
        versions=library_versions(),
        history=run.history,
        pretraining=run.pretraining,
        data={"source": splits.source, "fingerprint": splits.fingerprint} if splits.fingerprint else {},
    )

"""The public verbs ``rz.train``, ``rz.load`` and ``rz.export``: each calls the stages below it, in order.

``train``: the entry's spec (``zoo``), its data (``entry_data``), its model
(``zoo.build_model``), then ``training.fit`` by its recipe. ``load``: find the
model (``hub``), and only when asked and it is found nowhere, ``train`` it,
export it into the cache (``exporting``) and load that. ``export``: resolve a zoo
name or a path into a model with its card's facts (``hub``), then write it
(``exporting``).

The top of the library's stages; nothing below imports it. Keras loads only
when a verb needs it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib

from rectifier_zoo import zoo
from rectifier_zoo._internal import advice, paths, validation
from rectifier_zoo.hub import export as exporting, inputs, locate as hub, store
from rectifier_zoo.training import entry_data, recipes
from rectifier_zoo.errors import ArtifactError, ConfigError

_log = logging.getLogger(__name__)


def train(
    name,
    *,
    epochs=None,
    quick=False,
    seed=0,
    data_dir=None,
    download=False,
    dataset_options=None,
    splits=None,
    out=None,
    checkpoint_dir=None,
    verbose=1,
    callbacks=(),
    **recipe_overrides,
):
    """Train zoo entry ``name`` by its recipe and return a ``TrainResult``.

    The trained model is ``result.model`` (its name is the entry's name). ``_dae``
    entries are pre-trained first.

    Args:
        name: a zoo entry, e.g. ``"shapeset_rect_l1"``.
        epochs: override the recipe's maximum epochs.
        quick: small splits and few epochs (a smoke run, not a reproduction).
        seed: seeds initialisation, shuffling, corruption and generated data.
        data_dir: where the dataset's files are (see ``rz.datasets.load``).
        download: allow tensorflow-datasets to download missing data.
        dataset_options: a variant of the entry's dataset, e.g. ``{"swap": False}``
            for Shapeset without its foreground/background swap (see
            ``rz.datasets.check_options``); recorded in the result's
            hyper-parameters, so a report keeps the run out of the entry's cell.
        splits: train on these ``Splits`` instead of loading the entry's dataset
            (then nothing is recorded about the data: pass no ``dataset_options``).
        out: if set, a directory where ``<name>.keras`` and ``<name>.json`` (the
            result) are written, atomically.
        checkpoint_dir: resumable per-epoch checkpoints (see ``training.fit``).
        verbose: 0 silent, 1 progress bars, 2 a line per epoch.
        callbacks: more Keras callbacks.
        **recipe_overrides: replace recipe fields (``learning_rate``, ``batch_size``,
            ``patience``, ``momentum``, ``lr_decay_patience``), or ``l1``, or ``softplus_alpha`` (a softplus
            entry's α of ``(1/α)·softplus(αx)``, see ``zoo.build_model``), or
            ``pretrain_l1``, ``pretrain_learning_rate``, ``pretrain_epochs`` (a ``_dae``
            entry's L1 on the codes, SGD rate and epochs per layer while pre-training).

    Example:

    >>> result = rz.train("shapeset_rect_l1", quick=True)
    >>> result.test_error, result.sparsity["hidden_1"]["zeros"]
    >>> rz.train("shapeset_rect", quick=True, dataset_options={"antialias": True}).hyperparameters["dataset_options"]
    {'antialias': True}
    """
    spec = zoo.get_spec(name)
    # Checked before the data loads and the model trains, not when they are used.
    checkpoint_dir = validation.run_arguments(seed, verbose, checkpoint_dir)
    out = None if out is None else validation.folder("out", out)
    if splits is not None and dataset_options:
        raise ConfigError("dataset_options choose the data train() loads; with splits=, pass no dataset_options")
    data_record = {} if splits is not None else entry_data.data_hyperparameters(spec, dataset_options)
    l1 = recipe_overrides.pop("l1", None)
    if l1 is not None:
        if not spec.l1:
            raise ConfigError(f"{name} has no L1 penalty; use the {name.replace('_dae', '')}_l1 entry")
        spec = dataclasses.replace(spec, l1=validation.number("l1", l1, low=0.0))
    alpha = zoo.check_softplus_alpha(spec, recipe_overrides.pop("softplus_alpha", None))
    pretraining = {k: recipe_overrides.pop(k, None) for k in recipes.PRETRAIN_OVERRIDES}
    recipe = recipes.with_pretraining(spec.recipe, pretraining, name)
    if quick:
        recipe = recipes.quick(recipe)
    if epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=validation.number("epochs", epochs, low=0, integer=True))
    fields = {f.name for f in dataclasses.fields(recipe)} - {"pretrain", "epochs"}
    unknown = set(recipe_overrides) - fields
    if unknown:
        raise ConfigError(
            f"unknown training option(s) {sorted(unknown)}; allowed: {sorted(fields | {'l1', 'softplus_alpha', *recipes.PRETRAIN_OVERRIDES})}"
        )
    recipe = dataclasses.replace(recipe, **recipe_overrides)

    if splits is None:
        splits = entry_data.load_splits(spec, data_dir, download, quick, seed, dataset_options)
    from rectifier_zoo.training.fit import fit  # Keras: only when a model trains

    model = zoo.build_model(name, l1=spec.l1, seed=seed, softplus_alpha=alpha)
    result = fit(model, splits, recipe, seed=seed, verbose=verbose, callbacks=callbacks, checkpoint_dir=checkpoint_dir)
    result.hyperparameters.update({"l1": spec.l1, "quick": quick, "neuron": spec.neuron, "hidden": list(spec.hidden)})
    result.hyperparameters.update(data_record)
    if alpha is not None:  # a scaled-softplus run must not pass for the entry's own in a report
        result.hyperparameters["softplus_alpha"] = alpha
    result.model = model
    if out is not None:
        save_run(model, result, out)
    return result


def save_run(model, result, out):
    """Write ``<name>.keras`` and ``<name>.json`` into ``out``, each atomically."""
    from rectifier_zoo._internal import atomic

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(out / f"{result.name}.keras", suffix=".keras") as tmp:
        model.save(tmp)
    result.save(out / f"{result.name}.json")
    return out / f"{result.name}.keras"


def load(
    name_or_path,
    *,
    train_if_missing=False,
    download=False,
    data_dir=None,
    version=None,
    sparse_inference=False,
    verbose=True,
):
    """A trained zoo model, ready to predict, evaluate and fine-tune, on its dataset's images as people have them.

    An image entry's model (MNIST, Fashion-MNIST, CIFAR-10, Shapeset) takes its dataset's
    images as ``keras.datasets`` and tensorflow-datasets give them: integer pixels (uint8
    0-255) in their natural shape (``(n, 28, 28)``, ``(n, 28, 28, 1)``, ``(n, 32, 32, 3)``),
    or the zoo's flat float32 features in [0, 1]. Floats out of [0, 1] are refused with a
    ConfigError naming the fix (``rectifier_zoo.nn.preprocessing`` has the rule).

    Args:
        name_or_path: a zoo name (``"mnist_rect_l1"``), a ``.keras`` file, an
            exported version folder or a model folder (its newest version).
        train_if_missing: train the entry by its recipe (progress bars) and cache
            it when no trained copy is found anywhere.
        download: with ``train_if_missing``, let tensorflow-datasets download the
            entry's dataset if it is not on disk (see ``rz.datasets.load``).
        data_dir: with ``train_if_missing``, the folder holding the dataset's files.
        version: an exported version number; default: the newest.
        sparse_inference: return ``rectifier_zoo.sparse.inference.sparsify(model)``.
        verbose: log one line (logger ``rectifier_zoo``, level INFO): where it loaded
            from, version, test error; ``logging.basicConfig(level=logging.INFO)``
            shows it. False: not even that.

    Returns:
        A compiled ``keras.Model`` named after its entry: for an image entry an
        ``ImageClassifier`` (the same layers and weights behind an
        ``ImagePreprocessor``; ``model.inputs`` are still the flat features). It remembers its model
        card (``hub.provenance(model)``), so ``rz.export(model, dir)`` writes the same
        card again as long as its weights are unchanged.

    Raises:
        UnknownModelError: a name that is neither a zoo entry nor an exported model.
        ArtifactError: nothing found (the message says how to get it), or a file
            missing, truncated or modified (sha256 mismatch, naming the file).
        ConfigError: ``download`` or ``data_dir`` without ``train_if_missing``.

    Example:

    >>> (_, _), (x_test, y_test) = keras.datasets.mnist.load_data()   # uint8 (10000, 28, 28)
    >>> model = rz.load("mnist_rect_l1")
    >>> model.evaluate(x_test, y_test)   # loss, accuracy: 1.58% test error, as its card says
    >>> model.predict(x_test[:1]).argmax(axis=1)
    array([7])
    >>> model = rz.load("mnist_rect_l1", train_if_missing=True, download=True)  # nothing shipped: train it
    """
    given = {"train_if_missing": train_if_missing, "download": download, "data_dir": data_dir, "version": version}
    with advice.calling("rz.load", name_or_path, **{k: v for k, v in given.items() if v not in (None, False)}):
        if (download or data_dir is not None) and not train_if_missing:
            raise ConfigError(
                "download= and data_dir= say where the data comes from when a model is trained; "
                f"add train_if_missing=True: {advice.retry(train_if_missing=True)}"
            )
        if version is not None:
            version = store.check_version(version)
        located = hub.find(name_or_path, version)
        if located is None and not train_if_missing:
            raise ArtifactError(hub.missing_message(name_or_path, version))
        if located is None:
            located = _train_and_cache(name_or_path, download=download, data_dir=data_dir)
    model = hub.load_located(located, sparse_inference=sparse_inference, verbose=verbose)
    if sparse_inference:
        return model  # the sparse engine reads flat features
    natural = inputs.with_images(model, hub.result_of(located))
    if natural is not model:
        hub.remember(natural, located)  # its provenance, for rz.export
    return natural


def _train_and_cache(name, download=False, data_dir=None) -> hub.Located:
    """Train zoo entry ``name`` by its recipe and export it into the cache, as ``rz.load`` then finds it."""

    _log.info("no trained %s found: training it by its recipe (this can take a while)", name)
    result = train(name, verbose=1, download=download, data_dir=data_dir)
    # The .keras file and its card, as `ship` writes them: the cache keeps one copy of the
    # weights, and rz.load reads nothing else (`rz.export` writes the SavedModel when wanted).
    folder = exporting.export_version(
        result.model, paths.models_home(), name=name, result=result, verbose=0, saved_model=False
    )
    return hub.locate_version(folder, f"{folder} (trained just now)")


def export(
    model_or_name, export_dir, version=None, name=None, result=None, verbose=1, saved_model=True
) -> pathlib.Path:
    """Export a model as ``export_dir/<name>/<version>/`` for TF Serving, with its card.

    The SavedModel's ``serving_default`` signature takes ``features`` (float32,
    batch x input width) and returns ``probabilities`` (float32, batch x classes)
    and ``class`` (int64). The ``.keras`` file, ``model_card.json`` (metrics,
    paper figures, hyper-parameters, library versions, sha256 of every file) and
    ``README.md`` sit beside it. ``export_dir/manifest.json`` is updated.

    Args:
        model_or_name: a Keras model (a zoo model carries its entry name), a path
            to a ``.keras`` file (its ``<stem>.json`` training result is read when
            present), or a zoo name (loaded with ``rz.load``).
        export_dir: the TF Serving model base folder (created if needed).
        version: an integer > 0; default: one more than the highest existing.
            An explicit version that exists already is refused.
        name: the model folder name; default: the model's name.
        result: a ``TrainResult`` or its dict, for the card's metrics.
        verbose: 0 silent, 1 one line saying where it went.
        saved_model: write the SavedModel (False: the ``.keras`` file and card only,
            what ``rz.load`` needs and the repository ships: one copy of the weights).

    Returns:
        The version folder.

    Example:

    >>> result = rz.train("shapeset_rect_l1", quick=True)
    >>> rz.export(result.model, "exports", result=result)
    PosixPath('exports/shapeset_rect_l1/1')
    """
    export_dir, version = exporting.check_target(export_dir, version, name)  # before any slow loading
    model, result = _resolve(model_or_name, result)
    return exporting.export_version(
        model, export_dir, name=name, version=version, result=result, verbose=verbose, saved_model=saved_model
    )


def _resolve(model_or_name, result):
    """The Keras model to export and the training facts for its card (a dict, or None)."""
    if isinstance(model_or_name, (str, os.PathLike)):
        located = hub.locate(model_or_name)
        # A re-export keeps the card's facts (or the result JSON beside a bare .keras file).
        return hub.load_keras(located), result if result is not None else hub.result_of(located)
    exporting.check_model(model_or_name)
    if result is None:  # a model from rz.load, weights unchanged: its card's facts, as the CLI writes them
        found = hub.provenance(model_or_name)
        result = found.result if found is not None else None
    return model_or_name, result

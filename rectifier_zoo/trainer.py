"""``rz.train(name)``: train a zoo entry by its recipe on its dataset."""

from __future__ import annotations

import dataclasses
import pathlib

from rectifier_zoo import validation, zoo
from rectifier_zoo.training import fit

# --quick: the paper's 10k training examples but smaller valid/test splits and few
# epochs, so an entry trains in about a minute on 2 CPU cores. Results are
# indicative only; reports mark them as quick.
QUICK_SIZES = {"n_train": 10000, "n_valid": 2000, "n_test": 5000}
QUICK_EPOCHS = 8


def load_splits(spec, data_dir=None, download=False, quick=False, seed=0, dataset_options=None):
    """The entry's dataset splits (subsets of them in quick mode), with ``dataset_options`` if any."""
    from rectifier_zoo import datasets

    kwargs = {"seed": seed} if spec.dataset.startswith("shapeset") else {}
    if quick and spec.dataset.startswith("shapeset"):
        kwargs.update(QUICK_SIZES)  # generate only what is used
    kwargs.update(datasets.check_options(spec.dataset, dataset_options))
    splits = datasets.load(spec.dataset, data_dir=data_dir, download=download, **kwargs)
    if quick:
        splits = splits.subset(*QUICK_SIZES.values())
    return splits


def data_hyperparameters(spec, dataset_options=None) -> dict:
    """What a result records about its data beyond the dataset's name.

    ``dataset_options`` (only when some differ from the defaults) mark a variant's
    run, which a report never averages into the entry's own cell; Shapeset runs
    also record the generator's version (``shapeset.GENERATOR``), since the same
    seed gave other images before the generator's audit.

    Example:

    >>> data_hyperparameters(zoo.get_spec("shapeset_rect"), {"swap": False})
    {'shapeset_generator': 2, 'dataset_options': {'swap': False}}
    """
    from rectifier_zoo import datasets

    record = {}
    if spec.dataset.startswith("shapeset"):
        from rectifier_zoo.datasets import shapeset

        record["shapeset_generator"] = shapeset.GENERATOR
    options = datasets.check_options(spec.dataset, dataset_options)
    if options:
        record["dataset_options"] = options
    return record


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
            ``patience``, ``momentum``), or ``l1``, or ``softplus_alpha`` (a softplus
            entry's α of ``(1/α)·softplus(αx)``, see ``zoo.build_model``).

    Example:

    >>> result = rz.train("shapeset_rect_l1", quick=True)
    >>> result.test_error, result.sparsity["hidden_1"]["zeros"]
    >>> rz.train("shapeset_rect", quick=True, dataset_options={"antialias": True}).hyperparameters["dataset_options"]
    {'antialias': True}
    """
    spec = zoo.get_spec(name)
    # Checked before the data loads and the model trains, not when they are used.
    validation.number("seed", seed, low=0, high=2**32 - 1, integer=True)
    validation.choice("verbose", verbose, (0, 1, 2))
    out = None if out is None else validation.folder("out", out)
    checkpoint_dir = None if checkpoint_dir is None else validation.folder("checkpoint_dir", checkpoint_dir)
    if splits is not None and dataset_options:
        raise validation.ConfigError("dataset_options choose the data train() loads; with splits=, pass no dataset_options")
    data_record = {} if splits is not None else data_hyperparameters(spec, dataset_options)
    l1 = recipe_overrides.pop("l1", None)
    if l1 is not None:
        if not spec.l1:
            raise validation.ConfigError(f"{name} has no L1 penalty; use the {name.replace('_dae', '')}_l1 entry")
        spec = dataclasses.replace(spec, l1=validation.number("l1", l1, low=0.0))
    alpha = zoo.check_softplus_alpha(spec, recipe_overrides.pop("softplus_alpha", None))
    recipe = spec.recipe
    if quick:
        recipe = dataclasses.replace(recipe, epochs=QUICK_EPOCHS, patience=3)
        if recipe.pretrain is not None:
            recipe = dataclasses.replace(recipe, pretrain=dataclasses.replace(recipe.pretrain, epochs=1))
    if epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=validation.number("epochs", epochs, low=0, integer=True))
    fields = {f.name for f in dataclasses.fields(recipe)} - {"pretrain", "epochs"}
    unknown = set(recipe_overrides) - fields
    if unknown:
        raise validation.ConfigError(
            f"unknown training option(s) {sorted(unknown)}; allowed: {sorted(fields | {'l1', 'softplus_alpha'})}"
        )
    recipe = dataclasses.replace(recipe, **recipe_overrides)

    if splits is None:
        splits = load_splits(spec, data_dir, download, quick, seed, dataset_options)
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
    from rectifier_zoo import atomic

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(out / f"{result.name}.keras", suffix=".keras") as tmp:
        model.save(tmp)
    result.save(out / f"{result.name}.json")
    return out / f"{result.name}.keras"

"""``search(name)``: tune a zoo entry, record the best, retrain it, optionally export it.

The record goes where the search runs (its project dir, or the results dir it is
given); putting it into the repository's ``tuning/results/`` is ``project.record``.

One function serves the three roles of a KerasTuner search: the whole search in one
process (default), the chief that only runs the oracle (``chief=True``), and a worker
that only runs trials (``worker=ID``); chief and workers meet at ``oracle=HOST:PORT``.
The chief's loop and the roles' environment are in ``chief``; the record of the best
trial and its retraining in ``best``.
"""

from __future__ import annotations

import dataclasses
import pathlib

from rectifier_zoo import zoo
from rectifier_zoo._internal import advice, validation
from rectifier_zoo.training import recipes
from rectifier_zoo.errors import ConfigError, TuningError
from rectifier_zoo.tuning import best, project
from rectifier_zoo.tuning.chief import check_role, distributed_env, parse_oracle, serve
from rectifier_zoo.tuning.hypermodel import ZooHyperModel, as_space
from rectifier_zoo.tuning.tuner import ZooTuner, make_oracle

TUNERS = ("random", "bayesian", "hyperband", "grid")


@dataclasses.dataclass
class SearchOutcome:
    """What ``search`` found (and, unless a worker, retrained and recorded).

    Attributes:
        name: the zoo entry.
        role: ``"single"``, ``"chief"`` or ``"worker"``.
        project_dir: the search's state directory.
        record: the results dict written to ``results_path`` (None for a worker).
        results_path: where it was written.
        result: the ``TrainResult`` of the retrained best model (its ``.model``), or None.
        export_path: where the model was exported, or None.
    """

    name: str
    role: str
    project_dir: pathlib.Path
    record: dict | None = None
    results_path: pathlib.Path | None = None
    result: object = None
    export_path: object = None


def search(
    name,
    space=None,
    *,
    tuner="random",
    max_trials=10,
    project_dir=None,
    results_dir=None,
    quick=False,
    epochs=None,
    batch_size=None,
    seed=0,
    data_dir=None,
    download=False,
    splits=None,
    retrain=True,
    export_dir=None,
    chief=False,
    worker=None,
    oracle=None,
    max_consecutive_failed_trials=3,
    verbose=0,
    progress=True,
):
    """Search the learning rate (and L1, pre-training rate) of zoo entry ``name``.

    The objective is the validation error; the test split is never seen by a trial.
    At the end the best hyper-parameters, their validation error and sparsity, and
    every trial are recorded in ``<project_dir>/<name>.json`` (or ``<results_dir>/<name>.json``):
    where the search runs, never in the repository's ``tuning/results/`` (that is
    ``project.record``'s explicit step) and never in the installed package. The record
    changes no entry: its values reach ``zoo.get_spec(name)`` only once adopted into
    ``TUNED`` in ``rectifier_zoo/entries.py``. The best model is then retrained on train,
    evaluated on test once, and exported when ``export_dir`` is given. Running the same
    call again resumes the search.

    Args:
        name: a zoo entry, e.g. ``"mnist_rect_l1"``.
        space: a ``SearchSpace``: ranges or grids of the rates and L1, hidden sizes
            (default: the log-scale ranges, the entry's sizes). With ``tuner="grid"``
            and no grid of its own, the paper's grid.
        tuner: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``.
        max_trials: trials to run in all (a resumed search counts those done);
            Hyperband sizes its own brackets and ignores it.
        project_dir: state directory (default ``<zoo home>/tuning/<name>``).
        results_dir: where the record goes instead of ``project_dir`` (not ``tuning/results/``).
        quick: small splits and few epochs (``entry_data.QUICK_SIZES``, ``recipes.quick``).
        epochs: maximum epochs per trial (default: the recipe's, or quick's).
        batch_size: override the recipe's mini-batch size.
        seed: seeds the oracle, initialisation, shuffling and generated data.
        data_dir, download: where the dataset is (see ``rz.datasets.load``).
        splits: search on these ``Splits`` instead of loading the entry's dataset.
        retrain: retrain the best model and evaluate it on test (False: skip).
        export_dir: export the retrained best model there (``rz.export``).
        chief: run only the oracle, serving workers at ``oracle``.
        worker: run trials for the chief at ``oracle`` under this ID.
        oracle: ``"HOST:PORT"`` of the chief.
        max_consecutive_failed_trials: stop after this many failed trials in a row.
        verbose: Keras verbosity inside trials (0 silent).
        progress: print a line per finished trial.

    Returns:
        A ``SearchOutcome``.

    Example:

    >>> out = search("shapeset_rect_l1", tuning.SearchSpace(l1_grid=(0, 1e-3)), quick=True, max_trials=4)
    trial 1/4: lr=0.00345 l1=0.001 -> val error 12.3%, zeros 71/64/58%
    ...
    >>> out.record["hyperparameters"], out.results_path
    """
    tuner = validation.choice("tuner", tuner, TUNERS)
    validation.number("max_trials", max_trials, low=1, integer=True)
    validation.number("max_consecutive_failed_trials", max_consecutive_failed_trials, low=1, integer=True)
    role, worker = check_role(chief, worker, oracle)
    spec = zoo.get_spec(name, tuned=False)
    _check_places(project_dir, results_dir, export_dir, splits)
    space = _space(space, tuner)
    project_dir = pathlib.Path(project_dir or project.default_project_dir(name))
    results_dir = project_dir if results_dir is None else pathlib.Path(results_dir)
    if role != "worker":
        project.load_result(name, results_dir)  # a corrupt results file fails now, not after hours
    recipe, epochs = _base_recipe(spec, quick, epochs, batch_size)
    if splits is None:
        from rectifier_zoo.training.entry_data import load_splits

        splits = load_splits(spec, data_dir, download, quick, seed)
    hypermodel = ZooHyperModel(name, space, input_dim=splits.num_features, num_classes=splits.num_classes, seed=seed, recipe=recipe)
    # Claimed only once every argument has been checked: a refused call leaves no project behind.
    project_dir = project.claim_project(project_dir, name, tuner)
    fit_kwargs = {"splits": splits, "epochs": epochs, "seed": seed, "verbose": verbose}
    with distributed_env(role, worker, oracle):
        zoo_tuner = _make_tuner(hypermodel, tuner, max_trials, epochs, seed, project_dir, max_consecutive_failed_trials, progress)
        if role == "chief":
            serve(zoo_tuner, *parse_oracle(oracle), progress=progress)
        else:
            _run(zoo_tuner, fit_kwargs)
    outcome = SearchOutcome(name, role, project_dir)
    if role == "worker":
        return outcome
    size = {"epochs_per_trial": epochs, "quick": bool(quick), "train_examples": int(len(splits.train[1]))}
    outcome.record = {**best.summarize(zoo_tuner, hypermodel, tuner), **size}
    outcome.results_path = project.write_result(outcome.record, results_dir)
    if progress:
        print(f"best of {outcome.record['trials']} trials: {best.describe(outcome.record)}; wrote {outcome.results_path}")
    if retrain:
        best.retrain(outcome, zoo_tuner, hypermodel, splits, epochs, seed, verbose, results_dir, progress)
        if export_dir is not None:
            outcome.export_path = export_best(outcome.result, export_dir)
    return outcome


def _space(space, tuner):
    """The search space; a grid tuner without a grid of its own searches the paper's."""
    space = as_space(space)
    if tuner == "grid" and space.grid is None:
        space = dataclasses.replace(space, grid=True)
    return space


def _check_places(project_dir, results_dir, export_dir, splits):
    """Folder arguments that are files, the repository's records, and splits of the wrong type fail before any trial."""
    for label, value in (("project_dir", project_dir), ("results_dir", results_dir), ("export_dir", export_dir)):
        if value is not None:
            validation.folder(label, value)
    if results_dir is not None and pathlib.Path(results_dir).resolve() == pathlib.Path(zoo.TUNED_DIR).resolve():
        fix = "add --record" if advice.in_cli() else "then call tuning.record(name, out.results_path)"
        raise ConfigError(
            f"results_dir {results_dir} is the repository's tuning/results/, which a search does not write: leave "
            f"{advice.name_of('results_dir')} out (the record stays in the project dir) and {fix} to record it there"
        )
    if splits is not None:
        from rectifier_zoo.datasets.splits import Splits, check_split

        if not isinstance(splits, Splits):
            raise ConfigError(f"splits must be a rz.datasets.Splits, got {type(splits).__name__}")
        for part in ("train", "valid"):  # trials never see the test split; the retrain's fit checks it
            check_split(splits.name, part, *getattr(splits, part), splits.num_classes)


def _base_recipe(spec, quick, epochs, batch_size):
    recipe = recipes.quick(spec.recipe) if quick else spec.recipe  # the same smoke run as `train --quick`
    if epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=validation.number("epochs", epochs, low=1, integer=True))
    if batch_size is not None:
        recipe = dataclasses.replace(recipe, batch_size=validation.number("batch_size", batch_size, low=1, integer=True))
    return recipe, recipe.epochs


def _make_tuner(hypermodel, tuner, max_trials, epochs, seed, project_dir, max_failed, progress):
    return ZooTuner(
        make_oracle(tuner, max_trials, epochs, seed, max_failed),
        hypermodel,
        keep_checkpoints=tuner == "hyperband",
        progress=progress,
        directory=str(project_dir.parent),
        project_name=project_dir.name,
        overwrite=False,
    )


def _run(zoo_tuner, fit_kwargs):
    try:
        zoo_tuner.search(**fit_kwargs)
    except RuntimeError as err:
        if "consecutive failures" in str(err):
            first = str(err).strip().splitlines()[0]
            raise TuningError(
                f"{first}: the last trials all failed (see their messages in {zoo_tuner.project_dir}/trial_*/trial.json); "
                "narrow the learning-rate range or raise max_consecutive_failed_trials"
            ) from None
        raise


def export_best(result, export_dir):
    """Export the retrained best model for TF Serving (``rectifier_zoo.hub.export.export_version``)."""
    from rectifier_zoo.hub import export as exporting  # TensorFlow-heavy: only when asked

    return exporting.export_version(result.model, export_dir, result=result)

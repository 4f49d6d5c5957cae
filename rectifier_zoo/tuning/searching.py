"""``search(name)``: tune a zoo entry, record the best, retrain it, optionally export it.

One function serves the three roles of a KerasTuner search: the whole search in one
process (default), the chief that only runs the oracle (``chief=True``), and a worker
that only runs trials (``worker=ID``); chief and workers meet at ``oracle=HOST:PORT``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import time

from rectifier_zoo import validation, zoo
from rectifier_zoo.errors import ConfigError, TuningError
from rectifier_zoo.tuning import project
from rectifier_zoo.tuning.hypermodel import (
    L1_RANGE,
    LEARNING_RATE_RANGE,
    ZooHyperModel,
    effective_values,
)

TUNERS = ("random", "bayesian", "hyperband", "grid")
ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


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


def parse_oracle(address):
    """``"HOST:PORT"`` -> ``(host, port)``, else ConfigError."""
    host, sep, port = str(address or "").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"oracle address must be HOST:PORT, e.g. 127.0.0.1:8000, got {address!r}")
    return host, int(port)


@contextlib.contextmanager
def distributed_env(role, worker=None, oracle=None):
    """Set KerasTuner's chief/worker environment variables for the block, then restore them."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    try:
        for key in ENV_KEYS:
            os.environ.pop(key, None)  # a stray variable must not turn a single search distributed
        if role != "single":
            host, port = parse_oracle(oracle)
            tuner_id = "chief" if role == "chief" else f"worker-{worker}"
            os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=str(port))
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _role(chief, worker, oracle):
    if chief and worker is not None:
        raise ConfigError("a search is either the chief or a worker; pass --chief or --worker ID, not both")
    if worker is not None:
        worker = str(worker)
        if not worker or "chief" in worker or not worker.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"worker ID must be letters, digits, - or _ and not contain 'chief', got {worker!r}")
    role = "chief" if chief else "worker" if worker is not None else "single"
    if role != "single":
        parse_oracle(oracle)
    elif oracle is not None:
        raise ConfigError("--oracle is for distributed searches; add --chief or --worker ID")
    return role, worker


def search(
    name,
    *,
    tuner="random",
    max_trials=10,
    project_dir=None,
    quick=False,
    epochs=None,
    seed=0,
    data_dir=None,
    download=False,
    splits=None,
    export_dir=None,
    results_dir=None,
    grid=False,
    hidden=None,
    learning_rate=LEARNING_RATE_RANGE,
    l1=L1_RANGE,
    pretrain_learning_rate=LEARNING_RATE_RANGE,
    l1_grid=None,
    batch_size=None,
    retrain=True,
    chief=False,
    worker=None,
    oracle=None,
    max_consecutive_failed_trials=3,
    verbose=0,
    progress=True,
):
    """Search the learning rate (and L1, pre-training rate) of zoo entry ``name``.

    The objective is the validation error; the test split is never seen by a trial.
    At the end the best hyper-parameters, their validation error and sparsity are
    written to ``<results_dir>/<name>.json`` (which ``zoo.get_spec(name)`` applies),
    the best model is retrained on train and evaluated on test once, and exported
    when ``export_dir`` is given. Running the same call again resumes the search.

    Args:
        name: a zoo entry, e.g. ``"mnist_rect_l1"``.
        tuner: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"`` (the paper's grid).
        max_trials: trials to run in all (a resumed search counts those done);
            Hyperband sizes its own brackets and ignores it.
        project_dir: state directory (default ``<zoo home>/tuning/<name>``).
        quick: small splits and few epochs (``trainer.QUICK_*``).
        epochs: maximum epochs per trial (default: the recipe's, or quick's).
        seed: seeds the oracle, initialisation, shuffling and generated data.
        data_dir, download: where the dataset is (see ``rz.datasets.load``).
        splits: search on these ``Splits`` instead of loading the entry's dataset.
        export_dir: export the retrained best model there (``rz.export``).
        results_dir: where the results file goes (default ``zoo.TUNED_DIR``).
        grid: exact choices over the paper's learning-rate grid (True) or these rates.
        hidden: hidden sizes replacing the entry's (small runs, tests).
        learning_rate, l1, pretrain_learning_rate: ``(low, high)`` log-scale ranges.
        l1_grid: exact L1 values to choose from (``_l1`` entries), e.g. ``(0, 1e-4, 1e-3)``.
        batch_size: override the recipe's mini-batch size.
        retrain: retrain the best model and evaluate it on test (False: skip).
        chief: run only the oracle, serving workers at ``oracle``.
        worker: run trials for the chief at ``oracle`` under this ID.
        oracle: ``"HOST:PORT"`` of the chief.
        max_consecutive_failed_trials: stop after this many failed trials in a row.
        verbose: Keras verbosity inside trials (0 silent).
        progress: print a line per finished trial.

    Returns:
        A ``SearchOutcome``.

    Example:

    >>> out = search("shapeset_rect_l1", quick=True, max_trials=4)
    trial 1/4: lr=0.00345 l1=0.000512 -> val error 12.3%, zeros 71/64/58%
    ...
    >>> out.record["hyperparameters"]
    """
    tuner = validation.choice("tuner", tuner, TUNERS)
    validation.number("max_trials", max_trials, low=1, integer=True)
    validation.number("max_consecutive_failed_trials", max_consecutive_failed_trials, low=1, integer=True)
    role, worker = _role(chief, worker, oracle)
    spec = zoo.get_spec(name, tuned=False)
    _check_places(project_dir, results_dir, export_dir, splits)
    if role != "worker":
        project.load_result(name, results_dir)  # a corrupt results file fails now, not after hours
    recipe, epochs = _base_recipe(spec, quick, epochs, batch_size)
    if splits is None:
        from rectifier_zoo.trainer import load_splits

        splits = load_splits(spec, data_dir, download, quick, seed)
    hypermodel = ZooHyperModel(
        name,
        grid=grid or tuner == "grid",
        learning_rate=learning_rate,
        l1=l1,
        pretrain_learning_rate=pretrain_learning_rate,
        l1_grid=l1_grid,
        hidden=hidden,
        input_dim=splits.num_features,
        num_classes=splits.num_classes,
        seed=seed,
        recipe=recipe,
    )
    # Claimed only once every argument has been checked: a refused call leaves no project behind.
    project_dir = project.claim_project(project_dir or project.default_project_dir(name), name, tuner)
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
    outcome.record = {**summarize(zoo_tuner, hypermodel, tuner), "epochs_per_trial": epochs}
    outcome.results_path = project.write_result(outcome.record, results_dir)
    if progress:
        print(f"best of {outcome.record['trials']} trials: {_describe(outcome.record)}; wrote {outcome.results_path}")
    if retrain:
        _retrain(outcome, zoo_tuner, hypermodel, splits, epochs, seed, verbose, results_dir, progress)
        if export_dir is not None:
            outcome.export_path = export(outcome.result, export_dir)
    return outcome


def _check_places(project_dir, results_dir, export_dir, splits):
    """Folder arguments that are files, and splits of the wrong type, fail before any trial."""
    for label, value in (("project_dir", project_dir), ("results_dir", results_dir), ("export_dir", export_dir)):
        if value is not None:
            validation.folder(label, value)
    if splits is not None:
        from rectifier_zoo.datasets.splits import Splits, check_split

        if not isinstance(splits, Splits):
            raise ConfigError(f"splits must be a rz.datasets.Splits, got {type(splits).__name__}")
        for part in ("train", "valid"):  # trials never see the test split; the retrain's fit checks it
            check_split(splits.name, part, *getattr(splits, part), splits.num_classes)


def _base_recipe(spec, quick, epochs, batch_size):
    from rectifier_zoo import trainer

    recipe = spec.recipe
    if quick:
        recipe = dataclasses.replace(recipe, epochs=trainer.QUICK_EPOCHS, patience=3)
        if recipe.pretrain is not None:
            recipe = dataclasses.replace(recipe, pretrain=dataclasses.replace(recipe.pretrain, epochs=1))
    if epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=validation.number("epochs", epochs, low=1, integer=True))
    if batch_size is not None:
        recipe = dataclasses.replace(recipe, batch_size=validation.number("batch_size", batch_size, low=1, integer=True))
    return recipe, recipe.epochs


def _make_tuner(hypermodel, tuner, max_trials, epochs, seed, project_dir, max_failed, progress):
    from rectifier_zoo.tuning.tuner import ZooTuner, make_oracle

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


def serve(zoo_tuner, host, port, progress=True, poll=0.5):
    """Serve ``zoo_tuner``'s oracle to workers until the search is over.

    KerasTuner's own ``oracle_chief.start_server`` polls every 20 s once the search
    is over; this loop polls every ``poll`` seconds so the chief ends promptly.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    zoo_tuner.save()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(zoo_tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise TuningError(f"the chief cannot listen on {host}:{port} (in use or not this machine's address); pick another --oracle")
    server.start()
    if progress:
        print(f"chief: oracle serving on {host}:{port}; start workers with --worker ID --oracle {host}:{port}", flush=True)
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(zoo_tuner.oracle)):
            time.sleep(poll)
    finally:
        server.stop(grace=1)
    zoo_tuner.save()


def summarize(zoo_tuner, hypermodel, tuner_name) -> dict:
    """The results record: best hyper-parameters, their validation error and sparsity."""
    from rectifier_zoo.training import versions
    from rectifier_zoo.tuning.tuner import failure_reason, layer_zeros

    oracle = zoo_tuner.oracle
    trials = sorted(oracle.trials.values(), key=lambda t: t.trial_id)
    completed = [t for t in trials if t.status == "COMPLETED"]
    if not completed:
        reasons = "; ".join(sorted({failure_reason(t) for t in trials})) or "no trial ran"
        raise TuningError(f"no trial of the search in {zoo_tuner.project_dir} completed ({reasons})")
    best = oracle.get_best_trials(1)[0]
    zeros = layer_zeros(best)
    return {
        "name": hypermodel.spec.name,
        "hyperparameters": effective_values(hypermodel, best.hyperparameters),
        "val_error": float(best.score),
        "sparsity": {f"hidden_{i}": z for i, z in enumerate(zeros, start=1)},
        "trials": len(trials),
        "completed": len(completed),
        "failed": [{"trial_id": t.trial_id, "reason": failure_reason(t)} for t in trials if t.status != "COMPLETED"],
        "all_trials": [_trial_row(hypermodel, t) for t in trials],
        "best_trial": best.trial_id,
        "tuner": tuner_name,
        "date": project.now(),
        "versions": versions(),
    }


def _trial_row(hypermodel, trial) -> dict:
    """One trial as the results file lists it: its values, validation error and status."""
    return {
        "trial_id": trial.trial_id,
        "hyperparameters": effective_values(hypermodel, trial.hyperparameters),
        "val_error": None if trial.score is None else float(trial.score),
        "status": trial.status,
    }


def _describe(record) -> str:
    from rectifier_zoo.tuning.tuner import format_values

    zeros = "/".join(f"{z:.0%}".rstrip("%") for z in record["sparsity"].values())
    return f"{format_values(record['hyperparameters'])} -> val error {record['val_error']:.2%}, zeros {zeros}%"


def _retrain(outcome, zoo_tuner, hypermodel, splits, epochs, seed, verbose, results_dir, progress):
    """Retrain the best model on train, evaluate it once on test, record it beside the search's result."""
    from rectifier_zoo.training import fit
    from rectifier_zoo.tuning.tuner import values_key

    best = zoo_tuner.oracle.get_best_trials(1)[0]
    values = dict(best.hyperparameters.values)
    model = hypermodel.build(best.hyperparameters)
    recipe = hypermodel.recipe(best.hyperparameters, epochs)  # full epochs, even for a Hyperband winner
    checkpoint_dir = outcome.project_dir / "final" / values_key(values)
    result = fit(model, splits, recipe, seed=seed, verbose=verbose, checkpoint_dir=checkpoint_dir)
    result.hyperparameters.update({**outcome.record["hyperparameters"], "tuned": True, "hidden": list(hypermodel.hidden or hypermodel.spec.hidden)})
    result.model = model
    outcome.result = result
    outcome.record["retrained"] = {
        "test_error": result.test_error,
        "valid_error": result.valid_error,
        "sparsity": {layer: s["zeros"] for layer, s in result.sparsity.items()},
        "epochs": result.epochs,
    }
    project.write_result(outcome.record, results_dir)
    if progress:
        print(f"retrained best: {result.summary()}")


def export(result, export_dir):
    """Export the retrained model for TF Serving (``rectifier_zoo.serving.export``)."""
    from rectifier_zoo import serving  # TensorFlow-heavy: only when asked

    return serving.export(result.model, export_dir, result=result)

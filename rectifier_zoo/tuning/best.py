"""The best of a finished search: its results record, and its retraining.

``summarize`` turns the oracle's trials into the record ``project.write_result``
writes (best hyper-parameters, their validation error and sparsity, every trial);
``retrain`` trains the best values again on the train split, evaluates them on
test once, and adds that to the record.
"""

from __future__ import annotations

from rectifier_zoo._internal import environment
from rectifier_zoo.training import fit as training
from rectifier_zoo.errors import TuningError
from rectifier_zoo.tuning import project
from rectifier_zoo.tuning.hypermodel import effective_values
from rectifier_zoo.tuning.tuner import failure_reason, format_values, layer_zeros, values_key


def summarize(zoo_tuner, hypermodel, tuner_name) -> dict:
    """The results record: best hyper-parameters, their validation error and sparsity."""
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
        "versions": environment.library_versions(),
    }


def _trial_row(hypermodel, trial) -> dict:
    """One trial as the results file lists it: its values, validation error and status."""
    return {
        "trial_id": trial.trial_id,
        "hyperparameters": effective_values(hypermodel, trial.hyperparameters),
        "val_error": None if trial.score is None else float(trial.score),
        "status": trial.status,
    }


def describe(record) -> str:
    """``lr=0.01 l1=0.001 -> val error 4.20%, zeros 81/64/55%``: a record's best, in one line."""
    zeros = "/".join(f"{z:.0%}".rstrip("%") for z in record["sparsity"].values())
    return f"{format_values(record['hyperparameters'])} -> val error {record['val_error']:.2%}, zeros {zeros}%"


def retrain(outcome, zoo_tuner, hypermodel, splits, epochs, seed, verbose, results_dir, progress):
    """Retrain the best model on train, evaluate it once on test, record it beside the search's result."""
    best = zoo_tuner.oracle.get_best_trials(1)[0]
    values = dict(best.hyperparameters.values)
    model = hypermodel.build(best.hyperparameters)
    recipe = hypermodel.recipe(best.hyperparameters, epochs)  # full epochs, even for a Hyperband winner
    checkpoint_dir = outcome.project_dir / "final" / values_key(values)
    result = training.fit(model, splits, recipe, seed=seed, verbose=verbose, checkpoint_dir=checkpoint_dir)
    result.hyperparameters.update({**outcome.record["hyperparameters"], "tuned": True, "hidden": list(hypermodel.hidden)})
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

"""A search's project directory and its results file.

The project directory holds KerasTuner's state (``oracle.json``, ``trial_*/``), the
per-trial checkpoints (``checkpoints/<values key>/``) and ``zoo_entry.json``, which
names the zoo entry and tuner the directory belongs to; a search of another entry,
or with another tuner, is refused rather than mixed into it.

The results file ``<results dir>/<name>.json`` (default ``zoo.TUNED_DIR``, i.e.
``tuning/results/``) records a search. It changes no entry by itself: its values
reach ``zoo.get_spec(name)`` (and so ``rz.train``) once they are adopted into
``zoo.TUNED``, the reviewed declaration; ``adoption`` writes the line to add.
"""

from __future__ import annotations

import datetime
import json
import pathlib

from rectifier_zoo import zoo
from rectifier_zoo._internal import atomic, paths
from rectifier_zoo.errors import TuningError

ENTRY_FILE = "zoo_entry.json"
RESULT_KEYS = ("name", "hyperparameters", "val_error", "sparsity", "trials", "tuner", "date", "versions")


def default_project_dir(name) -> pathlib.Path:
    """``<zoo home>/tuning/<name>``: where a search keeps its state unless told otherwise."""
    return paths.zoo_home() / "tuning" / name


def claim_project(project_dir, name, tuner) -> pathlib.Path:
    """Create ``project_dir`` for entry ``name`` or check that it already belongs to it.

    Raises:
        TuningError: the directory belongs to another entry or tuner, or holds files
            that are not a zoo search's.
    """
    project_dir = pathlib.Path(project_dir)
    marker = project_dir / ENTRY_FILE
    if marker.exists():
        try:
            owner = json.loads(marker.read_text())
            owner_name, owner_tuner = owner["name"], owner["tuner"]
        except (ValueError, KeyError, TypeError) as err:
            raise TuningError(f"{marker} does not parse ({err}); delete {project_dir} to start the search afresh") from None
        if owner_name != name:
            raise TuningError(
                f"project dir {project_dir} belongs to the search of {owner_name!r}, not {name!r}; "
                f"pass another --project-dir (e.g. {project_dir.parent / name})"
            )
        if owner_tuner != tuner:
            raise TuningError(
                f"project dir {project_dir} holds a {owner_tuner} search; resume it with --tuner {owner_tuner} "
                f"or pass another --project-dir for a {tuner} search"
            )
        return project_dir
    # Another process of the same search (chief and workers start together) may be writing
    # the marker right now: its temporary file does not make the folder someone else's.
    claiming = f".{ENTRY_FILE}."
    if project_dir.exists() and any(not p.name.startswith(claiming) for p in project_dir.iterdir()):
        raise TuningError(
            f"{project_dir} is not empty and is not a rectifier-zoo search (no {ENTRY_FILE}); "
            "pass an empty or new --project-dir"
        )
    project_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(marker, {"name": name, "tuner": tuner, "created": now()})
    return project_dir


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def results_path(name, results_dir=None) -> pathlib.Path:
    """``<results_dir>/<name>.json``; ``results_dir`` defaults to ``zoo.TUNED_DIR`` (read at call time)."""
    return pathlib.Path(zoo.TUNED_DIR if results_dir is None else results_dir) / f"{name}.json"


def load_result(name, results_dir=None):
    """The recorded result of the search of ``name``, or None when there is none.

    Args:
        name: a zoo entry.
        results_dir: where results files are (default: ``zoo.TUNED_DIR``).

    Raises:
        TuningError: the file exists but is not a valid results file.

    Example:

    >>> load_result("mnist_rect_l1")["hyperparameters"]
    {'learning_rate': 0.01, 'l1': 0.001}
    """
    path = results_path(name, results_dir)
    if not path.exists():
        return None
    try:
        result = json.loads(path.read_text())
        missing = [k for k in RESULT_KEYS if k not in result]
        if missing:
            raise ValueError(f"missing keys {missing}")
        if "learning_rate" not in result["hyperparameters"]:
            raise ValueError("hyperparameters lack learning_rate")
    except (ValueError, TypeError) as err:
        raise TuningError(
            f"results file {path} does not parse ({err}); delete it, or pass --results-dir to write elsewhere"
        ) from None
    return result


def write_result(result, results_dir=None) -> pathlib.Path:
    """Write a results dict (keys ``RESULT_KEYS`` and more) atomically; returns its path."""
    path = results_path(result["name"], results_dir)
    atomic.write_json(path, result)
    return path


def merge_passes(records) -> dict:
    """One results record from searches of the same entry run in passes (e.g. a grid, then
    a rate between two of its points): every trial of every pass, the best over all.

    Each trial keeps the pass it came from (``pass``, from 1); the pass records'
    own ``tuner`` and ``epochs_per_trial`` are listed under ``passes``. Passes must
    have searched with the same epochs per trial, so their validation errors compare.

    Example:

    >>> merge_passes([load_result("mnist_rect", "pass1"), load_result("mnist_rect", "pass2")])["hyperparameters"]
    {'learning_rate': 0.03}
    """
    records = list(records)
    names = {r["name"] for r in records}
    epochs = {r.get("epochs_per_trial") for r in records}
    if len(names) != 1 or len(epochs) != 1:
        raise TuningError(
            f"passes to merge must be of one entry with the same epochs per trial, got entries {sorted(names)} "
            f"and epochs {sorted(epochs, key=str)}; merge only passes of one search"
        )
    best = min(records, key=lambda r: r["val_error"])
    trials = [{**t, "pass": i} for i, r in enumerate(records, start=1) for t in r.get("all_trials", [])]
    return {
        **best,
        "trials": sum(r["trials"] for r in records),
        "completed": sum(r.get("completed", r["trials"]) for r in records),
        "failed": [f for r in records for f in r.get("failed", [])],
        "all_trials": trials,
        "tuner": " + ".join(r["tuner"] for r in records),
        "passes": [{"pass": i, "tuner": r["tuner"], "date": r["date"], "trials": r["trials"]} for i, r in enumerate(records, 1)],
        "date": now(),
    }


def adoption(record) -> str:
    """How to use a search's values: the ``zoo.TUNED`` line that adopts them, and a trial run.

    Example:

    >>> print(adoption({"name": "mnist_tanh", "hyperparameters": {"learning_rate": 0.03}}))
    to adopt these values, add to TUNED in rectifier_zoo/entries.py:
        "mnist_tanh": Tuned(learning_rate=0.03, record="tuning/results/mnist_tanh.json"),
    to try them first: rectifier-zoo train mnist_tanh --learning-rate 0.03
    """
    name, hp = record["name"], record["hyperparameters"]
    values = ", ".join(f"{key}={hp[key]!r}" for key in sorted(hp))
    flags = " ".join(f"--{key.replace('_', '-')} {hp[key]!r}" for key in sorted(hp) if key in ("learning_rate", "l1"))
    return (
        "to adopt these values, add to TUNED in rectifier_zoo/entries.py:\n"
        f'    "{name}": Tuned({values}, record="tuning/results/{name}.json"),\n'
        f"to try them first: rectifier-zoo train {name} {flags}"
    )

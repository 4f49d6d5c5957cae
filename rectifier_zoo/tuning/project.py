"""A search's project directory, its record, and recording it in the repository.

The project directory holds KerasTuner's state (``oracle.json``, ``trial_*/``), the
per-trial checkpoints (``checkpoints/<values key>/``), ``zoo_entry.json``, which
names the zoo entry and tuner the directory belongs to (a search of another entry,
or with another tuner, is refused rather than mixed into it), and the search's
record ``<name>.json`` (or that goes to the results dir the search was given).

A search writes only there: where it runs. The repository's ``tuning/results/``
(``zoo.TUNED_DIR``) keeps the records of the zoo's own searches, and a record goes
there only by an explicit step, ``record`` (``rectifier-zoo tune ... --record``,
``rectifier-zoo record``), which refuses to replace the record of a fuller search
with a smaller one unless told to, and refuses outside a checkout: nothing a user
runs writes into the installed package. Even there a record changes no entry: its
values reach ``zoo.get_spec(name)`` (and so ``rz.train``) once they are adopted into
``TUNED`` in ``rectifier_zoo/entries.py``, the reviewed declaration; ``adoption``
writes the line to add.
"""

from __future__ import annotations

import datetime
import json
import pathlib

from rectifier_zoo import zoo
from rectifier_zoo._internal import advice, atomic, paths
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
    """``<results_dir>/<name>.json``; ``results_dir`` defaults to the repository's records, ``zoo.TUNED_DIR``."""
    return pathlib.Path(zoo.TUNED_DIR if results_dir is None else results_dir) / f"{name}.json"


def load_result(name, results_dir=None):
    """The recorded result of the search of ``name``, or None when there is none.

    Args:
        name: a zoo entry.
        results_dir: where results files are: a search's project or results dir
            (default: the repository's records, ``zoo.TUNED_DIR``).

    Raises:
        TuningError: the file exists but is not a valid results file.

    Example:

    >>> load_result("mnist_rect_l1")["hyperparameters"]
    {'learning_rate': 0.03, 'l1': 0.0001}
    """
    return read_record(results_path(name, results_dir))


def read_record(path):
    """The search record in file ``path``, or None when there is no such file (TuningError: not a record)."""
    path = pathlib.Path(path)
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
            f"results file {path} does not parse ({err}); delete it, or pass {advice.option('results_dir', 'DIR')} to write elsewhere"
        ) from None
    return result


def write_result(result, results_dir) -> pathlib.Path:
    """Write a search's record (keys ``RESULT_KEYS`` and more) atomically into ``results_dir``; returns its path."""
    path = results_path(result["name"], results_dir)
    atomic.write_json(path, result)
    return path


def record(name, source=None, replace=False) -> pathlib.Path:
    """Copy the record of a finished search of ``name`` into the repository's ``tuning/results/``.

    Args:
        name: a zoo entry.
        source: the record file, or the folder holding ``<name>.json`` (the search's
            project dir or results dir; default: ``default_project_dir(name)``).
        replace: replace the record there even when it is of a fuller search.

    Returns:
        The path written, ``results_path(name)``.

    Raises:
        TuningError: no record at ``source``, one of another entry, this rectifier_zoo
            is installed rather than a checkout, or the record there is of a fuller search.

    Example:

    >>> record("shapeset_rect_l1", "/tmp/smoke")  # a --quick search of 3 trials: refused, the record there has 11 of 8 epochs
    >>> record("shapeset_rect_l1", "/tmp/smoke", replace=True)  # on purpose
    PosixPath('.../tuning/results/shapeset_rect_l1.json')
    """
    source = default_project_dir(name) if source is None else pathlib.Path(source)
    path = source if source.suffix == ".json" else results_path(name, source)
    found = read_record(path)
    if found is None:
        raise TuningError(f"no record of a search at {path}; run the search first, or pass the folder it wrote to ({advice.option('from', 'DIR') if advice.in_cli() else 'source=DIR'})")
    if found["name"] != name:
        raise TuningError(f"{path} records a search of {found['name']!r}, not {name!r}; pass the record of {name}'s search")
    check_recordable(name, found, replace)
    target = results_path(name)
    atomic.write_json(target, found)
    return target


def check_recordable(name, new, replace=False) -> None:
    """Refuse what ``record`` would refuse, before a search: outside a checkout, or a smaller search's record.

    ``new`` is the record, or what is known of it before the search (e.g. ``{"quick": True}``).
    """
    if not in_checkout():
        raise TuningError(
            f"this rectifier_zoo is installed ({paths.REPO_ROOT}), not a checkout of its repository: records go into "
            "a checkout's tuning/results/, reviewed in git; run from a clone, or keep the record where the search wrote it"
        )
    old = load_result(name)
    reasons = [] if old is None or replace else fuller_by(old, new)
    if reasons:
        raise TuningError(
            f"{results_path(name)} records a fuller search than this one ({'; '.join(reasons)}); "
            f"keep it, or pass {advice.option('replace')} to replace it"
        )


def in_checkout() -> bool:
    """Whether this rectifier_zoo runs from a checkout of its repository (not from an installed copy)."""
    root = paths.REPO_ROOT
    return (root / "pyproject.toml").is_file() and root.name not in ("site-packages", "dist-packages")


def fuller_by(old, new) -> list:
    """How the search recorded in ``old`` was fuller than ``new``'s; empty: ``new`` may replace it.

    Compared on what ``new`` says: a ``--quick`` search against a full one, completed
    trials, epochs per trial, training examples. A record that does not say its epochs
    per trial (runs of full length, recorded by hand) is fuller than any search.

    Example:

    >>> fuller_by({"trials": 11, "epochs_per_trial": 8}, {"completed": 3, "epochs_per_trial": 1, "quick": True})
    ['a --quick search against a full one', 'completed trials: 3 against 11', 'epochs per trial: 1 against 8']
    """
    reasons = ["a --quick search against a full one"] if new.get("quick") and not old.get("quick") else []
    was, now = _sizes(old), _sizes(new)
    for label, value in now.items():
        if value is None:
            continue
        if was[label] is None and label == "epochs per trial":
            reasons.append("the recorded search does not say its epochs per trial (runs of full length?)")
        elif was[label] is not None and value < was[label]:
            reasons.append(f"{label}: {value} against {was[label]}")
    return reasons


def _sizes(record) -> dict:
    return {
        "completed trials": record.get("completed", record.get("trials")),
        "epochs per trial": record.get("epochs_per_trial"),
        "training examples": record.get("train_examples"),
    }


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

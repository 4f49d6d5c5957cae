"""Reproduce the paper's tables: train entries over seeds, then set our figures beside the paper's.

A reproduction is a *plan* of runs (entry x seed, or entry x L1 value x seed for the
Figure 3 sweep, or entry x α x seed for the NORB softplus-to-rectifier sweep).
``run_plan`` trains them one by one and writes each finished run's
result JSON into the output directory, atomically, as soon as it finishes; a run
whose JSON is already there is loaded instead of retrained, so a crash or Ctrl-C
loses nothing finished and a rerun picks up where the last one stopped.

    plan = reproduction.plan(["shapeset"], seeds=3)
    results = reproduction.run_plan(plan, out="runs/reproduce", quick=True)
    print(reproduction_summary.summary_table(results))

``rectifier_zoo.reproduction.summary`` prints a run's results beside the paper's
(and the shipped models' first); ``rectifier-zoo report`` (``rectifier_zoo.reproduction.report``)
turns the JSONs into Markdown and figures.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import math
import pathlib

from rectifier_zoo import datasets as data  # `datasets` is plan()'s argument
from rectifier_zoo import paper, zoo
from rectifier_zoo._internal import validation
from rectifier_zoo.errors import ArtifactError, ConfigError, TrainingError
from rectifier_zoo.reproduction.results import mode_of, superseded

# Figure 3: the paper swept L1 from 0 to 0.01 on MNIST; these span it on a log-ish grid.
DEFAULT_L1_SWEEP = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)

# The paper's finite α values (its NORB sweep); the plan always adds the α = ∞ point.
DEFAULT_ALPHA_SWEEP = tuple(a for a in paper.ALPHA_NORB if math.isfinite(a))

# --tiny (for tests and CI notebooks only): a few hundred examples, one epoch.
TINY_SIZES = {"n_train": 300, "n_valid": 100, "n_test": 100}
TINY_EPOCHS = 1


def table1_entries(dataset) -> list[str]:
    """The entries of ``dataset`` in workshop Table 1's rows, in the paper's order."""
    return [f"{dataset}_{row}" for row in paper.TABLE1_ROWS]


def dataset_entries(dataset, pattern=None) -> list[str]:
    """The zoo entries of ``dataset`` to reproduce.

    Args:
        dataset: a zoo dataset, e.g. ``"shapeset"``.
        pattern: ``None`` for the workshop Table 1 rows (rect_l1, rect, softplus,
            tanh); else an fnmatch pattern over the entry name without the dataset
            prefix (``"*"``: all 8 entries, ``"*_dae"``: the pre-trained ones), or
            over the full name (``"shapeset_rect*"``).

    Example:

    >>> dataset_entries("shapeset", "*_dae")
    ['shapeset_rect_dae', 'shapeset_rect_l1_dae', 'shapeset_softplus_dae', 'shapeset_tanh_dae']
    """
    known = sorted({info.name for info in zoo.DATASETS})
    validation.choice("dataset", dataset, known)
    if pattern is None:
        return table1_entries(dataset)
    names = [n for n in zoo.list_models(f"{dataset}_*") if zoo.parse_name(n)["dataset"] == dataset]
    chosen = [n for n in names if fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(n[len(dataset) + 1 :], pattern)]
    if not chosen:
        raise ConfigError(
            f"--entries {pattern!r} matches no {dataset} entry; use '*' for all 8 or a pattern such as "
            f"'rect*' over: {', '.join(n[len(dataset) + 1:] for n in names)}"
        )
    return chosen


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run of a reproduction.

    Attributes:
        name: the zoo entry.
        seed: its seed (initialisation, shuffling, generated data).
        l1: the L1 penalty of a Figure 3 sweep run; ``None`` for a table run (the
            entry's own, possibly tuned, penalty).
        alpha: the α of a softplus-to-rectifier sweep run (``math.inf``: the
            ``_rect`` entry); ``None`` for any other run.
        options: the dataset options of a run on a variant of the entry's data,
            as sorted ``(name, value)`` pairs; ``()`` for the data as it is.
    """

    name: str
    seed: int
    l1: float | None = None
    alpha: float | None = None
    options: tuple = ()

    def run_id(self, mode="full") -> str:
        """The result file's stem: entry, sweep value, data options, seed and mode (quick/tiny runs
        never shadow full ones, nor a variant's run the entry's own)."""
        sweep = "" if self.l1 is None else f"--l1-{self.l1:g}"
        sweep += "" if self.alpha is None else f"--alpha-{self.alpha:g}"
        sweep += "".join(f"--{key}-{str(value).lower()}" for key, value in self.options)
        return f"{self.name}{sweep}--seed{self.seed}" + ("" if mode == "full" else f"--{mode}")


def plan(datasets=("shapeset",), seeds=1, first_seed=0, entries=None, l1_sweep=None, alpha_sweep=None,
         dataset_options=None) -> list[Run]:
    """The runs of a reproduction, in the order they train.

    Args:
        datasets: zoo datasets.
        seeds: number of seeds per entry (or per sweep value).
        first_seed: seeds are ``first_seed .. first_seed + seeds - 1``.
        entries: pattern for ``dataset_entries`` (None: the workshop Table 1 rows).
        l1_sweep: L1 values; if given, the plan is the Figure 3 sweep of
            ``<dataset>_rect_l1`` over them instead of the table rows.
        alpha_sweep: α values (> 0); if given, the plan is the AISTATS NORB sweep
            instead: ``<dataset>_softplus`` with ``(1/α)·softplus(αx)`` for each
            finite α, then the α = ∞ point, ``<dataset>_rect`` (always added).
        dataset_options: every run on this variant of its dataset, e.g.
            ``{"swap": False}`` (see ``rz.datasets.check_options``); options equal
            to the defaults are dropped, so ``{}`` is the data as it is.

    Example:

    >>> [r.run_id() for r in plan(["shapeset"], seeds=2)][:2]
    ['shapeset_rect_l1--seed0', 'shapeset_rect_l1--seed1']
    >>> plan(["shapeset"], entries="rect", dataset_options={"swap": False})[0].run_id("quick")
    'shapeset_rect--swap-false--seed0--quick'
    """
    validation.number("seeds", seeds, low=1, integer=True)
    validation.number("first seed", first_seed, low=0, integer=True)
    seed_list = range(first_seed, first_seed + seeds)
    for dataset in datasets:
        dataset_entries(dataset)  # an unknown dataset fails here, before anything trains
    # Checked per dataset now (a bad option fails before anything trains), kept in a stable order.
    options = {d: tuple(sorted(data.check_options(d, dataset_options).items())) for d in datasets}
    if l1_sweep is not None:
        values = [validation.number("L1 sweep value", v, low=0.0, high=1.0) for v in l1_sweep]
        if not values:
            raise ConfigError("the L1 sweep needs at least one value, e.g. --l1-sweep 0 0.001 0.01")
        return [Run(f"{d}_rect_l1", s, float(v), options=options[d]) for d in datasets for v in values for s in seed_list]
    if alpha_sweep is not None:
        return [dataclasses.replace(r, options=options[zoo.get_spec(r.name).dataset])
                for r in alpha_plan(datasets, alpha_sweep, seed_list)]
    return [Run(name, s, options=options[d]) for d in datasets for name in dataset_entries(d, entries) for s in seed_list]


def alpha_plan(datasets, values, seed_list) -> list[Run]:
    """The softplus-to-rectifier sweep: each finite α on ``_softplus``, then ∞ on ``_rect``."""
    if not values:
        raise ConfigError("the α sweep needs at least one value, e.g. --alpha-sweep 1 2 6 (∞ is always added)")
    for v in values:
        if not (isinstance(v, (int, float)) and v > 0):  # also refuses NaN
            raise ConfigError(f"α sweep value must be a number > 0, got {v!r}; e.g. --alpha-sweep 1 1.3 2 3 6")
    finite = list(dict.fromkeys(float(v) for v in values if math.isfinite(v)))
    # α = ∞ is the rectifier. Like the softplus runs, the _rect entry carries no L1
    # (the paper's ∞ figure, 16.40%, is its rectifier net, which did carry one).
    runs = []
    for d in datasets:
        points = [(f"{d}_softplus", a) for a in finite] + [(f"{d}_rect", math.inf)]
        runs += [Run(name, s, alpha=a) for name, a in points for s in seed_list]
    return runs


def result_path(out, run, mode="full") -> pathlib.Path:
    return pathlib.Path(out) / f"{run.run_id(mode)}.json"


def load_result(path):
    """A finished run's ``TrainResult`` from its JSON; a corrupt file is an ``ArtifactError``."""
    from rectifier_zoo.training.fit import TrainResult

    try:
        return TrainResult.load(path)
    except (ValueError, TypeError) as err:
        raise ArtifactError(f"{path} is not a result JSON ({err}); delete it and rerun to train that run again") from None


def tiny_splits(spec, seed=0, data_dir=None, dataset_options=None):
    """A few hundred examples of the entry's dataset (``--tiny``: tests and CI only)."""
    from rectifier_zoo.training.entry_data import load_splits

    options = data.check_options(spec.dataset, dataset_options)
    if data.descriptor(spec.dataset).generated:  # generate only what is used
        return data.load(spec.dataset, seed=seed, **TINY_SIZES, **options)
    return load_splits(spec, data_dir, quick=True, seed=seed, dataset_options=options).subset(*TINY_SIZES.values())


def train_run(run, *, quick=False, tiny=False, data_dir=None, download=False, verbose=2, epochs=None, checkpoint_dir=None):
    """Train one ``Run`` and return its ``TrainResult`` (with ``.model``), tagged for the report."""
    from rectifier_zoo.api import train
    from rectifier_zoo.training.entry_data import data_hyperparameters

    overrides = {} if run.l1 is None else {"l1": run.l1}
    if run.alpha is not None and math.isfinite(run.alpha):  # the ∞ point is the _rect entry as it is
        overrides["softplus_alpha"] = run.alpha
    spec, options = zoo.get_spec(run.name), dict(run.options)
    splits = tiny_splits(spec, run.seed, data_dir, options) if tiny else None
    if tiny and epochs is None:
        epochs = TINY_EPOCHS
    result = train(
        run.name,
        epochs=epochs,
        quick=quick or tiny,
        seed=run.seed,
        data_dir=data_dir,
        download=download,
        dataset_options=None if tiny else options,
        splits=splits,
        verbose=verbose,
        checkpoint_dir=checkpoint_dir,
        **overrides,
    )
    if tiny:  # the trainer records nothing about splits it was handed: these are the entry's own
        result.hyperparameters.update(data_hyperparameters(spec, options))
    # The report tells sweep runs from table runs and tiny runs from quick ones by these.
    result.hyperparameters.update({"l1_sweep": run.l1 is not None, "tiny": bool(tiny), "run_id": run.run_id(mode_of(quick, tiny))})
    if run.alpha is not None:
        result.hyperparameters.update({"alpha_sweep": True, "softplus_alpha": alpha_json(run.alpha)})
    return result


def alpha_json(alpha):
    """α as saved: a number, or ``"inf"`` for ∞ (JSON has no infinity; ``float()`` reads both back)."""
    return alpha if math.isfinite(alpha) else "inf"


def free_graph_memory():
    """Drop Keras' global state between runs, so a sweep of many models runs in flat memory."""
    import keras

    keras.backend.clear_session()


# Where a finished run that no longer fits its run id goes (beside the results, so reports still list it).
SUPERSEDED_DIR = "superseded"


def move_superseded(paths, say=print) -> None:
    """Move aside each finished run (``.json`` and its ``.keras``) that no longer fits its run id.

    Such a file (a run on an earlier generator, or at a rate or L1 since tuned) would be
    loaded in place of the run now planned; moved into ``<out>/superseded/`` it is kept,
    and a report reading ``<out>`` lists it among the other recipes or earlier data.
    """
    for path in paths:
        if not (path.exists() and superseded(json.loads(path.read_text()))):
            continue
        target_dir = path.parent / SUPERSEDED_DIR
        target_dir.mkdir(exist_ok=True)
        target = _free_name(target_dir / path.name)
        keras_file = path.with_suffix(".keras")
        if keras_file.exists():
            keras_file.replace(target.with_suffix(".keras"))
        path.replace(target)  # last: until here the run still reads as finished where it was
        say(f"{path.name}: trained by a recipe or data its entry no longer uses; moved to {target} (kept), "
            "training the run again")


def _free_name(path: pathlib.Path) -> pathlib.Path:
    """``path``, or ``stem-2.json``, ``stem-3.json``, ... where that name is taken."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def run_plan(
    runs,
    out,
    *,
    quick=False,
    tiny=False,
    data_dir=None,
    download=False,
    verbose=2,
    epochs=None,
    save_models=False,
    checkpoint_dir=None,
    say=print,
):
    """Train every run of ``runs`` not already finished in ``out``; return all their results.

    Each finished run's result is written to ``out/<run id>.json`` atomically right
    away; a run whose JSON exists is loaded, not retrained (delete the file to
    retrain it), unless it was trained by a recipe or data its entry no longer uses:
    then it is moved to ``out/superseded/`` first (``move_superseded``).

    Args:
        runs: ``Run``s, e.g. from ``plan``.
        out: directory of the result JSONs (created if missing).
        quick: the trainer's quick mode (small splits, few epochs).
        tiny: even smaller (300/100/100 examples, 1 epoch): for tests and CI only.
        data_dir, download: passed to the dataset loaders.
        verbose: Keras verbosity of each run (2: a line per epoch).
        epochs: override the recipe's maximum epochs.
        save_models: also save each model as ``out/<run id>.keras``.
        checkpoint_dir: if set, each run checkpoints every epoch in
            ``checkpoint_dir/<run id>/`` and a killed run resumes there.
        say: where progress lines go.

    Returns:
        The ``TrainResult``s, in the order of ``runs``. Their ``.model`` is None: models
        are freed between runs (pass ``save_models`` to keep them on disk).

    Example:

    >>> results = run_plan(plan(["shapeset"]), "runs/reproduce", quick=True)
    """
    from rectifier_zoo._internal import atomic

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mode = mode_of(quick, tiny)
    move_superseded([result_path(out, run, mode) for run in runs], say=say)
    results, diverged = [], []
    for i, run in enumerate(runs, start=1):
        path = result_path(out, run, mode)
        label = f"[{i}/{len(runs)}] {run.run_id(mode)}"
        if path.exists():
            results.append(load_result(path))
            say(f"{label}: done before, loaded {path}")
            continue
        say(f"{label}: training{' (' + mode + ')' if mode != 'full' else ''}")
        ckpt = None if checkpoint_dir is None else pathlib.Path(checkpoint_dir) / run.run_id(mode)
        try:
            result = train_run(
                run, quick=quick, tiny=tiny, data_dir=data_dir, download=download, verbose=verbose, epochs=epochs,
                checkpoint_dir=ckpt,
            )
        except TrainingError as error:  # one diverged run must not cost the runs after it
            say(f"{label}: failed, no result written: {error}")
            diverged.append(f"{run.run_id(mode)} ({error})")
            continue
        if save_models:
            with atomic.atomic_path(path.with_suffix(".keras"), suffix=".keras") as tmp:
                result.model.save(tmp)
        result.save(path)  # last: its presence is what marks the run finished
        result.model = None  # a long sweep must not hold every model it trained
        free_graph_memory()
        results.append(result)
        say("    " + result.summary())
    if diverged:
        raise TrainingError(f"{len(diverged)} of {len(runs)} runs diverged and wrote no result: {'; '.join(diverged)}. "
                            "The others finished; their results are in " + str(out))
    return results

"""Reproduce the paper's tables: train entries over seeds, then set our figures beside the paper's.

A reproduction is a *plan* of runs (entry x seed, or entry x L1 value x seed for the
Figure 3 sweep).  ``run_plan`` trains them one by one and writes each finished run's
result JSON into the output directory, atomically, as soon as it finishes; a run
whose JSON is already there is loaded instead of retrained, so a crash or Ctrl-C
loses nothing finished and a rerun picks up where the last one stopped.

    plan = reproduction.plan(["shapeset"], seeds=3)
    results = reproduction.run_plan(plan, out="runs/reproduce", quick=True)
    print(reproduction.summary_table(results))

``rectifier-zoo report`` (``rectifier_zoo.report``) turns the JSONs into Markdown
and figures.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import pathlib

from rectifier_zoo import validation, zoo
from rectifier_zoo.errors import ArtifactError, ConfigError

# Workshop Table 1 (no pre-training): its rows, in the paper's order.
TABLE1_NEURONS = ("rect_l1", "rect", "softplus", "tanh")

# Figure 3: the paper swept L1 from 0 to 0.01 on MNIST; these span it on a log-ish grid.
DEFAULT_L1_SWEEP = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)

# --tiny (for tests and CI notebooks only): a few hundred examples, one epoch.
TINY_SIZES = {"n_train": 300, "n_valid": 100, "n_test": 100}
TINY_EPOCHS = 1


def table1_entries(dataset) -> list[str]:
    return [f"{dataset}_{neuron}" for neuron in TABLE1_NEURONS]


def paper_figure(spec, source_prefix="workshop"):
    """The paper's figure for the entry (the workshop's first, where there is one)."""
    for fig in spec.paper:
        if fig.source.startswith(source_prefix):
            return fig
    return spec.paper[0] if spec.paper else None


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
    """

    name: str
    seed: int
    l1: float | None = None

    def run_id(self, mode="full") -> str:
        """The result file's stem: entry, sweep value, seed and mode (quick/tiny runs never shadow full ones)."""
        sweep = "" if self.l1 is None else f"--l1-{self.l1:g}"
        return f"{self.name}{sweep}--seed{self.seed}" + ("" if mode == "full" else f"--{mode}")


def plan(datasets=("shapeset",), seeds=1, first_seed=0, entries=None, l1_sweep=None) -> list[Run]:
    """The runs of a reproduction, in the order they train.

    Args:
        datasets: zoo datasets.
        seeds: number of seeds per entry (or per sweep value).
        first_seed: seeds are ``first_seed .. first_seed + seeds - 1``.
        entries: pattern for ``dataset_entries`` (None: the workshop Table 1 rows).
        l1_sweep: L1 values; if given, the plan is the Figure 3 sweep of
            ``<dataset>_rect_l1`` over them instead of the table rows.

    Example:

    >>> [r.run_id() for r in plan(["shapeset"], seeds=2)][:2]
    ['shapeset_rect_l1--seed0', 'shapeset_rect_l1--seed1']
    """
    validation.number("seeds", seeds, low=1, integer=True)
    validation.number("first seed", first_seed, low=0, integer=True)
    seed_list = range(first_seed, first_seed + seeds)
    for dataset in datasets:
        dataset_entries(dataset)  # an unknown dataset fails here, before anything trains
    if l1_sweep is not None:
        values = [validation.number("L1 sweep value", v, low=0.0, high=1.0) for v in l1_sweep]
        if not values:
            raise ConfigError("the L1 sweep needs at least one value, e.g. --l1-sweep 0 0.001 0.01")
        return [Run(f"{d}_rect_l1", s, float(v)) for d in datasets for v in values for s in seed_list]
    return [Run(name, s) for d in datasets for name in dataset_entries(d, entries) for s in seed_list]


def mode_of(quick=False, tiny=False) -> str:
    return "tiny" if tiny else "quick" if quick else "full"


def result_path(out, run, mode="full") -> pathlib.Path:
    return pathlib.Path(out) / f"{run.run_id(mode)}.json"


def load_result(path):
    """A finished run's ``TrainResult`` from its JSON; a corrupt file is an ``ArtifactError``."""
    from rectifier_zoo.training import TrainResult

    try:
        return TrainResult.load(path)
    except (ValueError, TypeError) as err:
        raise ArtifactError(f"{path} is not a result JSON ({err}); delete it and rerun to train that run again") from None


def tiny_splits(spec, seed=0, data_dir=None):
    """A few hundred examples of the entry's dataset (``--tiny``: tests and CI only)."""
    from rectifier_zoo import datasets
    from rectifier_zoo.trainer import load_splits

    if spec.dataset.startswith("shapeset"):  # generate only what is used
        return datasets.load(spec.dataset, seed=seed, **TINY_SIZES)
    return load_splits(spec, data_dir, quick=True, seed=seed).subset(*TINY_SIZES.values())


def train_run(run, *, quick=False, tiny=False, data_dir=None, download=False, verbose=2, epochs=None):
    """Train one ``Run`` and return its ``TrainResult`` (with ``.model``), tagged for the report."""
    from rectifier_zoo.trainer import train

    overrides = {} if run.l1 is None else {"l1": run.l1}
    splits = tiny_splits(zoo.get_spec(run.name), run.seed, data_dir) if tiny else None
    if tiny and epochs is None:
        epochs = TINY_EPOCHS
    result = train(
        run.name,
        epochs=epochs,
        quick=quick or tiny,
        seed=run.seed,
        data_dir=data_dir,
        download=download,
        splits=splits,
        verbose=verbose,
        **overrides,
    )
    # The report tells sweep runs from table runs and tiny runs from quick ones by these.
    result.hyperparameters.update({"l1_sweep": run.l1 is not None, "tiny": bool(tiny), "run_id": run.run_id(mode_of(quick, tiny))})
    return result


def free_graph_memory():
    """Drop Keras' global state between runs, so a sweep of many models runs in flat memory."""
    import keras

    keras.backend.clear_session()


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
    say=print,
):
    """Train every run of ``runs`` not already finished in ``out``; return all their results.

    Each finished run's result is written to ``out/<run id>.json`` atomically right
    away; a run whose JSON exists is loaded, not retrained (delete the file to
    retrain it).

    Args:
        runs: ``Run``s, e.g. from ``plan``.
        out: directory of the result JSONs (created if missing).
        quick: the trainer's quick mode (small splits, few epochs).
        tiny: even smaller (300/100/100 examples, 1 epoch): for tests and CI only.
        data_dir, download: passed to the dataset loaders.
        verbose: Keras verbosity of each run (2: a line per epoch).
        epochs: override the recipe's maximum epochs.
        save_models: also save each model as ``out/<run id>.keras``.
        say: where progress lines go.

    Returns:
        The ``TrainResult``s, in the order of ``runs``. Their ``.model`` is None: models
        are freed between runs (pass ``save_models`` to keep them on disk).

    Example:

    >>> results = run_plan(plan(["shapeset"]), "runs/reproduce", quick=True)
    """
    from rectifier_zoo import atomic

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mode = mode_of(quick, tiny)
    results = []
    for i, run in enumerate(runs, start=1):
        path = result_path(out, run, mode)
        label = f"[{i}/{len(runs)}] {run.run_id(mode)}"
        if path.exists():
            results.append(load_result(path))
            say(f"{label}: done before, loaded {path}")
            continue
        say(f"{label}: training{' (' + mode + ')' if mode != 'full' else ''}")
        result = train_run(run, quick=quick, tiny=tiny, data_dir=data_dir, download=download, verbose=verbose, epochs=epochs)
        if save_models:
            with atomic.atomic_path(path.with_suffix(".keras"), suffix=".keras") as tmp:
                result.model.save(tmp)
        result.save(path)  # last: its presence is what marks the run finished
        result.model = None  # a long sweep must not hold every model it trained
        free_graph_memory()
        results.append(result)
        say("    " + result.summary())
    return results


def summary_table(results) -> str:
    """A Markdown table, one row per entry (and sweep value): our test error and per-layer
    zeros (mean ± std over seeds) beside the paper's."""
    from rectifier_zoo import report

    groups = {}
    for result in results:
        hp = result.hyperparameters
        key = (result.name, hp.get("l1") if hp.get("l1_sweep") else None)
        groups.setdefault(key, []).append(result.to_dict())
    rows = [
        "| entry | runs | test error (ours) | paper | zeros per layer (ours) | paper zeros | paper source |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, l1), members in groups.items():
        fig = paper_figure(zoo.get_spec(name, tuned=False))
        cell = report.Cell.of(members)
        label = name if l1 is None else f"{name} (L1 = {l1:g})"
        paper_err = f"{fig.test_error:.2f}%" if fig and l1 is None else "—"
        paper_zeros = report.paper_zeros(fig) if l1 is None else "—"
        rows.append(
            f"| {label} | {cell.runs_label()} | {cell.error_text()} | {paper_err} | {cell.zeros_text()} | "
            f"{paper_zeros} | {fig.source if fig and l1 is None else '—'} |"
        )
    return "\n".join(rows)

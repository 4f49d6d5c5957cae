"""Reproduce the paper's tables: train entries over seeds, then set our figures beside the paper's.

A reproduction is a *plan* of runs (entry x seed, or entry x L1 value x seed for the
Figure 3 sweep, or entry x α x seed for the NORB softplus-to-rectifier sweep).
``run_plan`` trains them one by one and writes each finished run's
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
import math
import pathlib

from rectifier_zoo import validation, zoo
from rectifier_zoo.errors import ArtifactError, ConfigError

# Workshop Table 1 (no pre-training): its rows, in the paper's order.
TABLE1_NEURONS = ("rect_l1", "rect", "softplus", "tanh")

# Figure 3: the paper swept L1 from 0 to 0.01 on MNIST; these span it on a log-ish grid.
DEFAULT_L1_SWEEP = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)

# AISTATS, NORB: test error (%) of (1/α)·softplus(αx) nets; α = ∞ is the rectifier.
PAPER_ALPHA_NORB = {1.0: 17.68, 1.3: 17.53, 2.0: 16.9, 3.0: 16.66, 6.0: 16.54, math.inf: 16.40}
# The paper's finite α values; the plan always adds the α = ∞ point.
DEFAULT_ALPHA_SWEEP = tuple(a for a in PAPER_ALPHA_NORB if math.isfinite(a))

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
    from rectifier_zoo import datasets as data

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


def tiny_splits(spec, seed=0, data_dir=None, dataset_options=None):
    """A few hundred examples of the entry's dataset (``--tiny``: tests and CI only)."""
    from rectifier_zoo import datasets
    from rectifier_zoo.trainer import load_splits

    options = datasets.check_options(spec.dataset, dataset_options)
    if spec.dataset.startswith("shapeset"):  # generate only what is used
        return datasets.load(spec.dataset, seed=seed, **TINY_SIZES, **options)
    return load_splits(spec, data_dir, quick=True, seed=seed, dataset_options=options).subset(*TINY_SIZES.values())


def train_run(run, *, quick=False, tiny=False, data_dir=None, download=False, verbose=2, epochs=None, checkpoint_dir=None):
    """Train one ``Run`` and return its ``TrainResult`` (with ``.model``), tagged for the report."""
    from rectifier_zoo.trainer import data_hyperparameters, train

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
        checkpoint_dir: if set, each run checkpoints every epoch in
            ``checkpoint_dir/<run id>/`` and a killed run resumes there.
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
        ckpt = None if checkpoint_dir is None else pathlib.Path(checkpoint_dir) / run.run_id(mode)
        result = train_run(
            run, quick=quick, tiny=tiny, data_dir=data_dir, download=download, verbose=verbose, epochs=epochs,
            checkpoint_dir=ckpt,
        )
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
        hp, data = result.hyperparameters, result.to_dict()
        options = tuple(sorted((hp.get("dataset_options") or {}).items()))
        key = (result.name, hp.get("l1") if hp.get("l1_sweep") else None, report.alpha_of(data), options)
        groups.setdefault(key, []).append(data)
    rows = [
        "| entry | runs | test error (ours) | paper | zeros per layer (ours) | paper zeros | paper source |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, l1, alpha, options), members in groups.items():
        cell = report.Cell.of(members)
        label, (paper_err, paper_zeros, source) = summary_paper(name, l1, alpha)
        # A variant's row is labelled with its options: the paper's figure is for the data as it is.
        label += f" [{', '.join(f'{key}={value}' for key, value in options)}]" if options else ""
        rows.append(
            f"| {label} | {cell.runs_label()} | {cell.error_text()} | {paper_err} | {cell.zeros_text()} | "
            f"{paper_zeros} | {source} |"
        )
    return "\n".join(rows)


def summary_paper(name, l1, alpha):
    """A summary row's label and paper columns (error, zeros, source); sweep rows have their sweep's."""
    from rectifier_zoo import report

    if l1 is not None:
        return f"{name} (L1 = {l1:g})", ("—", "—", "—")
    if alpha is not None:
        fig = PAPER_ALPHA_NORB.get(alpha)
        paper_err = f"{fig:.2f}% (NORB)" if fig else "—"
        return f"{name} (α = {report.alpha_text(alpha)})", (paper_err, "—", "AISTATS, NORB α sweep")
    return name, paper_cells(name)


NOT_GIVEN = "not in the paper"


def paper_cells(name):
    """The paper's test error, zeros per layer and source for entry ``name``, as table cells.

    An entry on a dataset that stands in for one of the paper's (Fashion-MNIST for
    MNIST) gets that dataset's figure, its source saying so; zeros the paper does
    not give (it gives them for MNIST, and averages for CIFAR-10 and NORB) read
    "not in the paper".

    Example:

    >>> paper_cells("fashion_mnist_rect_l1")
    ('1.56%', '93.94 / 80.92 / 76.66%', 'workshop Table 1, MNIST (Fashion-MNIST is not in the paper)')
    """
    from rectifier_zoo import report

    spec = zoo.get_spec(name, tuned=False)
    fig, where = paper_figure(spec), ""
    stand_in = report.STANDS_IN_FOR.get(spec.dataset)
    if fig is None and stand_in is not None:
        fig = paper_figure(zoo.get_spec(stand_in + name[len(spec.dataset):], tuned=False))
        where = f", {report.DATA[stand_in][0]} ({report.DATA[spec.dataset][0]} is not in the paper)"
    if fig is None:
        return "—", "—", NOT_GIVEN
    zeros = report.paper_zeros(fig) if fig.sparsity else NOT_GIVEN
    return f"{fig.test_error:.2f}%", zeros, fig.source + where


def shipped_table(export_dir=None) -> str:
    """What the zoo achieves: each shipped entry's test error and zeros per layer beside the paper's.

    Read from the model cards of the newest version of each model in
    ``export_dir`` (default: the repository's ``exports/``): no data, no training.

    Example:

    >>> print(shipped_table())
    | entry | test error (zoo) | paper | zeros per layer (zoo, test) | paper zeros | paper source |
    | fashion_mnist_rect_l1 | 10.42% | 1.56% | 84.8 / 68.5 / 61.0% | 93.94 / 80.92 / 76.66% | workshop Table 1, MNIST ... |
    """
    from rectifier_zoo import hub, model_card, serving

    rows = [
        "| entry | test error (zoo) | paper | zeros per layer (zoo, test) | paper zeros | paper source |",
        "|---|---|---|---|---|---|",
    ]
    for model_dir in serving.model_dirs(hub.EXPORTS_DIR if export_dir is None else export_dir):
        card = model_card.read(model_dir / str(max(serving.versions(model_dir))))
        metrics = card.get("metrics") or {}
        error = metrics.get("test_error")
        zeros = [stats.get("zeros") for stats in (metrics.get("sparsity") or {}).values()]
        zoo_zeros = " / ".join(f"{100 * z:.1f}" for z in zeros if z is not None) + "%" if zeros else "not recorded"
        name = model_dir.name
        paper = paper_cells(name) if name in zoo.list_models() else ("—", "—", NOT_GIVEN)
        shown = f"{error:.2%}" if isinstance(error, (int, float)) else "not recorded"
        rows.append(f"| {name} | {shown} | {paper[0]} | {zoo_zeros} | {paper[1]} | {paper[2]} |")
    if len(rows) == 2:
        return "no shipped models here (a clone of the repository carries them in exports/)"
    return "\n".join(rows)


def run_label(mode, seeds=1) -> str:
    """What a run of ``mode`` is, for its table's title: quick and tiny runs are not the zoo's figures."""
    from rectifier_zoo.trainer import QUICK_EPOCHS, QUICK_SIZES

    if mode == "full":
        return f"full splits, the recipe's epochs, {seeds} seed(s)"
    sizes, epochs = (TINY_SIZES, TINY_EPOCHS) if mode == "tiny" else (QUICK_SIZES, QUICK_EPOCHS)
    return (
        f"{mode.upper()} run: {sizes['n_train']:,} training examples, at most {epochs} epoch(s), {seeds} seed(s); "
        "a check that training works here, not the zoo's figures (those are the shipped models above)"
    )


def screen(results, title, mode, seeds=1) -> str:
    """What ``rectifier-zoo reproduce`` shows at the end: the zoo's shipped models first, then this run.

    Args:
        results: this run's ``TrainResult``s.
        title: what was reproduced, e.g. ``"Workshop Table 1 rows"``.
        mode: ``"full"``, ``"quick"`` or ``"tiny"``.
        seeds: seeds per entry.
    """
    return "\n".join(
        [
            "What the zoo achieves: the shipped models (exports/), from their model cards",
            shipped_table(),
            "",
            f"This run: {title}, ours beside the paper's. {run_label(mode, seeds)}",
            summary_table(results),
        ]
    )

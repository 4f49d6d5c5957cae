"""What ``rectifier-zoo reproduce`` and ``train`` print: shipped models and a run's results beside the paper's.

``screen`` is the reproduction's closing screen: ``shipped_table`` (the shipped
models' test error and zeros, from their model cards: no data, no training) first,
then ``summary_table`` of the runs just trained (mean ± std over seeds). A dataset
that stands in for one of the paper's (Fashion-MNIST for MNIST) is set beside that
dataset's figures, named so (``paper_cells``). A quick run's numbers are set beside
the full runs' (``full_run_cells``, from the repository's ``reproduction/results``),
so that nobody takes the one for the other.
"""

from __future__ import annotations

from rectifier_zoo import paper, zoo
from rectifier_zoo._internal import paths
from rectifier_zoo.reproduction.cells import Cell, alpha_text, label, paper_zeros
from rectifier_zoo.reproduction.runs import TINY_EPOCHS, TINY_SIZES
from rectifier_zoo.reproduction.results import Runs, alpha_of, descriptor, load_results
from rectifier_zoo.reproduction.results import mode as run_mode

NOT_GIVEN = "not in the paper"
# The full runs that REPRODUCTION.md is made of, in a clone of the repository.
RESULTS_DIR = paths.REPO_ROOT / "reproduction" / "results"
FULL_RUNS_HEADER = "full runs (reproduction/results)"


def full_run_cells(results_dir=None) -> dict:
    """``{entry: Cell}`` of the full runs that count in the report (current recipe, today's data).

    Read from ``results_dir`` (default: the repository's ``reproduction/results``);
    ``{}`` where there is no such directory (an installed package without its repository).
    """
    directory = RESULTS_DIR if results_dir is None else results_dir
    if not directory.is_dir():
        return {}
    by_name = Runs.of(load_results([directory])[0]).by_name
    return {name: Cell([r for r in runs if run_mode(r) == "full"]) for name, runs in by_name.items()}


def full_run_text(cell) -> str:
    """A full-run cell beside a quick one: ``"1.55 ± 0.06% (3 seeds)"``."""
    if cell is None or not cell.n:
        return "none yet"
    return f"{cell.error_text()} ({cell.n} seed{'s' if cell.n > 1 else ''})"


def summary_table(results, full_runs=None) -> str:
    """A Markdown table, one row per entry (and sweep value): our test error and per-layer
    zeros (mean ± std over seeds) beside the paper's.

    Args:
        results: ``TrainResult``s.
        full_runs: ``{entry: Cell}`` (``full_run_cells``): if given, a column sets each
            entry's full runs beside these results (for quick and tiny runs).
    """
    groups = {}
    for result in results:
        hp, data = result.hyperparameters, result.to_dict()
        options = tuple(sorted((hp.get("dataset_options") or {}).items()))
        key = (result.name, hp.get("l1") if hp.get("l1_sweep") else None, alpha_of(data), options)
        groups.setdefault(key, []).append(data)
    beside = full_runs is not None
    rows = [
        "| entry | runs | test error (ours) | " + (f"{FULL_RUNS_HEADER} | " if beside else "")
        + "paper | zeros per layer (ours) | paper zeros | paper source |",
        "|---|---|---|---|---|---|---|" + ("---|" if beside else ""),
    ]
    for (name, l1, alpha, options), members in groups.items():
        cell = Cell.of(members)
        row_label, (paper_err, published_zeros, source) = summary_paper(name, l1, alpha)
        # A variant's row is labelled with its options: the paper's figure is for the data as it is.
        row_label += f" [{', '.join(f'{key}={value}' for key, value in options)}]" if options else ""
        # A sweep point or a variant is not its entry's table row: its full runs are not the entry's.
        full = full_run_text(full_runs.get(name)) if beside and l1 is None and alpha is None and not options else "—"
        rows.append(
            f"| {row_label} | {cell.runs_label()} | {cell.error_text()} | " + (f"{full} | " if beside else "")
            + f"{paper_err} | {cell.zeros_text()} | {published_zeros} | {source} |"
        )
    return "\n".join(rows)


def summary_paper(name, l1, alpha):
    """A summary row's label and paper columns (error, zeros, source); sweep rows have their sweep's."""
    if l1 is not None:
        return f"{name} (L1 = {l1:g})", ("—", "—", "—")
    if alpha is not None:
        fig = paper.ALPHA_NORB.get(alpha)
        paper_err = f"{fig:.2f}% (NORB)" if fig else "—"
        return f"{name} (α = {alpha_text(alpha)})", (paper_err, "—", "AISTATS, NORB α sweep")
    return name, paper_cells(name)


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
    dataset = zoo.get_spec(name, tuned=False).dataset
    fig, where = paper.figure(name), ""
    stand_in = descriptor(dataset).stands_in_for
    if fig is None and stand_in is not None:
        fig = paper.figure(stand_in + name[len(dataset):])  # the same row on the paper's dataset
        where = f", {label(stand_in)} ({label(dataset)} is not in the paper)"
    if fig is None:
        return "—", "—", NOT_GIVEN
    zeros = paper_zeros(fig) if fig.sparsity else NOT_GIVEN
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
    from rectifier_zoo.hub import locate as hub, model_card, store

    rows = [
        "| entry | test error (zoo) | paper | zeros per layer (zoo, test) | paper zeros | paper source |",
        "|---|---|---|---|---|---|",
    ]
    for model_dir in store.model_dirs(hub.EXPORTS_DIR if export_dir is None else export_dir):
        card = model_card.read(model_dir / str(max(store.versions(model_dir))))
        metrics = card.get("metrics") or {}
        error = metrics.get("test_error")
        zeros = [stats.get("zeros") for stats in (metrics.get("sparsity") or {}).values()]
        zoo_zeros = " / ".join(f"{100 * z:.1f}" for z in zeros if z is not None) + "%" if zeros else "not recorded"
        name = model_dir.name
        published = paper_cells(name) if name in zoo.list_models() else ("—", "—", NOT_GIVEN)
        shown = f"{error:.2%}" if isinstance(error, (int, float)) else "not recorded"
        copy = (card.get("data") or {}).get("source")  # a copy that must say so, e.g. CIFAR-10's JPEG q75 copy
        rows.append(f"| {name}{f' on {copy}' if copy else ''} | {shown} | {published[0]} | {zoo_zeros} | {published[1]} | {published[2]} |")
    if len(rows) == 2:
        return "no shipped models here (a clone of the repository carries them in exports/)"
    return "\n".join(rows)


def run_label(mode, seeds=1) -> str:
    """What a run of ``mode`` is, for its table's title: quick and tiny runs are not the zoo's figures."""
    from rectifier_zoo.training.recipes import QUICK_EPOCHS
    from rectifier_zoo.training.entry_data import QUICK_SIZES

    if mode == "full":
        return f"full splits, the recipe's epochs, {seeds} seed(s)"
    sizes, epochs = (TINY_SIZES, TINY_EPOCHS) if mode == "tiny" else (QUICK_SIZES, QUICK_EPOCHS)
    return (
        f"{mode.upper()} run: {sizes['n_train']:,} training examples, at most {epochs} epoch(s), {seeds} seed(s); "
        "a check that training works here, not the zoo's figures (those are the full runs beside it and the shipped models above)"
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
            # No column without the repository's results (an installed package): "none yet" would mislead.
            summary_table(results, full_runs=None if mode == "full" else full_run_cells() or None),
        ]
    )

"""The report's sections around its figures: Figure 3 (the L1 sweep), the α sweep, sparsity and curves.

Each section draws its figures (``plots``) into ``fig_dir``, links them as
``figures/<name>``, and sets our points beside the paper's finding: Figure 3's
knee (error flat until about 85% zeros, then rising), checked on our sweep; the
softplus-to-rectifier sweep beside the paper's NORB figures. A sweep is drawn on
one generator's data only (``newest_data``), named when it is not today's.
"""

from __future__ import annotations

import math
import statistics

from rectifier_zoo import paper
from rectifier_zoo.reproduction.cells import Cell, alpha_text, data_label, earlier_data_text, final_sparsity, label, mean_std, pm, runs_of
from rectifier_zoo.reproduction.plots import plot_alpha, plot_curves, plot_sparsity, plot_sweep
from rectifier_zoo.reproduction.results import (
    alpha_of, data_version, hyperparameters, is_sweep, is_variant, learned_nothing, on_current_data, on_recipe_shape,
)


def newest_data(runs):
    """The runs on the newest data among ``runs`` and a note naming that data when it is not today's.

    A sweep is drawn on one dataset's data only: today's generator when it has runs,
    else the newest earlier one, said so (never the two mixed in one figure).
    """
    current = [r for r in runs if on_current_data(r)]
    if current:
        return current, ""
    newest = max(data_version(r) for r in runs)  # none is current: all are runs on earlier generators
    chosen = [r for r in runs if data_version(r) == newest]
    return chosen, f"These runs are on {earlier_data_text(chosen[0]['dataset'], newest)}."


# ---------------------------------------------------------------- Figure 3


def knee_sentence(points, knee=paper.FIGURE3_KNEE) -> str:
    """Checks the paper's Figure 3 finding on ``points`` = [(sparsity, test error)] (fractions)."""
    below = [e for s, e in points if s < knee]
    above = [e for s, e in points if s >= knee]
    k = f"{knee:.0%}"
    if not points:
        return "No sweep runs."
    if not above:
        return (f"All {len(below)} runs stay below {k} zeros (at most {max(s for s, _ in points):.1%}): the sweep "
                f"does not reach the paper's knee; add larger L1 values.")
    if not below:
        return (f"All {len(above)} runs are at or above {k} zeros: the flat part of the paper's curve is not sampled; "
                "add smaller L1 values (e.g. 0).")
    (mean_b, std_b), (mean_a, _) = mean_std(below), mean_std(above)
    rise = mean_a - mean_b
    facts = (f"Below {k} zeros: {len(below)} runs, mean test error {mean_b:.2%} (range {min(below):.2%}–{max(below):.2%}); "
             f"at or above: {len(above)} runs, mean {mean_a:.2%} (range {min(above):.2%}–{max(above):.2%}).")
    if rise > (std_b or 0.0):
        return facts + f" Error rises by {rise * 100:.2f} points past {k} zeros: the paper's finding holds here."
    return facts + (f" Error does not rise past {k} zeros by more than the spread below it ({rise * 100:+.2f} points): "
                    "the paper's finding is not seen here.")


def figure3_section(results, sweep_runs, fig_dir):
    """Figure 3 per dataset: the L1 sweep's points and the table runs trained like them."""
    lines = ["## Figure 3: test error against sparsity over an L1 sweep", "",
             ("Paper (AISTATS, 200 rectifier nets on MNIST, L1 from 0 to 0.01): test error stays about 1.3–1.5% up "
              "to 85% zeros, then rises (about 1.6% at 90%, 2.1–2.5% at 98–99%)."), ""]
    sweep_by_dataset, notes = {}, {}
    for r in sweep_runs:
        sweep_by_dataset.setdefault(r["dataset"], []).append(r)
    for dataset, runs in sweep_by_dataset.items():
        sweep_by_dataset[dataset], notes[dataset] = newest_data(runs)
    # Table runs are points too, on today's data only: never beside a sweep on an earlier generator.
    for r in figure3_table_points(results, {d: runs for d, runs in sweep_by_dataset.items() if not notes[d]}):
        sweep_by_dataset[r["dataset"]].append(r)
    if not sweep_by_dataset:
        lines += ["Not yet run here: `rectifier-zoo reproduce --l1-sweep --seeds 5` trains it.", ""]
    for dataset, runs in sorted(sweep_by_dataset.items()):
        lines += sweep_section(dataset, Cell.of(runs).results, fig_dir, notes[dataset])  # best mode, as in the tables
    return lines


def figure3_table_points(results, swept):
    """Table runs that are points of a dataset's Figure 3 too: its `_rect_l1` runs (at their L1) and
    `_rect` runs (L1 = 0) trained like the sweep, on the datasets in ``swept``."""
    rows = {f"{d}_rect_l1" for d in swept} | {f"{d}_rect" for d in swept}

    def point(r):  # the same L1 and seed is the same run: drawn once
        hp = hyperparameters(r)
        return r["dataset"], float(hp.get("l1", 0.0)), hp.get("seed")

    drawn = {point(r) for runs in swept.values() for r in runs}
    return [r for r in results if r["name"] in rows and not is_sweep(r) and on_recipe_shape(r) and point(r) not in drawn]


def sweep_section(dataset, runs, fig_dir, note=""):
    """Markdown of Figure 3 for one dataset's sweep runs, and its plot (``note``: whose data, if not today's)."""
    # A run that learned nothing is not a point of the paper's curve: its chance-level error would
    # swamp the means on either side of the knee. It is named, and kept in the table.
    points = [(final_sparsity(r), r["test_error"]) for r in runs if not learned_nothing(r)]
    by_l1 = {}
    for r in runs:
        by_l1.setdefault(float(r["hyperparameters"].get("l1", 0.0)), []).append(r)
    lines = [f"### {label(dataset, runs)}", ""] + ([note, ""] if note else [])
    path = plot_sweep(dataset, runs, fig_dir)
    lines += [f"![Figure 3, {dataset}](figures/{path.name})", "", knee_sentence(points) + collapsed_sentence(runs), ""]
    lines += ["| L1 | runs | test error | mean zeros over layers |", "|---|---|---|---|"]
    for l1, members in sorted(by_l1.items()):
        cell = Cell.of(members)
        zeros = pm([final_sparsity(r) for r in cell.results], 1) + "%"
        nothing = " (no better than chance)" if all(learned_nothing(r) for r in cell.results) else ""
        lines.append(f"| {l1:g} | {cell.runs_label()} | {cell.error_text()}{nothing} | {zeros} |")
    return lines + [""]


def collapsed_sentence(runs) -> str:
    """The sweep's runs that learned nothing, named, or ``""``."""
    collapsed = [r for r in runs if learned_nothing(r)]
    if not collapsed:
        return ""
    each = "; ".join(f"L1 {float(hyperparameters(r).get('l1', 0.0)):g}: {r['test_error']:.2%} test error, "
                     f"{final_sparsity(r):.1%} zeros" for r in collapsed)
    return (f" Left out of these means: {len(collapsed)} run(s) no better than chance ({each}): "
            "a penalty that strong silenced (almost) every unit, so the net learned nothing.")


# ---------------------------------------------------------------- softplus to rectifier


def alpha_section(results, fig_dir):
    """The softplus-to-rectifier sweep: per dataset, ours against α beside the paper's NORB figures."""
    published = ", ".join(f"{alpha_text(a)}: {e:.2f}%" for a, e in paper.ALPHA_NORB.items())
    lines = ["## Softplus to rectifier: (1/α)·softplus(αx)", "",
             (f"Paper (AISTATS, jittered-cluttered NORB): test error by α, {published} (α = ∞ is the rectifier). "
              "Our α runs are the `<dataset>_softplus` entry with (1/α)·softplus(αx) hidden units; our α = ∞ point is "
              "the `<dataset>_rect` entry with no L1 penalty, like the softplus runs, so only the activation changes "
              "(the paper's ∞ figure is its Table 1 rectifier net's, which carried the 0.001 L1 penalty). "
              "The paper's column is always NORB; ours is the dataset named in each table."), ""]
    by_dataset = {}
    for r in results:
        if alpha_of(r) is not None and not is_variant(r):
            by_dataset.setdefault(r["dataset"], []).append(r)
    if not by_dataset:
        return lines + ["Not yet run here: `rectifier-zoo reproduce --alpha-sweep` trains it.", ""]
    for dataset, runs in sorted(by_dataset.items()):
        runs, note = newest_data(runs)  # one generator's runs per plot, named when not today's
        lines += alpha_dataset_lines(dataset, Cell.of(runs).results, fig_dir, note)  # best mode, as in the tables
    return lines


def alpha_dataset_lines(dataset, runs, fig_dir, note=""):
    """One dataset's α table (every paper α, run here or not) and its plot (``note``: whose data, if not today's)."""
    by_alpha = {}
    for r in runs:
        by_alpha.setdefault(alpha_of(r), []).append(r)
    cells = {a: Cell.of(by_alpha.get(a, [])) for a in sorted(set(by_alpha) | set(paper.ALPHA_NORB))}
    title = label(dataset)
    path = plot_alpha(dataset, cells, fig_dir)
    lines = [f"### {title}", ""] + ([note, ""] if note else [])
    lines += [f"![{title}: test error against α](figures/{path.name})", "", alpha_trend(cells), "",
              f"| α | runs | test error, ours: {data_label(dataset)} | test error, paper: NORB |", "|---|---|---|---|"]
    for alpha, cell in cells.items():
        fig = paper.ALPHA_NORB.get(alpha)
        lines.append(f"| {alpha_text(alpha)} | {cell.runs_label()} | {cell.error_text()} | "
                     f"{'—' if fig is None else f'{fig:.2f}%'} |")
    return lines + [""]


def alpha_trend(cells) -> str:
    """Our error at the smallest α against ∞, beside the paper's fall over its sweep."""
    fall = paper.ALPHA_NORB[1.0] - paper.ALPHA_NORB[math.inf]
    published = f"the paper's NORB error falls {fall:.2f} points from α = 1 to ∞"
    run = {a: statistics.fmean(r["test_error"] for r in c.results) * 100 for a, c in cells.items() if c.n}
    if math.inf not in run or len(run) < 2:
        return f"Too few α points here to set beside the paper ({published})."
    low = min(run)
    return (f"Ours: {run[low]:.2f}% at α = {alpha_text(low)}, {run[math.inf]:.2f}% at ∞ "
            f"({run[math.inf] - run[low]:+.2f} points); {published}.")


# ---------------------------------------------------------------- per dataset


def figure_sections(by_name, fig_dir):
    """Per dataset: sparsity bars, dead units and learning curves."""
    per_dataset = {}
    for name, members in sorted(by_name.items()):
        per_dataset.setdefault(members[0]["dataset"], {})[name] = Cell.of(members)
    lines = ["## Sparsity, dead units and learning curves", ""]
    for dataset, cells in sorted(per_dataset.items()):
        bars, curves = plot_sparsity(dataset, cells, fig_dir), plot_curves(dataset, cells, fig_dir)
        title = label(dataset, runs_of(cells))
        lines += [f"### {title}", "", f"![{title}: sparsity](figures/{bars.name})", "",
                  f"![{title}: learning curves](figures/{curves.name})", ""]
    return lines

"""The report's figures, as PNGs: sparsity, learning curves, dead units in fine-tuning, Figure 3, the α sweep, samples.

Each ``plot_*`` draws one figure from result dicts (or ``Cell``s of them), writes
it atomically into ``fig_dir`` under a name made of its dataset, and returns its
path. Only matplotlib's object API is used (no pyplot): nothing global changes and
no display is needed. matplotlib is imported when a figure is drawn, not before.
"""

from __future__ import annotations

import math
import pathlib
import statistics

from rectifier_zoo import paper
from rectifier_zoo._internal import atomic
from rectifier_zoo.reproduction.cells import alpha_text, data_label, final_sparsity, label, mean_std, runs_of
from rectifier_zoo.reproduction.results import hyperparameters, learned_nothing, mode, options_slug

GRID_SAMPLES = 24  # images per sample grid: 4 rows of 6


def _save(fig, path):
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return pathlib.Path(path)


def _short(name, dataset):
    return name[len(dataset) + 1 :] if name.startswith(dataset + "_") else name


def _modes_tag(modes) -> str:
    """`` (quick, tiny)``: the modes other than full among ``modes``, for a title (empty if all full)."""
    others = sorted(set(modes) - {"full"})
    return f" ({', '.join(others)})" if others else ""


def plot_sparsity(dataset, cells, fig_dir):
    """Per-layer zeros (mean ± std over seeds) and dead-unit counts, one bar group per layer."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_z, ax_d = fig.subplots(1, 2)
    names = list(cells)
    layers = sorted({layer for c in cells.values() for layer in c.layers()})
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        cell = cells[name]
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(layers))]
        zeros = [mean_std([r["sparsity"][layer]["zeros"] * 100 for r in cell.results]) for layer in layers]
        dead = [statistics.fmean(dead_units(r, layer) for r in cell.results) for layer in layers]
        bar_label = _short(name, dataset) + ("" if cell.mode == "full" else f" ({cell.mode})")
        ax_z.bar(xs, [m for m, _ in zeros], width, yerr=[s or 0 for _, s in zeros], capsize=2, label=bar_label)
        ax_d.bar(xs, dead, width, label=bar_label)
    for ax, title in ((ax_z, "exact zeros per layer (%), test split"), (ax_d, "dead units per layer (never active on test)")):
        ax.set_xticks(range(len(layers)), layers)
        ax.set_title(title)
    ax_z.set_ylim(0, 100)
    ax_d.set_ylim(bottom=0, top=max(1.0, ax_d.get_ylim()[1]))  # no negative axis when no unit died
    ax_z.legend(fontsize=8)
    fig.suptitle(f"{label(dataset, runs_of(cells))}: sparsity of the hidden codes")
    return _save(fig, pathlib.Path(fig_dir) / f"{dataset}_sparsity.png")


def dead_units(result, layer) -> float:
    """Dead units of ``layer``: the dead fraction times the layer's width (from the run's ``hidden``)."""
    hidden = hyperparameters(result).get("hidden") or []
    index = int(layer.rsplit("_", 1)[-1]) - 1 if layer.rsplit("_", 1)[-1].isdigit() else -1
    width = hidden[index] if 0 <= index < len(hidden) else 1000
    return result["sparsity"][layer].get("dead", 0.0) * width


def plot_curves(dataset, cells, fig_dir):
    """Training loss, validation error and mean zeros per epoch; one thin line per seed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    colours = [f"C{i % 10}" for i in range(len(cells))]
    for colour, (name, cell) in zip(colours, cells.items()):
        for k, r in enumerate(cell.results):
            h = r.get("history") or {}
            line_label = _short(name, dataset) if k == 0 else None
            zeros = [h[key] for key in sorted(h) if key.startswith("hidden_") and key.endswith("_zeros")]
            series = (h.get("loss", []), [(1 - a) * 100 for a in h.get("val_accuracy", [])],
                      [statistics.fmean(v) * 100 for v in zip(*zeros)] if zeros else [])
            for ax, ys in zip(axes, series):
                ax.plot(range(1, len(ys) + 1), ys, color=colour, lw=1, alpha=0.8, label=line_label)
    for ax, title in zip(axes, ("training loss", "validation error (%)", "zeros, mean over layers (%), validation sample")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{label(dataset, runs_of(cells))}: learning curves")
    return _save(fig, pathlib.Path(fig_dir) / f"{dataset}_curves.png")


def plot_dead_through_training(dataset, curves, fig_dir):
    """Dead units (%) of each layer after each fine-tuning epoch; one colour per group, one line per run.

    ``curves``: ``{group label: [{layer: [dead fraction per epoch]} for each run]}``.
    """
    from matplotlib.figure import Figure

    layers = sorted({layer for runs in curves.values() for run in runs for layer in run})
    fig = Figure(figsize=(max(12, 4 * len(layers)), 4 + 0.25 * len(curves)), layout="constrained")
    axes = fig.subplots(1, len(layers), squeeze=False)[0]
    for k, (group, runs) in enumerate(curves.items()):
        for i, run in enumerate(runs):
            for ax, layer in zip(axes, layers):
                ys = [v * 100 for v in run.get(layer, [])]
                ax.plot(range(1, len(ys) + 1), ys, color=f"C{k % 10}", lw=1.2, label=group if i == 0 else None)
    for ax, layer in zip(axes, layers):
        ax.set_title(f"{layer}: dead units (%)")
        ax.set_xlabel("fine-tuning epoch")
        ax.set_ylim(0, 100)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=1, fontsize=8)
    fig.suptitle(f"{label(dataset)}: units pre-training left dead, through fine-tuning")
    return _save(fig, pathlib.Path(fig_dir) / f"{dataset}_pretraining_dead.png")


def plot_sweep(dataset, runs, fig_dir):
    """Figure 3: test error against final sparsity, coloured by the L1 penalty."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    xs = [final_sparsity(r) * 100 for r in runs]
    ys = [r["test_error"] * 100 for r in runs]
    l1 = [float(r["hyperparameters"].get("l1", 0.0)) for r in runs]
    # log colour scale; L1 = 0 sits one decade below the smallest positive value
    positive = [v for v in l1 if v > 0] or [1e-4]
    floor = min(positive) / 10
    shades = [math.log10(max(v, floor)) for v in l1]
    nothing = [learned_nothing(r) for r in runs]
    learned = [y for y, n in zip(ys, nothing) if not n]
    shade = ax.scatter(xs, ys, c=shades, cmap="viridis", vmin=min(shades), vmax=max(shades))
    if any(nothing) and learned:
        # A chance-level run would squash every other point to the floor: clip the axis to the
        # runs that learned, and draw the others on its top edge, labelled with their error.
        top = max(learned) + 0.6 * (max(learned) - min(learned) or max(learned))
        ax.set_ylim(min(learned) - 0.1 * (top - min(learned)), top)
        for x, y, n in zip(xs, ys, nothing):
            if n:
                ax.scatter([x], [top], marker="^", s=60, color="crimson", clip_on=False, zorder=3)
                ax.annotate(f"{y:.1f}% (chance)", (x, top), textcoords="offset points", xytext=(-8, -14),
                            ha="right", fontsize=8, color="crimson")
    fig.colorbar(shade, ax=ax, label=f"log10 L1 (L1 = 0 drawn at {math.log10(floor):g})")
    knee = paper.FIGURE3_KNEE
    ax.axvline(knee * 100, color="grey", ls="--", lw=1, label=f"paper's knee ({knee:.0%} zeros)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("final sparsity: zeros averaged over layers (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(f"Figure 3 on {label(dataset, runs)}: {len(runs)} runs" + _modes_tag(mode(r) for r in runs))
    return _save(fig, pathlib.Path(fig_dir) / f"{dataset}_l1_sweep.png")


def plot_alpha(dataset, cells, fig_dir):
    """Test error against α on a log axis, ∞ drawn at the right end; ours and the paper's NORB points."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    finite = sorted(a for a in cells if math.isfinite(a))
    at_inf = finite[-1] * 3  # a log axis has no ∞: draw it a step right of the largest α

    def x(alpha):
        return at_inf if math.isinf(alpha) else alpha

    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    ours = {a: mean_std([r["test_error"] * 100 for r in c.results]) for a, c in cells.items() if c.n}
    ax.errorbar([x(a) for a in ours], [m for m, _ in ours.values()], yerr=[s or 0 for _, s in ours.values()],
                marker="o", capsize=3, color="C0", label=f"ours: {data_label(dataset)}")
    # The paper's points are NORB: on another dataset they get their own axis, to compare shapes, not levels.
    paper_ax = ax if dataset == paper.ALPHA_DATASET else ax.twinx()
    paper_ax.plot([x(a) for a in paper.ALPHA_NORB], list(paper.ALPHA_NORB.values()), "s--", color="C1",
                  label="paper: NORB (AISTATS)")
    if paper_ax is ax:
        ax.set_ylabel("test error (%)")
    else:
        ax.set_ylabel("our test error (%)", color="C0")
        paper_ax.set_ylabel("paper's NORB test error (%)", color="C1")
    ax.axvline((finite[-1] * at_inf) ** 0.5, color="grey", ls=":", lw=1)  # the axis break before ∞
    ax.set_xscale("log")
    ax.set_xticks([x(a) for a in cells], [alpha_text(a) for a in cells])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("α of (1/α)·softplus(αx); ∞ is the rectifier")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    ax.set_title(f"Softplus to rectifier on {label(dataset)}" + _modes_tag(c.mode for c in cells.values() if c.n))
    return _save(fig, pathlib.Path(fig_dir) / f"{dataset}_softplus_alpha.png")


def plot_sample_grid(info, options, fig_dir):
    """A PNG grid of seed 0's first images of generated dataset ``info`` (a descriptor) with data ``options``."""
    generator = info.module()
    x, y = generator.generate(GRID_SAMPLES, seed=0, **info.fixed, **options)
    title = f"{info.label} generator {info.current_version()}, {generator.options_text(options)}, seed 0"
    value_range = (-1.0, 1.0) if options.get("signed") else (0.0, 1.0)
    path = pathlib.Path(fig_dir) / f"{info.name}_samples{options_slug(options)}.png"
    return generator.save_grid(x, y, path, n=GRID_SAMPLES, cols=6, title=title, value_range=value_range)

"""The report's section on generated data (Shapeset) as a reader sees it, and what each data variant does.

For each generated dataset with runs: sample grids of the faithful data and of
each studied variant (no swap, anti-aliased, ...), all drawn from the same seed.
Then every variant's runs beside the faithful runs of the same entry and mode,
with the change in test error judged against the seeds' spread (``targets``), and
whether the largest change accounts for the gap between the entry's full runs and
the paper. A variant's runs are never averaged into a table cell, and compare only
with faithful runs of the entry's current recipe.
"""

from __future__ import annotations

import statistics

from rectifier_zoo import datasets, paper
from rectifier_zoo.reproduction import targets
from rectifier_zoo.reproduction.cells import Cell
from rectifier_zoo.reproduction.plots import GRID_SAMPLES, plot_sample_grid
from rectifier_zoo.reproduction.results import MODES, dataset_options, descriptor, mode, options_slug, seed_of


def options_flags(options) -> str:
    """The command-line flags of data options, e.g. ```--dataset-option swap=false```."""
    flags = " ".join(f"--dataset-option {key}={str(value).lower()}" for key, value in options.items())
    return f"`{flags}`" if flags else "the default"


def generated_data_section(runs, fig_dir):
    """The sample grids of each generated dataset with runs, then each variant's effect (``runs``: ``Runs``)."""
    shown = [d for d in datasets.descriptors() if d.generated and d.name in runs.datasets()]
    if not shown:
        return []
    lines = []
    for info in shown:
        lines += grids_lines(info, fig_dir)
    return lines + variant_lines(runs)


def grids_lines(info, fig_dir):
    """A generated dataset as a reader sees it: a sample grid of the faithful data and of each variant."""
    generator = info.module()
    lines = [f"## {info.label}: the data, its variants and what makes it hard", "",
             (f"Our {info.label} is the zoo's generator {info.current_version()} (`rectifier_zoo/datasets/"
              f"{info.loader}.py`, whose docstring audits it item by item against the original generator). The "
              "default is the faithful copy; each variant changes one thing from the same random numbers, so every "
              f"grid shows the same scenes (the first {GRID_SAMPLES} images of seed 0). A variant's runs are never "
              "averaged into a table cell."),
             ""]
    for options in generator.STUDIED:
        path = plot_sample_grid(info, options, fig_dir)
        words = generator.options_text(options)
        lines += [f"**{words.capitalize()}** ({options_flags(options)}):", "",
                  f"![{info.label}, {words}](figures/{path.name})", ""]
    return lines


def options_words(dataset, options) -> str:
    """Data options in words: the loader's own (``options_text``) where it has them, else ``key=value``."""
    info = descriptor(dataset)
    loader = info.module() if info else None
    if hasattr(loader, "options_text"):
        return loader.options_text(options)
    return ", ".join(f"{k}={v}" for k, v in options.items())


def _studied_order(dataset) -> dict:
    """``{options slug: position}`` of the variants the dataset's loader studies (its grids' order)."""
    info = descriptor(dataset)
    studied = getattr(info.module(), "STUDIED", ()) if info else ()
    return {options_slug(options): i for i, options in enumerate(studied)}


def stale_lines(runs):
    """A line saying how many variant runs are left out as of another recipe (empty when none)."""
    stale = runs.stale_variant_runs
    if not stale:
        return []
    names = ", ".join(f"`{n}`" for n in sorted({r["name"] for r in stale}))
    return [f"Left out: {len(stale)} variant run(s) of {names} by a recipe (rate, L1 or generator) the entry no "
            "longer uses; they are listed under All runs.", ""]


def variant_lines(runs):
    """Each data variant's runs beside the faithful runs of the same entry, recipe and mode: the factor's effect."""
    if not runs.variant_runs:
        return ["No run on a variant by the current recipes yet: `rectifier-zoo reproduce --quick --entries rect "
                "--dataset-option swap=false --out reproduction/results/shapeset_variants` measures one.", ""
                ] + stale_lines(runs)
    groups, changes = {}, {}
    for r in runs.variant_runs:
        groups.setdefault((r["name"], options_slug(dataset_options(r))), []).append(r)
    lines = ["Each factor's effect on the test error (a variant against the faithful data, same entry, same mode; "
             "`rectifier-zoo reproduce --quick --entries rect --dataset-option NAME=VALUE` trains one):", "",
             "| entry | data | runs | test error | change from faithful | zeros per layer |", "|---|---|---|---|---|---|"]
    for name in sorted({name for name, _ in groups}):
        variants = {slug: Cell.of(members) for (n, slug), members in groups.items() if n == name}
        dataset = next(iter(variants.values())).results[0]["dataset"]
        studied = _studied_order(dataset)
        for chosen_mode in sorted({c.mode for c in variants.values()}, key=MODES.index):
            faithful = Cell([r for r in runs.by_name.get(name, []) if mode(r) == chosen_mode], chosen_mode)
            lines.append(f"| `{name}` | faithful | {faithful.runs_label()} | {faithful.error_text()} | — | "
                         f"{faithful.zeros_text()} |")
            for slug, cell in sorted(variants.items(), key=lambda kv: (studied.get(kv[0], len(studied)), kv[0])):
                if cell.mode != chosen_mode:
                    continue
                words = options_words(dataset, dataset_options(cell.results[0]))
                delta, text = change(cell, faithful)
                lines.append(f"| `{name}` | {words} | {cell.runs_label()} | {cell.error_text()} | {text} | "
                             f"{cell.zeros_text()} |")
                if delta is not None:
                    changes.setdefault(name, {})[f"{words}, {chosen_mode} runs"] = delta
    gaps = [sentence for name, found in changes.items() if (sentence := gap_sentence(name, runs, found))]
    return lines + [""] + [g for sentence in gaps for g in (sentence, "")] + stale_lines(runs)


def paired(cell, faithful):
    """``(variant row, faithful row, against)``: the variant's runs and the faithful runs it compares with.

    Where the faithful runs include every seed the variant was run with, only those seeds are
    compared (the same initialisation and the same scenes: a paired difference, free of the
    seed-to-seed spread the faithful row shows); else all the faithful runs of the mode.
    """
    seeds = {seed_of(r) for r in cell.results}
    matched = [r for r in faithful.results if seed_of(r) in seeds]
    same_seeds = {seed_of(r) for r in matched} == seeds and None not in seeds
    baseline = matched if same_seeds else faithful.results
    against = f"against the same seed{'s' if len(seeds) > 1 else ''}" if same_seeds else "against all faithful runs"
    return targets.Row.of("variant", cell.results), targets.Row.of("faithful", baseline), against


def change(cell, faithful):
    """``(points, text)``: a variant's mean test error minus the faithful data's, in points, and in
    words judged against the seeds' spread (``points`` None: no faithful run to compare with)."""
    if not faithful.n:
        return None, "no faithful run of this mode to compare with"
    variant_row, faithful_row, against = paired(cell, faithful)
    _, reason = targets.compare(variant_row, faithful_row)
    delta = (variant_row.mean - faithful_row.mean) * 100
    return delta, f"{delta:+.2f} points, {against} ({targets.QUALIFIERS[reason]})"


def gap_sentence(name, runs, changes) -> str:
    """Whether the studied factors account for the gap between the entry's full runs and the paper.

    ``changes``: ``{variant in words: change in points}``. Empty when the entry has no full
    run on the faithful data or the paper no figure for it.
    """
    fig = paper.figure(name)
    full = [r for r in runs.by_name.get(name, []) if mode(r) == "full"]
    if fig is None or not full or not changes:
        return ""
    ours = statistics.fmean(r["test_error"] for r in full) * 100
    gap = ours - fig.test_error
    words, best = min(changes.items(), key=lambda kv: kv[1])
    if gap <= 0:
        return f"`{name}`: our full runs ({ours:.2f}%) are at or ahead of the paper's {fig.test_error:.2f}%: no gap to account for."
    verdict = ("would account for it" if -best >= gap else
               f"accounts for {max(-best, 0.0) / gap:.0%} of it at most: no studied factor accounts for the gap")
    return (f"`{name}`: our full runs on the faithful data average {ours:.2f}% ({len(full)} run(s)), the paper "
            f"{fig.test_error:.2f}%: a gap of {gap:.2f} points. The largest studied effect ({words}, "
            f"{best:+.2f} points) {verdict}.")

"""The report's section on generated data (Shapeset) as a reader sees it, and what each data variant does.

For each generated dataset with runs: sample grids of the faithful data and of
each studied variant (no swap, anti-aliased, ...), all drawn from the same seed.
Then every variant's runs beside the faithful runs of the same entry and mode,
with the change in test error judged against the seeds' spread (``targets``). A
variant's runs are never averaged into a table cell.
"""

from __future__ import annotations

from rectifier_zoo import datasets, targets
from rectifier_zoo.cells import Cell
from rectifier_zoo.plots import GRID_SAMPLES, plot_sample_grid
from rectifier_zoo.results import MODES, dataset_options, descriptor, mode, options_slug, seed_of


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


def variant_lines(runs):
    """Each data variant's runs beside the faithful runs of the same entry and mode: the factor's effect."""
    if not runs.variant_runs:
        return ["No run on a variant yet: `rectifier-zoo reproduce --quick --entries rect --dataset-option swap=false "
                "--out reproduction/results/shapeset_variants` measures one.", ""]
    groups = {}
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
                lines.append(f"| `{name}` | {words} | {cell.runs_label()} | {cell.error_text()} | "
                             f"{change_text(cell, faithful)} | {cell.zeros_text()} |")
    return lines + [""]


def change_text(cell, faithful) -> str:
    """A variant's mean test error minus the faithful data's, in points, judged against the seeds' spread.

    Where the faithful runs include every seed the variant was run with, only those seeds are
    compared (the same initialisation and the same scenes: a paired difference, free of the
    seed-to-seed spread the faithful row shows); else all the faithful runs of the mode.
    """
    if not faithful.n:
        return "no faithful run of this mode to compare with"
    seeds = {seed_of(r) for r in cell.results}
    paired = [r for r in faithful.results if seed_of(r) in seeds]
    same_seeds = {seed_of(r) for r in paired} == seeds and None not in seeds
    baseline = paired if same_seeds else faithful.results
    variant_row = targets.Row.of("variant", cell.results)
    faithful_row = targets.Row.of("faithful", baseline)
    _, reason = targets.compare(variant_row, faithful_row)
    delta = (variant_row.mean - faithful_row.mean) * 100
    against = f"against the same seed{'s' if len(seeds) > 1 else ''}" if same_seeds else "against all faithful runs"
    return f"{delta:+.2f} points, {against} ({targets.QUALIFIERS[reason]})"

"""The reproduction report: our results beside the paper's, as Markdown with PNG figures.

``write_report(["runs/reproduce"], "runs/report")`` reads every result JSON (the
``TrainResult.to_dict()`` format ``rectifier-zoo reproduce`` and ``train`` write)
under the given directories and writes ``REPRODUCTION.md`` and ``figures/*.png``:

- the paper's tables (workshop Table 1 and 2, AISTATS Table 1), each cell our mean
  ± sample standard deviation over seeds with its run count, beside the paper's
  figure; cells without results say "not yet run here", never a made-up number;
- the targets and the paper's ordering as the paper states it (each rectifier row
  ahead of each of tanh and softplus, beyond the seeds' spread; ``targets``), a row
  that contradicts the paper called a contradiction, with its numbers;
- Shapeset as a reader sees it: sample grids of the faithful data and of each
  studied variant (no swap, anti-aliased, ...), and each variant's effect on the
  error beside the faithful runs; runs on a variant (``dataset_options``) or on an
  earlier Shapeset generator never enter a cell of today's data;
- Figure 3: test error against final sparsity over the L1 sweep, with the paper's
  finding (flat until about 85% zeros, then rising) checked on our points;
- the softplus-to-rectifier sweep, test error against α of (1/α)·softplus(αx),
  beside the paper's NORB figures;
- per dataset: per-layer sparsity and dead-unit bars, and learning curves.

Every cell names its data: the paper's own (MNIST, CIFAR-10) or a substitute
(Shapeset from the zoo's generator, Fashion-MNIST for MNIST, smallNORB for NORB).

This module lays out the document; its parts live below it, each importing only
what is below it:

    report_tables, report_figures, report_variants   the sections, as Markdown lines
    plots                                            the PNG figures (matplotlib)
    targets                                          the targets and the paper's ordering
    cells                                            a cell's runs and the paper's figures in words
    results                                          result JSONs: loading, and what each run is
    paper, datasets, neurons, zoo                    the published figures and the descriptors

Keras is not imported.
"""

from __future__ import annotations

import pathlib

from rectifier_zoo import paper
from rectifier_zoo._internal import atomic
from rectifier_zoo.errors import DataError
from rectifier_zoo.reproduction.figures import alpha_section, figure3_section, figure_sections
from rectifier_zoo.reproduction.tables import (
    earlier_data_section,
    other_entries_section,
    other_recipes_section,
    provenance_lines,
    recipes_section,
    runs_appendix,
    shown_datasets,
    table_rows,
    targets_section,
)
from rectifier_zoo.reproduction.dae import pretraining_section
from rectifier_zoo.reproduction.sentiment import sentiment_section
from rectifier_zoo.reproduction.variants import generated_data_section
from rectifier_zoo.reproduction.results import Runs, group_by_name, load_results, mode

REPORT_NAME = "REPRODUCTION.md"


class Report:
    """The report of some runs: each run sorted once into what it is (``results.Runs``: a table run, a
    sweep point, a variant's run, a run of another recipe, or a run on an earlier Shapeset generator)."""

    def __init__(self, results):
        self.runs = Runs.of(results)

    def lines(self, skipped=(), fig_dir="figures", sources=()) -> list:
        """The report's Markdown lines; writes its figures into ``fig_dir``.

        Args:
            skipped: JSON paths that were not training results (named at the end).
            fig_dir: where the PNG figures go (linked as ``figures/<name>``).
            sources: the result directories, named in the first paragraph.
        """
        runs = self.runs
        lines = self.introduction(sources)
        lines += ["## Data", ""] + provenance_lines(shown_datasets(), runs.results) + [""]
        for table in paper.TABLES:
            lines += [f"## {table.title}", ""] + table_rows(table, runs.by_name) + [""]
            lines += [table.note, ""] if table.note else []
        lines += other_entries_section(runs.by_name)
        lines += self.targets_lines() + recipes_section(runs.table_runs) + other_recipes_section(runs.other_recipe)
        lines += earlier_data_section(runs.earlier)
        lines += generated_data_section(runs, fig_dir)
        lines += figure3_section(runs.results, runs.sweep_runs, fig_dir)
        lines += figure_sections(runs.by_name, fig_dir)
        lines += pretraining_section(runs.table_runs + runs.other_recipe, fig_dir)
        lines += alpha_section(runs.results, fig_dir)
        lines += sentiment_section(sources)
        lines += runs_appendix(runs.results, skipped)
        return lines

    def introduction(self, sources) -> list:
        """The title, what the cells are, and (when there are any) what quick and tiny runs are."""
        results = self.runs.results
        lines = [
            "# Reproduction of Glorot, Bordes & Bengio (2011)",
            "",
            (
                f"{len(results)} runs from {', '.join(f'`{s}`' for s in sources) or 'the given results'}. "
                "Each of our cells is the mean ± sample standard deviation (n − 1) over its runs (seeds), "
                "with the run count; errors are on the test split, sparsity is the fraction of exact zeros per hidden layer."
            ),
            "",
        ]
        if {mode(r) for r in results} - {"full"}:
            lines += [
                (
                    "**Quick runs** (small splits, few epochs; marked *quick*) and **tiny runs** (a few hundred examples, "
                    "one epoch; marked *tiny*, for tests only) are smoke runs, not reproductions. A cell uses full runs "
                    "when it has any, else quick, else tiny."
                ),
                "",
            ]
        return lines

    def targets_lines(self) -> list:
        """The Targets section: the team's targets, then the paper's ordering on today's data and on earlier data."""
        return targets_section(self.runs.by_name, group_by_name(self.runs.earlier))


def render(results, skipped=(), fig_dir="figures", sources=()) -> str:
    """The report's Markdown for ``results`` (dicts); writes the figures into ``fig_dir``."""
    return "\n".join(Report(results).lines(skipped, fig_dir, sources))


def write_report(result_dirs, out, filename=REPORT_NAME, say=None) -> pathlib.Path:
    """Write ``out/<filename>`` and ``out/figures/*.png`` from the result JSONs under ``result_dirs``.

    Args:
        result_dirs: directories searched recursively for result JSONs.
        out: output directory (created if missing).
        filename: the Markdown file's name.
        say: if given, called with each line of the Targets section's verdicts (the targets and
            the paper's ordering, contradictions with their numbers), e.g. ``print``.

    Returns:
        The Markdown file's path.

    Raises:
        DataError: a directory is missing, or holds no results.
        ArtifactError: a JSON is corrupt or malformed.

    Example:

    >>> write_report(["runs/reproduce"], "runs/report")
    PosixPath('runs/report/REPRODUCTION.md')
    """
    result_dirs = [pathlib.Path(d) for d in result_dirs]
    results, skipped = load_results(result_dirs)
    if not results:
        raise DataError(
            f"no result JSONs under {', '.join(map(str, result_dirs))}; run `rectifier-zoo reproduce --quick` "
            "first, or pass --results with the directory it wrote"
        )
    out = pathlib.Path(out)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    report = Report(results)
    markdown = "\n".join(report.lines(skipped, fig_dir, sources=[str(d) for d in result_dirs]))
    atomic.write_text(out / filename, markdown)
    if say is not None:
        for line in report.targets_lines():
            if line.startswith("- "):  # the verdicts, not the section's heading and explanation
                say(line)
    return out / filename

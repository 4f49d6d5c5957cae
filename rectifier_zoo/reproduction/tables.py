"""The report's tables in Markdown: whose data, the paper's tables, the targets, the recipes, all runs.

Each function returns Markdown lines. The paper's tables (``paper.TABLES``) set
each cell of ours (``Cell``: mean ± SD over seeds, its run count) beside the
published figure; the Targets section says plainly whether each target and the
paper's ordering (``targets``) hold on our runs; the recipe sections and the runs
on an earlier generator keep what is not in a cell visible, and apart.
"""

from __future__ import annotations

import pathlib

from rectifier_zoo import paper, zoo
from rectifier_zoo.reproduction import targets
from rectifier_zoo.reproduction.cells import Cell, copies, data_label, data_tag, earlier_data_text, label, paper_error, paper_zeros, rate_text, row_label
from rectifier_zoo.reproduction.results import MODES, data_version, descriptor, hyperparameters, mode, recipe_key


def shown_datasets() -> tuple:
    """The datasets the report's Data table lists: the paper's tables', then any other zoo dataset."""
    tables = paper.table_datasets()
    return tables + tuple(d.name for d in zoo.DATASETS if d.name not in tables)


def provenance_lines(datasets, results=()):
    """The Data table: each dataset, whose data it is and why; a copy its runs were trained on, with its fingerprint."""
    lines = ["| dataset | data | note |", "|---|---|---|"]
    for d in datasets:
        info = descriptor(d)
        whose, note = (info.provenance, info.provenance_note) if info else ("substitute", "not one of the paper's datasets")
        whose = "the paper’s own" if whose == "paper" else "substitute"
        runs = [r for r in results if r.get("dataset") == d]
        for copy in copies(runs):
            prints = sorted({r["data"].get("fingerprint", "") for r in runs if r.get("data", {}).get("source") == copy})
            whose, note = f"{copy}, not the original files", f"{', '.join(prints)}; its errors are not the paper's cells to the decimal"
        lines.append(f"| {label(d)} | {whose} | {note} |")
    return lines


def table_rows(table: paper.TableDef, by_name):
    """Markdown rows of one paper table; entries without results say so."""
    rows = [
        "| data | neuron | runs | test error, ours | test error, paper | zeros per layer, ours | zeros, paper |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset in table.datasets:
        stand_in = descriptor(dataset).stands_in_for
        # A row not yet run is on the data its dataset's other rows were run on (e.g. the CIFAR-10 copy).
        dataset_runs = [r for runs in by_name.values() for r in runs if r.get("dataset") == dataset]
        for suffix in table.rows:
            name = f"{dataset}_{suffix}"
            fig = paper.table_figure(name, table.source)
            if fig is None and stand_in is None:
                continue  # the paper has no such cell
            cell = Cell.of(by_name.get(name, []))
            if fig is None:
                ref = paper.table_figure(f"{stand_in}_{suffix}", table.source)
                err, zeros = f"— ({label(stand_in)}: {paper_error(ref)})", "—"
            else:
                err, zeros = paper_error(fig), paper_zeros(fig)
            rows.append(
                f"| {data_label(dataset, cell.results or dataset_runs)} | {row_label(suffix)} (`{name}`) | {cell.runs_label()} | "
                f"{cell.error_text()} | {err} | {cell.zeros_text()} | {zeros} |"
            )
    return rows


def table_names():
    """Every entry a paper table has a row for."""
    return {f"{d}_{s}" for t in paper.TABLES for d in t.datasets for s in t.rows}


def other_entries_section(by_name):
    """Entries with table runs that no paper table has a row for."""
    others = sorted(set(by_name) - table_names())
    if not others:
        return []
    lines = ["## Other entries", "", "| entry | data | runs | test error | zeros per layer | paper (first figure) |",
             "|---|---|---|---|---|---|"]
    for name in others:
        cell, fig = Cell.of(by_name[name]), next(iter(paper.figures(name)), None)
        shown = f"{paper_error(fig)} ({fig.source})" if fig else "—"
        lines.append(f"| `{name}` | {data_label(by_name[name][0]['dataset'], by_name[name])} | {cell.runs_label()} | "
                     f"{cell.error_text()} | {cell.zeros_text()} | {shown} |")
    return lines + [""]


# ---------------------------------------------------------------- targets and the paper's ordering


def targets_section(by_name, earlier_by_name=None):
    """The team's targets and the paper's ordering, each with a plain verdict and its numbers.

    Args:
        by_name: ``{entry: [run, ...]}`` of the table runs.
        earlier_by_name: the same for runs on an earlier generator of their data: their ordering is
            checked too, labelled, since they are the numbers the report showed before.
    """
    lines = ["## Targets", ""]
    for target in targets.TARGETS:
        _, sentence = target.check(Cell.of(by_name.get(target.name, [])).results)
        lines += [f"- {sentence} ({target.why})"]
    lines += ["", f"The paper's ordering without pre-training, as the paper states it ({targets.CLAIM}), judged "
              "beyond the spread of the seeds: a rectifier row is ahead of another row beyond the spread when its "
              "mean + one sample SD is below the other's mean − one SD (both rows with 2 runs or more); one seed has "
              "no spread and is not judged. A rectifier row at or behind tanh or softplus contradicts the paper. "
              "On our runs:", ""]
    groups = [(label(d, [r for runs in cells.values() for r in runs]), d, cells)
              for d, cells in ordering_cells(by_name).items()]
    for version, runs in sorted(_by_version(earlier_by_name or {}).items()):
        for d, cells in ordering_cells(runs).items():
            groups.append((f"{label(d)} ({earlier_data_text(d, version)}; superseded, kept for the record)", d, cells))
    for group_label, dataset, cells in groups:
        _, sentence = targets.ordering(dataset, cells)
        lines.append(f"- {group_label}: {sentence}")
    return lines + [""]


def _by_version(by_name) -> dict:
    """``{generator: {entry: runs}}``: runs on earlier generators of their data, one group per generator."""
    out = {}
    for name, members in by_name.items():
        for r in members:
            out.setdefault(data_version(r), {}).setdefault(name, []).append(r)
    return out


def ordering_cells(by_name) -> dict:
    """``{dataset: {entry: runs}}`` for the ordering: one mode for all four Table 1 rows where they share one
    (full before quick before tiny), else each row's best mode (the sentence tags each row's mode)."""
    per_dataset = {}
    for name, members in by_name.items():
        per_dataset.setdefault(members[0]["dataset"], {})[name] = members
    chosen = {}
    for dataset, cells in sorted(per_dataset.items()):
        rows = [f"{dataset}_{s}" for s in targets.RECTIFIERS + targets.SATURATING]
        common = next((m for m in MODES if all(any(mode(r) == m for r in cells.get(n, [])) for n in rows)), None)
        if common is None:
            chosen[dataset] = {name: Cell.of(members).results for name, members in cells.items()}
        else:
            chosen[dataset] = {name: [r for r in members if mode(r) == common] for name, members in cells.items()}
    return chosen


# ---------------------------------------------------------------- recipes and runs kept apart


def recipe_text(hp) -> str:
    """A recipe in words, from a result's hyper-parameters."""
    rate, batch, momentum, decay, factor = recipe_key(hp)
    sgd = f"SGD with momentum {momentum:g}" if momentum else "plain SGD"
    rate = rate_text(rate, decay, factor)
    stop = f"early stopping after {hp.get('patience', '?')} epochs without gain, at most {hp.get('epochs', '?')} epochs"
    pre = hp.get("pretrain")
    pre_l1 = f", L1 {pre['l1']:g}" if pre and pre.get("l1") is not None else ""
    pre = f"; DAE pre-training {pre['epochs']} epochs per layer at rate {pre['learning_rate']:g}{pre_l1}" if pre else ""
    l1 = f"L1 {hp['l1']:g}, " if hp.get("l1") else ""
    return f"{l1}{sgd}, batch {batch}, {rate}, {stop}{pre}"


def recipes_section(runs):
    """Which recipe each dataset's table runs used."""
    per_dataset = {}
    for r in runs:
        hp = hyperparameters(r)
        text = recipe_text({k: v for k, v in hp.items() if k not in ("pretrain", "l1")})  # one line per dataset
        per_dataset.setdefault(r["dataset"], {}).setdefault(text, set()).add(r["name"])
    lines = ["## Recipes", "",
             "The paper's datasets keep the paper's protocol (plain SGD, batch 10, a constant rate, early stopping on "
             "validation error). Fashion-MNIST is not in the paper; its entries use a recipe of their own "
             "(`zoo.FASHION_RECIPE`), chosen because the paper's stopped early at a worse error (see below). "
             "Rates and L1 penalties chosen on the validation split (searches recorded in `tuning/results/`, "
             "adopted in `zoo.TUNED`) replace the recipe's rate and the paper's 0.001 where one was chosen.", ""]
    for dataset, recipes in sorted(per_dataset.items()):
        for text, names in sorted(recipes.items()):
            count = f"{len(names)} {'entry' if len(names) == 1 else 'entries'}"
            lines.append(f"- {label(dataset)} ({count}): {text}.")
    return lines + [""]


def other_recipes_section(runs):
    """Runs of a recipe the entry no longer uses: kept, shown apart, never averaged into a cell."""
    if not runs:
        return []
    lines = ["## Other recipes tried", "", "| entry | recipe | runs | test error | zeros per layer |", "|---|---|---|---|---|"]
    groups = {}
    for r in runs:
        groups.setdefault((r["name"], recipe_text(hyperparameters(r))), []).append(r)
    for (name, text), members in sorted(groups.items()):
        cell = Cell.of(members)
        lines.append(f"| `{name}` | {text} | {cell.runs_label()} | {cell.error_text()} | {cell.zeros_text()} |")
    return lines + [""]


def earlier_data_section(runs):
    """Runs on an earlier Shapeset generator: kept and shown apart, never in a cell of today's data."""
    if not runs:
        return []
    lines = ["## Runs on an earlier Shapeset generator", "",
             ("The Shapeset generator was audited against the original's description (issue 17; the audit is the "
              "docstring of `rectifier_zoo/datasets/shapeset.py`) and its default output changed: these runs are on "
              "the data before the audit. They stay out of the tables above, which are on today's generator; their "
              "ordering is in the Targets section."), "",
             "| entry | data | runs | test error | zeros per layer |", "|---|---|---|---|---|"]
    groups = {}
    for r in runs:
        groups.setdefault((r["name"], r["dataset"], data_version(r)), []).append(r)
    for (name, dataset, version), members in sorted(groups.items()):
        cell = Cell.of(members)
        lines.append(f"| `{name}` | {earlier_data_text(dataset, version)} | {cell.runs_label()} | {cell.error_text()} | "
                     f"{cell.zeros_text()} |")
    return lines + [""]


def runs_appendix(results, skipped):
    """Every run, one row each, and the JSON files that were not training results."""
    lines = ["## All runs", "", "| file | entry | data | seed | mode | L1 | test error | epochs | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["name"], r["path"])):
        hp = hyperparameters(r)
        lines.append(f"| `{pathlib.Path(r['path']).name}` | {r['name']} | {data_tag(r)} | {hp.get('seed', '—')} | "
                     f"{mode(r)} | {hp.get('l1', '—')} | {r['test_error']:.2%} | {r.get('epochs', '—')} | "
                     f"{r.get('seconds', 0):.0f} |")
    if skipped:
        lines += ["", "Skipped (not training results): " + ", ".join(f"`{p}`" for p in skipped)]
    return lines + [""]

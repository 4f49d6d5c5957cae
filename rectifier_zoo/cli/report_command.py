"""``reproduce`` and ``report``: the paper's tables regenerated, then written up.

``reproduce`` trains a plan of runs (entries x seeds, the Figure 3 L1 sweep, or the
softplus-to-rectifier α sweep),
writing each finished run's result JSON into ``--out`` as it finishes and skipping
runs whose JSON is already there; ``report`` turns those JSONs into Markdown with
figures.
"""

from __future__ import annotations

import argparse
import pathlib

from rectifier_zoo.cli.arguments import non_negative_float, non_negative_int, number, positive_int
from rectifier_zoo.cli.zoo_commands import add_dataset_option_argument, dataset_options_of

DEFAULT_RUNS = pathlib.Path("runs/reproduce")


def alpha_value(text):
    """argparse type: an α > 0 of (1/α)·softplus(αx); ``inf`` is accepted (the sweep always has it)."""
    return number(text, lambda v: v > 0, "a number > 0")


def configure(subparsers):
    _configure_reproduce(subparsers)
    _configure_report(subparsers)


def _configure_reproduce(subparsers):
    p = subparsers.add_parser(
        "reproduce",
        help="train the paper's table rows and print ours beside the paper's",
        description="Train the rows of the workshop paper's Table 1 (rectifier + L1, rectifier, "
        "softplus, tanh) for each dataset and seed, and print our test error and sparsity beside the "
        "paper's. Each finished run's result JSON is written to --out at once; a rerun skips runs whose "
        "JSON exists (delete one to retrain it). --quick runs the Shapeset rows on small generated "
        "splits in a few minutes on 2 CPU cores.",
    )
    p.add_argument("--dataset", action="append", help="dataset(s) to reproduce (default: shapeset); repeatable")
    p.add_argument("--quick", action="store_true", help="small splits and few epochs: a smoke run")
    p.add_argument("--seeds", type=positive_int, default=1, help="seeds per entry (default: 1)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="first seed (default: 0)")
    p.add_argument(
        "--entries",
        metavar="PATTERN",
        help="fnmatch pattern over the entries of each dataset, without the dataset prefix "
        "('*': all 8 incl. _dae; default: the 4 workshop Table 1 rows)",
    )
    sweeps = p.add_mutually_exclusive_group()
    sweeps.add_argument(
        "--l1-sweep",
        nargs="*",
        type=non_negative_float,
        metavar="L1",
        help="Figure 3: train <dataset>_rect_l1 for each L1 value x seed instead of the table rows "
        "(no values: 0 1e-4 3e-4 1e-3 3e-3 1e-2)",
    )
    sweeps.add_argument(
        "--alpha-sweep",
        nargs="*",
        type=alpha_value,
        metavar="ALPHA",
        help="the paper's NORB softplus-to-rectifier sweep: train <dataset>_softplus with (1/α)·softplus(αx) "
        "for each α x seed, plus α = ∞, which is <dataset>_rect (no L1, like the softplus runs), instead of "
        "the table rows (no values: 1 1.3 2 3 6; ∞ is always added)",
    )
    p.add_argument("--epochs", type=non_negative_int, help="maximum epochs (default: the recipe's)")
    p.add_argument("--data-dir", type=pathlib.Path, help="directory with the dataset's files")
    p.add_argument("--download", action="store_true", help="allow tensorflow-datasets to download missing data")
    add_dataset_option_argument(p)
    p.add_argument("--out", type=pathlib.Path, default=DEFAULT_RUNS, help=f"where result JSONs go (default: {DEFAULT_RUNS})")
    p.add_argument("--save-models", action="store_true", help="also save each trained model as <run>.keras in --out")
    p.add_argument("--checkpoint-dir", type=pathlib.Path,
                   help="per-epoch checkpoints of each run in CHECKPOINT_DIR/<run id>/; rerun to resume a killed run "
                   "after its last finished epoch (keep it outside the work tree)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2, help="Keras verbosity (default: 2, a line per epoch)")
    # For tests and CI only: 300/100/100 examples and one epoch per run.
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=run_reproduce)


def _configure_report(subparsers):
    p = subparsers.add_parser(
        "report",
        help="write a Markdown report with figures from reproduce's results",
        description="Read the result JSONs under --results (recursively) and write a Markdown report "
        "(our cells, mean ± std over seeds, beside the paper's tables; the targets and the paper's ordering, "
        "contradictions named; Shapeset sample grids and variants; Figure 3; sparsity and learning curves) with "
        "PNG figures into --out, and print the targets' and the ordering's verdicts.",
    )
    p.add_argument(
        "--results", type=pathlib.Path, action="append", help=f"directory of result JSONs; repeatable (default: {DEFAULT_RUNS})"
    )
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/report"), help="output directory (default: runs/report)")
    p.add_argument("--name", default="REPRODUCTION.md", help="the Markdown file's name (default: REPRODUCTION.md)")
    p.set_defaults(handler=run_report, needs_keras=False)


def run_reproduce(args):
    from rectifier_zoo.reproduction import runs as reproduction, summary as reproduction_summary, results

    datasets = args.dataset or ["shapeset"]
    sweep = None if args.l1_sweep is None else (args.l1_sweep or list(reproduction.DEFAULT_L1_SWEEP))
    alphas = None if args.alpha_sweep is None else (args.alpha_sweep or list(reproduction.DEFAULT_ALPHA_SWEEP))
    options = dataset_options_of(args)
    runs = reproduction.plan(
        datasets, seeds=args.seeds, first_seed=args.seed, entries=args.entries, l1_sweep=sweep, alpha_sweep=alphas,
        dataset_options=options,
    )
    mode = results.mode_of(args.quick, args.tiny)
    variant = "".join(f", {k}={v}" for k, v in runs[0].options) if runs else ""
    print("What the zoo achieves: the shipped models (exports/), from their model cards", flush=True)
    print(reproduction_summary.shipped_table() + "\n", flush=True)
    print(f"reproduce: {len(runs)} run(s) on {', '.join(datasets)}{variant}, {mode} mode; results in {args.out}",
          flush=True)
    finished = reproduction.run_plan(
        runs,
        args.out,
        quick=args.quick,
        tiny=args.tiny,
        data_dir=args.data_dir,
        download=args.download,
        verbose=args.verbose,
        epochs=args.epochs,
        save_models=args.save_models,
        checkpoint_dir=args.checkpoint_dir,
        say=lambda line: print(line, flush=True),
    )
    title = "Figure 3 sweep" if sweep is not None else "Workshop Table 1 rows"
    title = "Softplus-to-rectifier α sweep" if alphas is not None else title
    print()
    print(reproduction_summary.screen(finished, title, mode, seeds=args.seeds))  # the shipped models first, then this run
    print(f"\nresults in {args.out}; `rectifier-zoo report --results {args.out}` writes the report with figures")
    return 0


def run_report(args):
    from rectifier_zoo.reproduction import report
    from rectifier_zoo.errors import ConfigError

    if pathlib.Path(args.name).name != args.name or not args.name.endswith(".md"):
        raise ConfigError(f"--name must be a plain file name ending in .md, got {args.name!r}; use --out for the directory")
    verdicts = []
    path = report.write_report(args.results or [DEFAULT_RUNS], args.out, filename=args.name, say=verdicts.append)
    # The verdicts on the terminal too: a contradiction of the paper is not left for the reader to find.
    print("\n".join(["Targets and the paper's ordering:", *verdicts, ""]))
    print(f"wrote {path} and its figures in {path.parent / 'figures'}")
    return 0

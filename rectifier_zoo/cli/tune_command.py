"""``tune``: search a zoo entry's learning rate (and L1, pre-training rate) with KerasTuner; ``record`` it.

A search writes where it runs (its project dir); ``tune --record`` and ``record`` are
the explicit step that puts a search's record into the repository's ``tuning/results/``.
"""

from __future__ import annotations

import argparse
import pathlib

from rectifier_zoo.cli.arguments import non_negative_int, positive_int


def _hidden(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be >= 1, got {text!r}")
    return sizes


def _range(text):
    try:
        low, high = (float(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH such as 1e-4,0.1, got {text!r}") from None
    return low, high


def _values(text):
    try:
        values = tuple(float(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.1,0.03,0.01, got {text!r}") from None
    if min(values) < 0:
        raise argparse.ArgumentTypeError(f"values must be >= 0, got {text!r}")
    return values


def configure(subparsers):
    p = subparsers.add_parser(
        "tune",
        help="search an entry's learning rate and L1 penalty (KerasTuner)",
        description="Search the learning rate (log scale, or the paper's grid), the L1 penalty "
        "(_l1 entries: 0 or log scale 1e-5..1e-2) and the pre-training rate (_dae entries) on the "
        "validation error. Records the search in its project dir (PROJECT_DIR/NAME.json, or --results-dir), "
        "never in the repository: --record copies the record into tuning/results/NAME.json (refusing to replace "
        "a fuller search's record unless --replace). Prints the line that adopts its values into the zoo's "
        "declaration (rectifier_zoo/entries.py, TUNED: reviewed like any code; nothing changes before), "
        "retrains the best model and evaluates it once on test. Run the same command again to "
        "resume a killed search. Distributed: one `--chief --oracle HOST:PORT` and any number of "
        "`--worker ID --oracle HOST:PORT`.",
    )
    p.add_argument("name", help="zoo entry, e.g. mnist_rect_l1 (see `rectifier-zoo list`)")
    p.add_argument("--tuner", choices=("random", "bayesian", "hyperband", "grid"), default="random",
                   help="search algorithm (default: random; grid: the paper's grid)")
    p.add_argument("--max-trials", type=positive_int, default=10, help="trials in all (default: 10)")
    p.add_argument("--project-dir", type=pathlib.Path,
                   help="search state; rerun with the same dir to resume (default: <zoo home>/tuning/NAME)")
    p.add_argument("--results-dir", type=pathlib.Path, help="where the search's NAME.json goes (default: the project dir)")
    p.add_argument("--record", action="store_true",
                   help="then copy the record into the repository's tuning/results/NAME.json (a finished search "
                        "resumes without running a trial)")
    p.add_argument("--replace", action="store_true", help="with --record: replace the record of a fuller search too")
    p.add_argument("--quick", action="store_true", help="small splits and few epochs: a smoke search")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs per trial (default: the recipe's)")
    p.add_argument("--batch-size", type=positive_int, help="override the recipe's mini-batch size")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    p.add_argument("--data-dir", type=pathlib.Path, help="directory with the dataset's files")
    p.add_argument("--download", action="store_true", help="allow tensorflow-datasets to download missing data")
    p.add_argument("--export-dir", type=pathlib.Path, help="export the retrained best model there (TF Serving layout)")
    p.add_argument("--grid", action="store_true", help="exact choices over the paper's grid {0.1, 0.01, 0.001, 0.0001}")
    p.add_argument("--learning-rates", type=_values, metavar="LR,LR,...",
                   help="exact learning rates to choose from (a grid of your own, e.g. 0.1,0.03,0.01)")
    p.add_argument("--l1-values", type=_values, metavar="L1,L1,...",
                   help="exact L1 penalties to choose from (_l1 entries; 0 allowed), e.g. 0,1e-4,1e-3")
    p.add_argument("--learning-rate-range", type=_range, metavar="LOW,HIGH", help="log-scale range (default: 1e-4,0.1)")
    p.add_argument("--l1-range", type=_range, metavar="LOW,HIGH", help="log-scale L1 range (default: 1e-5,1e-2)")
    p.add_argument("--hidden", type=_hidden, metavar="N,N,...", help="hidden sizes replacing the entry's (smoke runs)")
    p.add_argument("--no-retrain", action="store_true", help="record the best hyper-parameters only")
    role = p.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true", help="run the oracle only, serving workers at --oracle")
    role.add_argument("--worker", metavar="ID", help="run trials for the chief at --oracle under this ID")
    p.add_argument("--oracle", metavar="HOST:PORT", help="the chief's address (with --chief / --worker)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0, help="Keras output inside trials (default: 0)")
    p.set_defaults(handler=run_tune)
    configure_record(subparsers)


def configure_record(subparsers):
    p = subparsers.add_parser(
        "record",
        help="copy a finished search's record into tuning/results/",
        description="Copy the record of a finished search (NAME.json in its project dir or results dir) into the "
        "repository's tuning/results/NAME.json, where the zoo's searches are kept and reviewed. Refuses to replace "
        "the record of a fuller search (more completed trials, more epochs per trial, more training examples, or "
        "a full search by a --quick one) unless --replace, and refuses outside a checkout of the repository.",
    )
    p.add_argument("name", help="zoo entry, e.g. mnist_rect_l1")
    p.add_argument("--from", dest="source", type=pathlib.Path, metavar="PATH",
                   help="the record, or the folder holding NAME.json (default: <zoo home>/tuning/NAME)")
    p.add_argument("--replace", action="store_true", help="replace the record of a fuller search too")
    p.set_defaults(handler=run_record)


def run_record(args):
    from rectifier_zoo import zoo
    from rectifier_zoo.tuning import project

    zoo.get_spec(args.name)
    target = project.record(args.name, args.source, replace=args.replace)
    print(f"recorded in {target}")
    print(project.adoption(project.load_result(args.name)))
    return 0


def run_tune(args):
    from rectifier_zoo import zoo
    from rectifier_zoo.errors import ConfigError

    zoo.get_spec(args.name)  # an unknown name fails before anything heavy loads
    if (args.chief or args.worker is not None) and not args.oracle:
        raise ConfigError("--chief and --worker need --oracle HOST:PORT (the chief's address)")
    from rectifier_zoo.tuning import project, search

    if args.replace and not args.record:
        raise ConfigError("--replace goes with --record (it lets the record replace a fuller search's); add --record or drop it")
    if args.record:  # refused now what recording would refuse after hours of search
        if args.worker is not None:
            raise ConfigError("--record is for the chief or a single search (a worker writes no record); drop it here")
        project.check_recordable(args.name, {"quick": args.quick}, replace=args.replace)
    outcome = search(args.name, _space(args), **_search_options(args))
    if outcome.role == "worker":
        print(f"worker {args.worker}: no trials left; the chief records the result")
        return 0
    if args.record:
        print(f"recorded in {project.record(args.name, outcome.results_path, replace=args.replace)}")
    else:
        print(f"to record this search in tuning/results/: rectifier-zoo record {args.name} --from {outcome.results_path}")
    print(project.adoption(outcome.record))
    if outcome.export_path is not None:
        print(f"exported to {outcome.export_path}")
    return 0


def _space(args):
    from rectifier_zoo.tuning import hypermodel

    return hypermodel.SearchSpace(
        grid=args.learning_rates or args.grid,
        learning_rate=args.learning_rate_range or hypermodel.LEARNING_RATE_RANGE,
        l1=args.l1_range or hypermodel.L1_RANGE,
        l1_grid=args.l1_values,
        hidden=args.hidden,
    )


def _search_options(args) -> dict:
    """``search``'s keyword arguments, from the flags of the same names."""
    names = ("tuner", "max_trials", "project_dir", "results_dir", "quick", "epochs", "batch_size", "seed",
             "data_dir", "download", "export_dir", "chief", "worker", "oracle", "verbose")  # fmt: skip
    return {name: getattr(args, name) for name in names} | {"retrain": not args.no_retrain}

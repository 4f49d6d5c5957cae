"""``reproduce`` (and, later, ``report``): the paper's tables regenerated."""

from __future__ import annotations

import pathlib

from rectifier_zoo.cli import positive_int


def configure(subparsers):
    p = subparsers.add_parser(
        "reproduce",
        help="train the paper's table rows and print ours beside the paper's",
        description="Train the rows of the workshop paper's Table 1 (rectifier + L1, rectifier, "
        "softplus, tanh) and print our test error and sparsity beside the paper's. "
        "--quick runs the Shapeset rows on small generated splits in a few minutes on 2 CPU cores.",
    )
    p.add_argument("--dataset", action="append", help="dataset(s) to reproduce (default: shapeset); repeatable")
    p.add_argument("--quick", action="store_true", help="small splits and few epochs")
    p.add_argument("--seed", type=positive_int, default=0, help="random seed (default: 0)")
    p.add_argument("--data-dir", type=pathlib.Path, help="directory with the dataset's files")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs/reproduce"), help="where models and results go")
    p.set_defaults(handler=run_reproduce)


def run_reproduce(args):
    from rectifier_zoo import reproduction

    datasets = args.dataset or ["shapeset"]
    names = [n for d in datasets for n in reproduction.table1_entries(d)]
    from rectifier_zoo import zoo

    for name in names:
        zoo.get_spec(name)
    results = reproduction.reproduce(names, quick=args.quick, seed=args.seed, data_dir=args.data_dir, out=args.out)
    print()
    print("Workshop Table 1 (no pre-training), ours beside the paper's" + (" — QUICK run: small splits" if args.quick else ""))
    print(reproduction.comparison_table(results))
    return 0

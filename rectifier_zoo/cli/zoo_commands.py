"""``list`` and ``train``: the zoo's own commands."""

from __future__ import annotations

import pathlib

from rectifier_zoo.cli import positive_float, positive_int


def configure(subparsers):
    p = subparsers.add_parser("list", help="list the zoo's entries", description="List zoo entries as a table.")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over entry names (default: all)")
    p.set_defaults(handler=run_list, needs_keras=False)

    p = subparsers.add_parser(
        "train",
        help="train one entry by its recipe",
        description="Train a zoo entry by its recipe, print the result beside the paper's, "
        "and save the model (.keras) with its result (.json).",
    )
    p.add_argument("name", help="zoo entry, e.g. shapeset_rect_l1 (see `rectifier-zoo list`)")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs (default: the recipe's)")
    p.add_argument("--quick", action="store_true", help="small splits and few epochs: a smoke run")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs"), help="output directory (default: runs/)")
    p.add_argument("--seed", type=positive_int, default=0, help="random seed (default: 0)")
    p.add_argument("--data-dir", type=pathlib.Path, help="directory with the dataset's files")
    p.add_argument("--download", action="store_true", help="allow tensorflow-datasets to download missing data")
    p.add_argument("--learning-rate", type=positive_float, help="override the recipe's SGD learning rate")
    p.add_argument("--batch-size", type=positive_int, help="override the recipe's mini-batch size")
    p.add_argument("--l1", type=float, help="override the L1 penalty (_l1 entries only)")
    p.add_argument(
        "--checkpoint-dir", type=pathlib.Path, help="per-epoch checkpoints; rerun with the same dir to resume"
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="0 silent, 1 progress bars, 2 a line per epoch")
    p.set_defaults(handler=run_train)


def run_list(args):
    from rectifier_zoo import zoo
    from rectifier_zoo.reproduction import paper_figure

    names = zoo.list_models(args.pattern)
    if not names:
        print(f"no entry matches {args.pattern!r}")
        return 1
    header = f"{'name':<26} {'dataset':<14} {'neuron':<9} {'L1':>6} {'pre-train':<9} {'parameters':>11} {'paper test error':>17}"
    print(header)
    print("-" * len(header))
    for name in names:
        spec = zoo.get_spec(name, tuned=False)
        fig = paper_figure(spec)
        paper = f"{fig.test_error:.2f}% ({fig.source})" if fig else "—"
        print(
            f"{name:<26} {spec.dataset:<14} {spec.neuron:<9} {spec.l1:>6g} {'DAE' if spec.pretrained else 'no':<9} "
            f"{spec.parameters:>11,} {paper:>17}"
        )
    return 0


def run_train(args):
    from rectifier_zoo import zoo
    from rectifier_zoo.reproduction import summary_table
    from rectifier_zoo.trainer import train

    zoo.get_spec(args.name)  # an unknown name fails before anything loads
    overrides = {}
    if args.learning_rate is not None:
        overrides["learning_rate"] = args.learning_rate
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.l1 is not None:
        overrides["l1"] = args.l1
    result = train(
        args.name,
        epochs=args.epochs,
        quick=args.quick,
        seed=args.seed,
        data_dir=args.data_dir,
        download=args.download,
        out=args.out,
        checkpoint_dir=args.checkpoint_dir,
        verbose=args.verbose,
        **overrides,
    )
    print(result.summary())
    print(summary_table([result]))
    print(f"saved {args.out / (result.name + '.keras')} and {args.out / (result.name + '.json')}")
    return 0

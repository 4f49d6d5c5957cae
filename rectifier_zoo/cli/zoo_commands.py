"""``list`` and ``train``: the zoo's own commands."""

from __future__ import annotations

import argparse
import pathlib

from rectifier_zoo.cli.arguments import non_negative_float, positive_float, non_negative_int
from rectifier_zoo.training.recipes import PRETRAIN_OVERRIDES

TRAIN_OVERRIDES = ("learning_rate", "batch_size", "patience", "lr_decay_patience", "l1", *PRETRAIN_OVERRIDES)

_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")


def dataset_option(text):
    """argparse type: ``NAME=VALUE``, a dataset option; VALUE true/false (yes/no, on/off), a number or text.

    Example:

    >>> dataset_option("swap=false")
    ('swap', False)
    """
    name, sep, raw = text.partition("=")
    if not sep or not name.strip() or not raw.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. swap=false or antialias=true, got {text!r}")
    raw = raw.strip()
    if raw.lower() in _TRUE + _FALSE:
        return name.strip(), raw.lower() in _TRUE
    for kind in (int, float):
        try:
            return name.strip(), kind(raw)
        except ValueError:
            pass
    return name.strip(), raw


def add_dataset_option_argument(parser):
    """``--dataset-option NAME=VALUE``, repeatable, for the commands that load an entry's data."""
    parser.add_argument(
        "--dataset-option",
        dest="dataset_options",
        type=dataset_option,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="train on a variant of the entry's data, e.g. --dataset-option swap=false (Shapeset without its "
        "foreground/background swap), antialias=true, signed=true; repeatable. The result records it, and "
        "reports keep such runs apart from the entry's own",
    )


def dataset_options_of(args) -> dict:
    """The parsed ``--dataset-option`` pairs as a dict (a name given twice is a usage error)."""
    from rectifier_zoo.errors import ConfigError

    names = [name for name, _ in args.dataset_options]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(f"--dataset-option {', '.join(twice)} given more than once; give each option once")
    return dict(args.dataset_options)


def configure(subparsers):
    p = subparsers.add_parser(
        "list",
        help="list the zoo's entries",
        description="List zoo entries as a table: the L1 penalty and learning rate each trains with and "
        "where they come from (tuned, paper, recipe), parameters, whether trained weights are at hand "
        "(cached or shipped, with their test error) and the paper's test error.",
    )
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern over entry names (default: all)")
    p.set_defaults(handler=run_list, needs_keras=False)

    p = subparsers.add_parser(
        "train",
        help="train one entry by its recipe",
        description="Train a zoo entry by its recipe, print the result beside the paper's, "
        "and save the model (.keras) with its result (.json).",
    )
    p.add_argument("name", help="zoo entry, e.g. shapeset_rect_l1 (see `rectifier-zoo list`)")
    p.add_argument("--epochs", type=non_negative_int, help="maximum epochs (default: the recipe's)")
    p.add_argument("--quick", action="store_true", help="small splits and few epochs: a smoke run")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("runs"), help="output directory (default: runs/)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    p.add_argument("--data-dir", type=pathlib.Path, help="directory with the dataset's files")
    p.add_argument("--download", action="store_true", help="allow tensorflow-datasets to download missing data")
    add_dataset_option_argument(p)
    p.add_argument("--learning-rate", type=positive_float, help="override the recipe's SGD learning rate")
    p.add_argument("--batch-size", type=non_negative_int, help="override the recipe's mini-batch size")
    p.add_argument("--patience", type=non_negative_int,
                   help="override the recipe's early stopping: epochs without a better validation error")
    p.add_argument("--lr-decay-patience", type=non_negative_int,
                   help="multiply the learning rate by the recipe's decay factor (0.1) after this many epochs without a better validation "
                   "error (default: the recipe's; 0 keeps the paper's constant rate)")
    p.add_argument("--l1", type=float, help="override the L1 penalty (_l1 entries only)")
    p.add_argument("--pretrain-l1", type=non_negative_float,
                   help="override the L1 penalty on the codes while pre-training (_dae entries only)")
    p.add_argument("--pretrain-learning-rate", type=positive_float,
                   help="override the SGD learning rate while pre-training (_dae entries only)")
    p.add_argument("--pretrain-epochs", type=non_negative_int, help="override the pre-training epochs per layer (_dae entries only)")
    p.add_argument(
        "--checkpoint-dir", type=pathlib.Path, help="per-epoch checkpoints; rerun with the same dir to resume"
    )
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="0 silent, 1 progress bars, 2 a line per epoch")
    p.set_defaults(handler=run_train)


def run_list(args):
    from rectifier_zoo import listing

    entries = listing.catalog(args.pattern)
    if not entries:
        print(f"no entry matches {args.pattern!r}")
        return 1
    print(listing.table(entries))
    return 0


def run_train(args):
    from rectifier_zoo import zoo
    from rectifier_zoo.reproduction.summary import summary_table
    from rectifier_zoo.api import train

    zoo.get_spec(args.name)  # an unknown name fails before anything loads
    dataset_options = dataset_options_of(args)
    # The override flags' dest names are train()'s keyword names; an absent flag keeps the recipe's.
    overrides = {key: getattr(args, key) for key in TRAIN_OVERRIDES if getattr(args, key) is not None}
    result = train(
        args.name,
        epochs=args.epochs,
        quick=args.quick,
        seed=args.seed,
        data_dir=args.data_dir,
        download=args.download,
        dataset_options=dataset_options,
        out=args.out,
        checkpoint_dir=args.checkpoint_dir,
        verbose=args.verbose,
        **overrides,
    )
    print(result.summary())
    print(summary_table([result]))
    print(f"saved {args.out / (result.name + '.keras')} and {args.out / (result.name + '.json')}")
    return 0

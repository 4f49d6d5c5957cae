"""The ``rectifier-zoo`` command line (also ``python -m rectifier_zoo``).

Each sub-command lives in a module of this package exposing ``configure(subparsers)``,
which adds its parser and sets ``handler`` to a function of the parsed arguments.
Sub-command modules import Keras only inside their handlers, so ``--help`` is fast.
Every error the zoo raises on purpose is printed on one line, exit status 2.

The top floor: it may import every other room of the package; nothing imports it
(``rectifier_zoo.__main__`` only calls ``main``).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from rectifier_zoo._internal import advice
from rectifier_zoo.cli.arguments import Parser
from rectifier_zoo.errors import ZooError

COMMAND_MODULES = (
    "rectifier_zoo.cli.zoo_commands",
    "rectifier_zoo.cli.export_command",
    "rectifier_zoo.cli.tune_command",
    "rectifier_zoo.cli.report_command",
)


def build_parser() -> Parser:
    parser = Parser(
        prog="rectifier-zoo",
        description="Sparse rectifier networks (Glorot, Bordes & Bengio 2011) as a Keras model zoo.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).configure(subparsers)
    return parser


def quiet_import_keras():
    """Import Keras (and TensorFlow) before a command runs.

    Their C++ start-up lines obey ``TF_CPP_MIN_LOG_LEVEL`` (2 unless set: errors
    only, see ``rectifier_zoo._internal.tf_logs``); real errors still show. Set
    ``TF_CPP_MIN_LOG_LEVEL=0`` to see every line.
    """
    import keras  # noqa: F401  (rectifier_zoo._internal.registration filters its start-up lines)


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    if getattr(args, "needs_keras", True):
        quiet_import_keras()
        # TF warns about retracing when a command trains several models in turn.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        with advice.command_line(sys.argv[1:] if argv is None else argv):  # fixes named as flags
            return int(args.handler(args) or 0)
    except ZooError as err:
        print(f"rectifier-zoo {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rectifier-zoo {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rectifier-zoo list | head`: the reader has gone, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush is quiet too
        return 0

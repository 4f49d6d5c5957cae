"""``export``: a trained model as a TF Serving version with its card; ``models.config``.
``ship``: the best reproduction run of each entry, exported into the repository's zoo."""

from __future__ import annotations

import pathlib

from rectifier_zoo.cli.arguments import positive_float, non_negative_int


def configure(subparsers):
    p = subparsers.add_parser(
        "export",
        help="export a trained model for TF Serving (SavedModel + .keras + model card)",
        description="Export a trained model as EXPORT_DIR/NAME/VERSION/ (a SavedModel whose serving_default "
        "signature takes 'features' and returns 'probabilities' and 'class', the .keras file, "
        "model_card.json and README.md) and update EXPORT_DIR/manifest.json. A shipped zoo entry "
        "(`rectifier-zoo export mnist_rect_l1 --export-dir serving`) is exported from its .keras file with "
        "its card's facts. With --serving-config, also write TF Serving's EXPORT_DIR/models.config for "
        "every servable model there.",
    )
    p.add_argument("name", nargs="?", help="model folder name, normally the zoo entry (e.g. mnist_rect_l1)")
    p.add_argument(
        "--model",
        type=pathlib.Path,
        help="the trained .keras file (default: runs/NAME.keras from `rectifier-zoo train NAME` if present, "
        "else the zoo's cached copy); its NAME.json result beside it fills the card's metrics",
    )
    p.add_argument("--export-dir", type=pathlib.Path, default=pathlib.Path("exports"), help="default: exports/")
    p.add_argument("--version", type=non_negative_int, help="version number (default: highest existing + 1)")
    p.add_argument("--serving-config", action="store_true", help="write EXPORT_DIR/models.config for TF Serving")
    p.add_argument(
        "--base-path",
        help="EXPORT_DIR as the server sees it in models.config, e.g. /models in the tensorflow/serving "
        "container (default: its absolute path here)",
    )
    p.set_defaults(handler=run_export)
    configure_ship(subparsers)


def configure_ship(subparsers):
    from rectifier_zoo.reproduction import shipping

    p = subparsers.add_parser(
        "ship",
        help="export the best reproduction run of each entry into the shipped zoo (exports/)",
        description="For every entry matching --entries, pick the full reproduction run with the lowest "
        "validation error among the result JSONs under --results that have a .keras beside them "
        "(`rectifier-zoo reproduce --save-models`), and export it into EXPORT_DIR with its model card, "
        "manifest.json and models.config. Entries already shipped are kept (one copy of each artifact in "
        "the repository) unless --replace; runs no better than chance are refused, and so is a _dae entry "
        "whose best run does not beat its plain entry's on validation.",
    )
    p.add_argument("--results", type=pathlib.Path, action="append",
                   help="directory of result JSONs and .keras files; repeatable (default: reproduction/results)")
    p.add_argument("--export-dir", type=pathlib.Path, default=pathlib.Path("exports"), help="default: exports/")
    p.add_argument("--entries", action="append",
                   help=f"fnmatch pattern of entries to ship; repeatable (default: {' '.join(shipping.DEFAULT_PATTERNS)})")
    p.add_argument("--replace", action="store_true", help="re-export entries already shipped (a new version; the old goes)")
    p.add_argument("--budget-mb", type=positive_float, default=shipping.DEFAULT_BUDGET_MB,
                   help=f"refuse to grow EXPORT_DIR past this size (default: {shipping.DEFAULT_BUDGET_MB:g} MB)")
    p.set_defaults(handler=run_ship)


def run_ship(args):
    from rectifier_zoo.reproduction import shipping

    decisions = shipping.ship(
        args.results or [pathlib.Path("reproduction/results")],
        args.export_dir,
        patterns=tuple(args.entries or shipping.DEFAULT_PATTERNS),
        replace=args.replace,
        budget_mb=args.budget_mb,
    )
    return 0 if decisions else 1


def run_export(args):
    from rectifier_zoo import api
    from rectifier_zoo.hub import export as exporting, integrity, store
    from rectifier_zoo.errors import ConfigError

    if args.name is None and not args.serving_config:
        raise ConfigError("give a model NAME to export, or --serving-config to write models.config (or both)")
    if args.name is not None:
        integrity.safe_name(args.name)
        source = args.model
        if source is None:
            default = pathlib.Path("runs") / f"{args.name}.keras"
            source = default if default.is_file() else args.name
        if args.version == 0:
            raise ConfigError("--version must be >= 1")
        api.export(source, args.export_dir, version=args.version, name=args.name)
    if args.serving_config:
        path = exporting.write_serving_config(args.export_dir, base_path=args.base_path)
        count = len(store.model_dirs(args.export_dir, servable=True))
        print(f"wrote {path} ({count} model{'s' if count != 1 else ''})")
    return 0

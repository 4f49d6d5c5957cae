"""An entry's data: its dataset's splits as a run uses them, and what a result records of them."""

from __future__ import annotations

# --quick: the paper's 10k training examples but smaller valid/test splits and few
# epochs, so an entry trains in about a minute on 2 CPU cores. Results are
# indicative only; reports mark them as quick.
QUICK_SIZES = {"n_train": 10000, "n_valid": 2000, "n_test": 5000}


def load_splits(spec, data_dir=None, download=False, quick=False, seed=0, dataset_options=None):
    """The entry's dataset splits (subsets of them in quick mode), with ``dataset_options`` if any."""
    from rectifier_zoo import datasets

    generated = datasets.descriptor(spec.dataset).generated
    kwargs = {"seed": seed} if generated else {}  # the seed picks generated data
    if quick and generated:
        kwargs.update(QUICK_SIZES)  # generate only what is used
    kwargs.update(datasets.check_options(spec.dataset, dataset_options))
    splits = datasets.load(spec.dataset, data_dir=data_dir, download=download, **kwargs)
    if quick:
        splits = splits.subset(*QUICK_SIZES.values())
    return splits


def data_hyperparameters(spec, dataset_options=None) -> dict:
    """What a result records about its data beyond the dataset's name.

    ``dataset_options`` (only when some differ from the defaults) mark a variant's
    run, which a report never averages into the entry's own cell; Shapeset runs
    also record the generator's version (``shapeset.GENERATOR``), since the same
    seed gave other images before the generator's audit.

    Example:

    >>> data_hyperparameters(rz.get_spec("shapeset_rect"), {"swap": False})
    {'shapeset_generator': 2, 'dataset_options': {'swap': False}}
    """
    from rectifier_zoo import datasets

    record = {}
    info = datasets.descriptor(spec.dataset)
    if info.version_key:
        record[info.version_key] = info.current_version()
    options = datasets.check_options(spec.dataset, dataset_options)
    if options:
        record["dataset_options"] = options
    return record

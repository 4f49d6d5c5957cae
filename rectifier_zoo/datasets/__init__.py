"""Dataset loaders: ``load(name) -> Splits`` with the paper's train / valid / test splits.

Every loader returns a :class:`Splits` whose splits are ``(x, y)`` pairs, ``x``
float32 ``(n, features)`` flat and ``y`` int64.  Nothing is downloaded unless
``download=True`` (or ``RECTIFIER_ZOO_DOWNLOAD=1``); prepared arrays are cached
under ``rectifier_zoo._internal.paths.datasets_home()``.  Importing this package is cheap:
TensorFlow and tensorflow-datasets are imported only by the loaders that need them.

Lives here: one descriptor per dataset (``descriptors``), one loader module per
dataset (``idx``, ``cifar10`` with ``cifar10_jpeg``, ``norb``, ``sentiment``,
``shapeset`` and its parts), ``splits`` (``Splits``), ``cache`` (the prepared-array
cache) and ``tfds_source`` (the tensorflow-datasets edge).

May import: ``rectifier_zoo.errors`` and ``rectifier_zoo._internal`` only: data knows
nothing of models, training or the zoo's entries.
"""

from __future__ import annotations

import difflib
import inspect

from rectifier_zoo._internal import advice
from rectifier_zoo.datasets.descriptors import BY_NAME, DATASETS, Dataset
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError

__all__ = ["Dataset", "Splits", "load", "names", "describe", "descriptor", "descriptors", "check_options"]

def names() -> list:
    """The supported dataset names, sorted."""
    return sorted(BY_NAME)


def descriptors() -> tuple:
    """Every dataset's descriptor, in declaration order."""
    return DATASETS


def descriptor(name: str) -> Dataset:
    """The descriptor of dataset ``name`` (loader, shape, classes, provenance); ConfigError if unknown."""
    return BY_NAME[_check_name(name)]


def describe(name: str) -> str:
    """A one-line description of dataset ``name`` (splits, features, source)."""
    return descriptor(name).description


def _check_name(name) -> str:
    if name in BY_NAME:
        return name
    close = difflib.get_close_matches(str(name).lower().replace("-", "_"), names(), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown dataset {name!r}.{hint} Supported: {', '.join(names())}")


def _check_kwargs(name, func, kwargs) -> None:
    """Unknown keyword arguments become a ConfigError listing the accepted ones."""
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = sorted(set(params) - set(BY_NAME[name].fixed))
        raise ConfigError(f"dataset {name!r} does not take {', '.join(unknown)}; it accepts: {', '.join(accepted)}")


# Set by whoever loads a zoo entry's data (the trainer), never by dataset options.
RESERVED_OPTIONS = ("data_dir", "download", "cache", "seed", "variant", "n_train", "n_valid", "n_test")


def check_options(name, options) -> dict:
    """The dataset options of ``name`` that differ from its loader's defaults, checked.

    Dataset options make a variant of a dataset (e.g. Shapeset without its
    foreground/background swap); runs record what this returns, so ``{}`` always
    means the dataset as the zoo loads it by default.

    Args:
        name: one of :func:`names`.
        options: a mapping of the loader's keyword arguments, e.g. ``{"swap": False}``.

    Returns:
        A new dict of the options whose value is not the default.

    Raises:
        ConfigError: an unknown or reserved option, or a bad value (the message
            lists the accepted options).

    Example:

    >>> check_options("shapeset", {"swap": False, "antialias": False})
    {'swap': False}
    """
    name = _check_name(name)
    if options is None:
        return {}
    if not hasattr(options, "items"):
        raise ConfigError(f"dataset options must be a dict such as {{'swap': False}}, got {options!r}")
    reserved = sorted(set(options) & set(RESERVED_OPTIONS))
    if reserved:
        raise ConfigError(
            f"{', '.join(reserved)} cannot be a dataset option: the trainer sets it (pass seed= / --seed, "
            "quick=, data_dir= or download= to the trainer instead)"
        )
    info = BY_NAME[name]
    module = info.module()
    if hasattr(module, "check_options"):  # the loader knows its options' values (shapeset)
        return module.check_options(options)
    params = inspect.signature(module.load).parameters
    accepted = sorted(set(params) - set(info.fixed) - set(RESERVED_OPTIONS))
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"dataset {name!r} has no option {', '.join(unknown)}; its options: {', '.join(accepted) or 'none'}")
    return {key: value for key, value in options.items() if value != params[key].default}


def load(name: str, data_dir=None, download: bool = False, cache: bool = True, **kwargs) -> Splits:
    """Load dataset ``name`` as train / valid / test splits.

    Args:
        name: one of :func:`names` (``mnist``, ``fashion_mnist``, ``cifar10``, ``norb``,
            ``sentiment``, ``shapeset``, ``shapeset3x2``).
        data_dir: folder with the original files (IDX, CIFAR python batches,
            processed_acl reviews) or a tensorflow-datasets data folder.  ``None``:
            the dataset's default places (see each module's docstring).
        download: allow tensorflow-datasets to download data that is not found
            locally (also ``RECTIFIER_ZOO_DOWNLOAD=1``).  Off by default.
        cache: reuse/write the prepared arrays under ``datasets_home()``.
        **kwargs: dataset-specific options, e.g. ``seed``, ``n_train``, and the
            variants ``swap``, ``antialias``, ``signed`` (shapeset; see
            ``rectifier_zoo.datasets.shapeset``), ``seed``, ``vocab_size``,
            ``domains`` (sentiment).

    Returns:
        :class:`Splits`.

    Raises:
        ConfigError: unknown name or keyword argument.
        DataError: data missing (the message says how to get it) or malformed.
    """
    given = {"data_dir": data_dir, "download": download or None, "cache": None if cache else False, **kwargs}
    with advice.calling("rz.datasets.load", name, **{k: v for k, v in given.items() if v is not None}):
        return _load(name, data_dir, download, cache, **kwargs)


def _load(name, data_dir, download, cache, **kwargs) -> Splits:
    name = _check_name(name)
    if data_dir is not None:
        from rectifier_zoo._internal.validation import folder

        data_dir = folder("data_dir", data_dir)
    info = BY_NAME[name]
    # Lazy: each loader (and shapeset's generator) is imported only when asked for.
    module = info.module()
    _check_kwargs(name, module.load, kwargs)
    if info.generated:
        # Generated data: no files, no download, no cache of ours (the generator is its own source).
        return module.load(**info.fixed, **kwargs)
    return module.load(**info.fixed, data_dir=data_dir, download=download, cache=cache, **kwargs)

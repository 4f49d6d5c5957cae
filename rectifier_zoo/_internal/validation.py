"""Checks of user-given values, each failing with one clear ``ConfigError``.

Shared by the layers, the builders, the zoo and the command line so every entry
point words the same problem the same way.
"""

from __future__ import annotations

import difflib
import math
import numbers

from rectifier_zoo.errors import ConfigError


def number(name, value, *, low=None, high=None, low_open=False, high_open=False, integer=False):
    """Return ``value`` if it is a finite number within the bounds, else raise ConfigError.

    Args:
        name: the argument's name, as the user wrote it.
        value: the value to check.
        low, high: bounds (None for unbounded).
        low_open, high_open: whether the bound itself is excluded.
        integer: require an integer (bools are refused).
    """
    kind = "an integer" if integer else "a number"
    ok_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise ConfigError(f"{name} must be {kind}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        span = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ConfigError(f"{name} must lie in {span}, got {value!r}")
    return value


def choice(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise ConfigError suggesting the closest."""
    allowed = list(allowed)
    if value in allowed:
        return value
    raise ConfigError(f"unknown {name} {value!r}; {suggest(str(value), allowed)}")


def suggest(value: str, allowed) -> str:
    """A sentence naming the closest allowed values (or all of them when few)."""
    allowed = sorted(str(a) for a in allowed)
    close = difflib.get_close_matches(value, allowed, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if len(allowed) <= 12:
        return "allowed: " + ", ".join(allowed)
    return f"see `rectifier-zoo list` for the {len(allowed)} allowed names"


def folder(name, value):
    """Return ``value`` as a ``pathlib.Path`` if it can be a folder, else raise ConfigError.

    A folder argument must be a str or path, and must not name an existing file
    (checked up front so a run fails before its slow work, not when it saves).

    Example:

    >>> folder("export_dir", "exports")
    PosixPath('exports')
    """
    import os
    import pathlib

    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{name} must be a folder path (str or pathlib.Path), got {value!r}")
    try:
        path = pathlib.Path(value).expanduser()
    except RuntimeError:  # "~nobody/..."
        raise ConfigError(f"{name} {str(value)!r} starts with the home of an unknown user; pass a full path") from None
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "" if existing == path else f" (its parent {str(existing)!r} is a file)"
        raise ConfigError(f"{name} {str(path)!r} cannot be a folder{where}; pass a folder path (new or existing)")
    return path


def run_arguments(seed, verbose, checkpoint_dir):
    """A training run's seed, verbosity and checkpoint folder, checked (``rz.train`` and ``fit`` share it).

    Returns:
        ``checkpoint_dir`` as a usable folder path, or None.
    """
    number("seed", seed, low=0, high=2**32 - 1, integer=True)
    choice("verbose", verbose, (0, 1, 2))
    return None if checkpoint_dir is None else folder("checkpoint_dir", checkpoint_dir)

"""How an error message names its fix: as a Python call, or as the command line's flags.

A fix reads ``download=True`` to a Python caller and ``--download`` to a user of
``rectifier-zoo``, and a suggestion only helps if it works when pasted. So the
command line states the command it is running (``command_line(argv)``) and the
public Python verbs the call they are in (``calling("rz.load", name, ...)``, the
outermost call winning); a fix found deep inside, such as a dataset that needs a
download, is then written as that same command or call with one option more:

    rz.load('mnist_rect_l1', train_if_missing=True, download=True)
    rectifier-zoo train mnist_rect_l1 --download

Light: no Keras, no TensorFlow.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import shlex

PROG = "rectifier-zoo"


@dataclasses.dataclass(frozen=True)
class _Call:
    """What the user typed: a command line (``argv``) or a Python call."""

    cli: bool
    argv: tuple = ()
    func: str = ""
    args: tuple = ()
    kwargs: tuple = ()  # (name, value) pairs, in order


_CURRENT: contextvars.ContextVar = contextvars.ContextVar("rectifier_zoo_advice", default=None)


@contextlib.contextmanager
def command_line(argv):
    """Within this block, fixes are written as flags of ``rectifier-zoo *argv``.

    Example:

    >>> with command_line(["train", "mnist_rect_l1"]):
    ...     retry(download=True)
    'rectifier-zoo train mnist_rect_l1 --download'
    """
    token = _CURRENT.set(_Call(cli=True, argv=tuple(str(a) for a in argv)))
    try:
        yield
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def calling(func, *args, **kwargs):
    """Within this block, fixes are written as ``func(*args, **kwargs)`` with options changed.

    Only the outermost call (or command line) counts: it is the one the user typed.
    Pass the arguments as the user gave them, leaving out defaults.

    Example:

    >>> with calling("rz.load", "mnist_rect_l1", train_if_missing=True):
    ...     retry(download=True)
    "rz.load('mnist_rect_l1', train_if_missing=True, download=True)"
    """
    if _CURRENT.get() is not None:
        yield
        return
    token = _CURRENT.set(_Call(cli=False, func=func, args=tuple(args), kwargs=tuple(kwargs.items())))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def in_cli() -> bool:
    """Whether the code runs inside a ``rectifier-zoo`` command."""
    current = _CURRENT.get()
    return bool(current and current.cli)


def option(name, value=True) -> str:
    """One option as the user would write it: ``data_dir='DIR'`` or ``--data-dir DIR``.

    Example:

    >>> option("data_dir", "DIR"), option("download")
    ("data_dir='DIR'", 'download=True')
    """
    if in_cli():
        flag = "--" + name.replace("_", "-")
        return flag if value is True else f"{flag} {shlex.quote(str(value))}"
    return f"{name}={_py(value)}"


def name_of(name) -> str:
    """An option's name as the user would write it: ``data_dir`` in Python, ``--data-dir`` on the command line."""
    return "--" + name.replace("_", "-") if in_cli() else name


def retry(**changes) -> str | None:
    """The user's command or call again with ``changes`` applied; None when none is known."""
    current = _CURRENT.get()
    if current is None:
        return None
    if current.cli:
        return _retry_cli(list(current.argv), changes)
    kwargs = dict(current.kwargs)
    kwargs.update(changes)
    words = [_py(a) for a in current.args] + [f"{k}={_py(v)}" for k, v in kwargs.items()]
    return f"{current.func}({', '.join(words)})"


def _retry_cli(argv, changes) -> str:
    for name, value in changes.items():
        flag = "--" + name.replace("_", "-")
        if flag in argv:
            at = argv.index(flag)
            del argv[at : at + (1 if value is True else 2)]
        argv += [flag] if value is True else [flag, str(value)]
    return shlex.join([PROG, *argv])


def _py(value) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return repr(value)

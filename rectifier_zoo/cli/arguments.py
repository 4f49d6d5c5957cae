"""What every sub-command's parser shares: the one-line-error parser and argument types.

Its own module, so that the sub-command modules never import the package that
imports them (``rectifier_zoo.cli``).
"""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def whole_number(text, least):
    """argparse type helper: ``text`` as an integer >= ``least``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be >= {least}, got {value}")
    return value


def non_negative_int(text):
    """argparse type: an integer >= 0 (a seed, a patience where 0 means off)."""
    return whole_number(text, 0)


def positive_int(text):
    """argparse type: an integer >= 1 (a count of trials, seeds or epochs)."""
    return whole_number(text, 1)


def number(text, ok, must):
    """argparse type helper: ``text`` as a float that passes ``ok``, else an error saying it ``must`` be."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {must}, got {text}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    return number(text, lambda v: 0 < v < float("inf"), "a finite number > 0")


def non_negative_float(text):
    """argparse type: a finite number >= 0 (an L1 value)."""
    return number(text, lambda v: 0 <= v < float("inf"), "a finite number >= 0")

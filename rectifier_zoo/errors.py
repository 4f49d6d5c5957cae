"""The zoo's own exception types.

Every error a user can cause is one of these, raised with a message that names the
problem and the fix.  The command line prints ``str(error)`` on one line and exits
non-zero; Python callers can catch ``ZooError`` for all of them.
"""


class ZooError(Exception):
    """Base class of every error rectifier_zoo raises on purpose."""


class ConfigError(ZooError, ValueError):
    """An argument has a value that is not allowed (the message lists what is)."""


class UnknownModelError(ZooError, LookupError):
    """A zoo name that is not registered (the message suggests the closest names)."""


class DataError(ZooError):
    """A dataset is missing, truncated or malformed (the message says how to get it)."""


class ArtifactError(ZooError):
    """A model artifact is missing, truncated, tampered with or unsafe."""


class TuningError(ZooError):
    """A hyper-parameter search was asked for something it cannot do."""


class TrainingError(ZooError, ArithmeticError):
    """Training diverged (its loss or reconstruction became NaN or infinite); the message names the rate
    to lower. ``epoch`` is the fine-tuning epoch it diverged in (None: in pre-training)."""

    def __init__(self, message, epoch=None):
        super().__init__(message)
        self.epoch = epoch

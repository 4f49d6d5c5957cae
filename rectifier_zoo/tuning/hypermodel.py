"""The search space of a zoo entry as a KerasTuner ``HyperModel``.

Hyper-parameters (the paper picks them on validation error):

- ``learning_rate``: SGD rate, log-uniform in ``[1e-4, 0.1]``; with ``grid`` an exact
  ``hp.Choice`` over the paper's grid {0.1, 0.01, 0.001, 0.0001}.
- ``_l1`` entries: ``use_l1`` (Boolean) and ``l1`` (log-uniform in ``[1e-5, 1e-2]``);
  the penalty is ``l1`` when ``use_l1`` else exactly 0, so the whole range of the
  paper's Figure 3 (0 to 0.01) is reachable although a log scale cannot hold 0.
  ``l1`` is declared unconditionally (not in a conditional scope) so every oracle,
  grid and Bayesian included, handles it; it is ignored when ``use_l1`` is False.
  With ``grid``: one ``hp.Choice("l1", [0, 1e-5, 1e-4, 1e-3, 1e-2])`` instead.
- ``_dae`` entries: ``pretrain_learning_rate`` (same scale and grid as ``learning_rate``).

Only ``learning_rate``, ``l1`` and ``pretrain_learning_rate`` reach the results file:
see ``effective_values``.
"""

from __future__ import annotations

import dataclasses
import math

import keras_tuner as kt

from rectifier_zoo import paper, zoo
from rectifier_zoo._internal import validation
from rectifier_zoo.errors import ConfigError

PAPER_LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)
GRID_L1 = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
LEARNING_RATE_RANGE = (1e-4, 0.1)
L1_RANGE = (1e-5, 1e-2)


def check_range(name, bounds):
    """``bounds`` as a ``(low, high)`` float pair with ``0 < low < high``, else ConfigError."""
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} range must be a pair (low, high), e.g. (1e-4, 0.1); got {bounds!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ConfigError(
            f"{name} range ({low:g}, {high:g}) is empty or inverted: a log-scale range needs "
            f"0 < low < high, e.g. (1e-4, 0.1)"
        )
    return low, high


def check_grid(name, values):
    """A non-empty tuple of distinct finite numbers >= 0, else ConfigError."""
    try:
        values = tuple(values)
    except TypeError:
        raise ConfigError(f"{name} grid must be a sequence of numbers, e.g. {PAPER_LEARNING_RATES}; got {values!r}") from None
    if not values:
        raise ConfigError(f"{name} grid is empty; give at least one value, e.g. {PAPER_LEARNING_RATES}")
    for v in values:
        validation.number(f"{name} grid value", v, low=0.0)
    if len(set(values)) != len(values):
        raise ConfigError(f"{name} grid {values} repeats a value; list each value once")
    return tuple(float(v) for v in values)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """What a search varies, and the hidden sizes the models it tries share.

    Checked and normalised where it is made: a bad range or grid fails before any
    search starts. ``search`` and ``ZooHyperModel`` take this one object.

    Attributes:
        grid: False: log-scale ranges; True: the paper's grid as exact choices; or a
            sequence of learning rates to choose from exactly. Normalised to None or a tuple.
        learning_rate: ``(low, high)`` of the log-scale learning-rate range.
        l1: ``(low, high)`` of the log-scale L1 range (``_l1`` entries).
        pretrain_learning_rate: ``(low, high)`` for ``_dae`` entries (with ``grid``: its values).
        l1_grid: exact L1 values to choose from (``_l1`` entries; 0 allowed), in place
            of ``use_l1`` + the log-scale range; with ``grid`` and no ``l1_grid``, ``GRID_L1``.
        hidden: hidden sizes replacing the entry's (e.g. ``(16, 16)`` for tests).

    Example:

    >>> SearchSpace(grid=(0.1, 0.03), l1_grid=(0, 3e-4)).l1_grid
    (0.0, 0.0003)
    >>> SearchSpace(grid=True).l1_grid  # the paper's grid, with its L1 values
    (0.0, 1e-05, 0.0001, 0.001, 0.01)
    """

    grid: bool | tuple | None = False
    learning_rate: tuple = LEARNING_RATE_RANGE
    l1: tuple = L1_RANGE
    pretrain_learning_rate: tuple = LEARNING_RATE_RANGE
    l1_grid: tuple | None = None
    hidden: tuple | None = None

    def __post_init__(self):
        grid = self.grid
        grid = PAPER_LEARNING_RATES if grid is True else None if grid is False or grid is None else check_grid("learning_rate", grid)
        l1_grid = None if self.l1_grid is None else check_grid("l1", self.l1_grid)
        fields = {
            "grid": grid,
            "learning_rate": check_range("learning_rate", self.learning_rate),
            "l1": check_range("l1", self.l1),
            "pretrain_learning_rate": check_range("pretrain_learning_rate", self.pretrain_learning_rate),
            "l1_grid": GRID_L1 if l1_grid is None and grid is not None else l1_grid,
            "hidden": None if self.hidden is None else _check_hidden(self.hidden),
        }
        for name, value in fields.items():  # frozen: set once, here
            object.__setattr__(self, name, value)


def as_space(space) -> SearchSpace:
    """``space`` itself, or the default ``SearchSpace()`` for None; ConfigError for anything else."""
    if space is None:
        return SearchSpace()
    if not isinstance(space, SearchSpace):
        raise ConfigError(f"space must be a tuning.SearchSpace, e.g. SearchSpace(grid=True), got {type(space).__name__}")
    return space


def _check_hidden(hidden):
    hidden = tuple(validation.number("hidden size", h, low=1, integer=True) for h in hidden)
    if not hidden:
        raise ConfigError("hidden must list at least one layer size, e.g. (16, 16)")
    return hidden


class ZooHyperModel(kt.HyperModel):
    """The search space and model of one zoo entry.

    Args:
        name: a zoo entry, e.g. ``"mnist_rect_l1"``.
        space: a ``SearchSpace`` (default: the log-scale ranges, the entry's sizes).
        input_dim, num_classes: the data's width and classes (default: the entry's).
        seed: seed of the weight initialisation.
        recipe: the ``Recipe`` trials start from (default: the entry's, untuned).

    Example:

    >>> hm = ZooHyperModel("mnist_rect_l1", SearchSpace(grid=True))
    >>> hp = kt.HyperParameters(); model = hm.build(hp); sorted(hp.values)
    ['l1', 'learning_rate']
    """

    def __init__(self, name, space=None, *, input_dim=None, num_classes=None, seed=0, recipe=None):
        super().__init__(name=name)
        self.space = as_space(space)
        self.spec = zoo.get_spec(name, tuned=False)  # the search must not start from its own result
        self.base_recipe = recipe or self.spec.recipe
        self.hidden = self.space.hidden or self.spec.hidden
        self.input_dim = input_dim or self.spec.input_dim
        self.num_classes = num_classes or self.spec.num_classes
        self.seed = seed

    @property
    def tunes_l1(self):
        return self.spec.l1 > 0

    def grid_size(self):
        """How many distinct trials the search space holds (None: a range, never exhausted).

        Example: ``ZooHyperModel("mnist_rect_l1", SearchSpace(grid=(0.1, 0.01), l1_grid=(0, 1e-3))).grid_size()`` is 4.
        """
        grid = self.space.grid
        if grid is None:
            return None
        size = len(grid) * (len(self.space.l1_grid) if self.tunes_l1 else 1)
        return size * (len(grid) if self.spec.pretrained else 1)

    def declare(self, hp):
        """Declare this entry's hyper-parameters in ``hp``; returns the effective values."""
        space = self.space
        values = {"learning_rate": _rate(hp, "learning_rate", space.grid, space.learning_rate)}
        if self.tunes_l1:
            if space.l1_grid is not None:
                values["l1"] = float(hp.Choice("l1", list(space.l1_grid)))
            else:
                use = hp.Boolean("use_l1", default=True)
                l1 = hp.Float("l1", *space.l1, sampling="log", default=paper.PAPER_L1)
                values["l1"] = float(l1) if use else 0.0
        if self.spec.pretrained:
            values["pretrain_learning_rate"] = _rate(hp, "pretrain_learning_rate", space.grid, space.pretrain_learning_rate)
        return values

    def build(self, hp):
        values = self.declare(hp)
        return zoo.build_model(
            self.spec.name,
            l1=values.get("l1", 0.0),
            hidden=self.hidden,
            input_dim=self.input_dim,
            num_classes=self.num_classes,
            seed=self.seed,
        )

    def recipe(self, hp, epochs=None, **overrides):
        """The entry's training recipe with the trial's rates (and ``epochs``, overrides)."""
        values = effective_values(self, hp)
        # the same step as an adopted search's values in the zoo's declaration
        recipe = zoo.apply_tuned(dataclasses.replace(self.spec, recipe=self.base_recipe), values).recipe
        recipe = dataclasses.replace(recipe, **overrides)
        if epochs is not None:
            recipe = dataclasses.replace(recipe, epochs=epochs)
        return recipe


def _rate(hp, name, grid, bounds) -> float:
    """A rate: an exact choice over ``grid``, else log-uniform in ``bounds``."""
    if grid is not None:
        return float(hp.Choice(name, list(grid)))
    return float(hp.Float(name, *bounds, sampling="log"))


def effective_values(hypermodel, hp) -> dict:
    """The trial's ``learning_rate`` / ``l1`` / ``pretrain_learning_rate`` as used in training.

    ``hp`` is a ``HyperParameters`` (or a plain dict of values) of a trial of ``hypermodel``.
    """
    values = hp if isinstance(hp, dict) else hp.values
    found = {"learning_rate": float(values["learning_rate"])}
    if hypermodel.tunes_l1:
        found["l1"] = float(values["l1"]) if values.get("use_l1", True) else 0.0
    if hypermodel.spec.pretrained:
        found["pretrain_learning_rate"] = float(values["pretrain_learning_rate"])
    return found

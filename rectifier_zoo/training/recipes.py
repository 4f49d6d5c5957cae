"""Training recipes: how an entry is pre-trained and trained (plain data, no Keras).

Kept light so the registry and the command line's ``list`` do not import Keras.
"""

from __future__ import annotations

import dataclasses

from rectifier_zoo._internal import validation
from rectifier_zoo.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """How to pre-train (the AISTATS protocol by default).

    Args:
        epochs: epochs per layer.
        learning_rate: SGD learning rate (the paper picks it on reconstruction error).
        batch_size: mini-batch size (the paper: 10).
        corruption: ``"masking"`` (AISTATS) or ``"gaussian"`` (workshop).
        corruption_level: masking probability or noise std, in [0, 1).
        reconstruction: None for the paper's choice for the neuron.
        l1: L1 penalty on the codes during pre-training (None: the classifier's).
    """

    epochs: int = 5
    learning_rate: float = 0.01
    batch_size: int = 10
    corruption: str = "masking"
    corruption_level: float = 0.25
    reconstruction: str | None = None
    l1: float | None = None

    def __post_init__(self):
        validation.number("pretrain epochs", self.epochs, low=0, integer=True)
        validation.number("pretrain learning_rate", self.learning_rate, low=0.0, low_open=True)
        validation.number("pretrain batch_size", self.batch_size, low=1, integer=True)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How an entry is trained.

    Args:
        learning_rate: constant SGD learning rate (paper grid 0.1, 0.01, 0.001, 0.0001).
        batch_size: mini-batch size (the paper: 10).
        epochs: maximum number of epochs.
        patience: early stopping: epochs without a better validation error.
        momentum: SGD momentum (the paper: plain SGD, 0).
        pretrain: a ``PretrainConfig`` for greedy DAE pre-training, or None.
        lr_decay_patience: divide the learning rate by ``1 / lr_decay_factor`` after
            this many epochs without a better validation error (0: the paper's
            constant rate).
        lr_decay_factor: the factor, in (0, 1), the rate is multiplied by.
    """

    learning_rate: float = 0.01
    batch_size: int = 10
    epochs: int = 50
    patience: int = 5
    momentum: float = 0.0
    pretrain: PretrainConfig | None = None
    lr_decay_patience: int = 0
    lr_decay_factor: float = 0.1

    def __post_init__(self):
        validation.number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        validation.number("batch_size", self.batch_size, low=1, integer=True)
        validation.number("epochs", self.epochs, low=0, integer=True)
        validation.number("patience", self.patience, low=0, integer=True)
        validation.number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        validation.number("lr_decay_patience", self.lr_decay_patience, low=0, integer=True)
        validation.number("lr_decay_factor", self.lr_decay_factor, low=0.0, high=1.0, low_open=True, high_open=True)

    def to_dict(self):
        return dataclasses.asdict(self)


# --quick: a smoke run of an entry's recipe, not a reproduction (train and tune share it).
QUICK_EPOCHS = 8
QUICK_PATIENCE = 3
QUICK_PRETRAIN_EPOCHS = 1


def quick(recipe: Recipe) -> Recipe:
    """``recipe`` cut down to a smoke run: few epochs, short patience, one pre-training epoch per layer."""
    recipe = dataclasses.replace(recipe, epochs=QUICK_EPOCHS, patience=QUICK_PATIENCE)
    if recipe.pretrain is not None:
        recipe = dataclasses.replace(recipe, pretrain=dataclasses.replace(recipe.pretrain, epochs=QUICK_PRETRAIN_EPOCHS))
    return recipe


# train()'s names for the pre-training fields it can override, e.g. ``pretrain_l1`` for ``PretrainConfig.l1``.
PRETRAIN_OVERRIDES = {"pretrain_l1": "l1", "pretrain_learning_rate": "learning_rate", "pretrain_epochs": "epochs"}


def with_pretraining(recipe: Recipe, overrides: dict, name: str = "this entry") -> Recipe:
    """``recipe`` with the pre-training fields ``overrides`` names (``PRETRAIN_OVERRIDES``; None values
    are left alone) replaced.

    The paper pre-trains and fine-tunes with one L1 coefficient; once the fine-tuning
    L1 is tuned, the two part, and ``pretrain_l1`` is how a run brings them together.
    """
    fields = {PRETRAIN_OVERRIDES[k]: v for k, v in overrides.items() if v is not None}
    if not fields:
        return recipe
    if recipe.pretrain is None:
        given = ", ".join(sorted(k for k, v in overrides.items() if v is not None))
        raise ConfigError(f"{name} is not pre-trained, so {given} cannot apply; use its _dae entry")
    if "l1" in fields:
        fields["l1"] = validation.number("pretrain_l1", fields["l1"], low=0.0)
    return dataclasses.replace(recipe, pretrain=dataclasses.replace(recipe.pretrain, **fields))

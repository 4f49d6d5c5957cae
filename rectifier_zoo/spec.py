"""What a zoo entry is: its frozen spec, the tuned values it adopts, and its name's grammar.

Plain data and pure functions (no registry, no file, no Keras): ``rectifier_zoo.entries``
declares the entries with these types, ``rectifier_zoo.zoo`` registers and looks them up.
"""

from __future__ import annotations

import dataclasses
import math

from rectifier_zoo.training.recipes import PRETRAIN_OVERRIDES, Recipe, with_pretraining


@dataclasses.dataclass(frozen=True)
class Tuned:
    """Values chosen on the validation split, adopted into an entry's declaration.

    Args:
        learning_rate, l1, pretrain_learning_rate, pretrain_epochs: the chosen
            values (None: the recipe's stays).
        record: the search's record this comes from, relative to the repository
            (``tuning/results/<name>.json``).
        note: how the values were chosen, beyond the record's own search.
        inherited_from: the entry whose search chose them, when not this one's
            (a ``_dae`` entry takes its fine-tuning values from the entry without
            pre-training).
    """

    learning_rate: float | None = None
    l1: float | None = None
    pretrain_learning_rate: float | None = None
    pretrain_epochs: int | None = None
    record: str = ""
    note: str = ""
    inherited_from: str = ""

    def values(self) -> dict:
        """The chosen values that are set, by hyper-parameter name."""
        names = ("learning_rate", "l1", "pretrain_learning_rate", "pretrain_epochs")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@dataclasses.dataclass(frozen=True)
class ZooSpec:
    """Everything that defines a zoo entry.

    Attributes:
        name: ``<dataset>_<neuron>[_l1][_dae]``.
        dataset: the ``rz.datasets.load`` name.
        input_shape: one example's shape before flattening.
        num_classes: classes of the softmax output.
        neuron: ``rect``, ``softplus`` or ``tanh``.
        hidden: hidden layer sizes.
        l1: L1 activity penalty on each hidden layer (0: none).
        flip_half: negate half the units of each layer (AISTATS option).
        recipe: the training ``Recipe`` (with its ``pretrain`` config for ``_dae``).
        paper: the published figures for this cell.
        tuned: the ``Tuned`` values applied to ``recipe`` and ``l1``, or None.
    """

    name: str
    dataset: str
    input_shape: tuple
    num_classes: int
    neuron: str
    hidden: tuple
    l1: float
    recipe: Recipe
    flip_half: bool = False
    paper: tuple = ()
    tuned: Tuned | None = None

    @property
    def input_dim(self) -> int:
        return math.prod(self.input_shape)

    @property
    def pretrained(self) -> bool:
        return self.recipe.pretrain is not None

    @property
    def parameters(self) -> int:
        sizes = (self.input_dim, *self.hidden, self.num_classes)
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def to_dict(self):
        return dataclasses.asdict(self)


def entry_name(dataset, neuron, l1=False, dae=False) -> str:
    return f"{dataset}_{neuron}{'_l1' if l1 else ''}{'_dae' if dae else ''}"


def parse_name(name: str) -> dict:
    """Split a zoo name into ``dataset``, ``neuron``, ``l1`` (bool) and ``dae`` (bool)."""
    parts = name.split("_")
    dae = parts[-1] == "dae"
    if dae:
        parts = parts[:-1]
    l1 = parts[-1] == "l1"
    if l1:
        parts = parts[:-1]
    return {"dataset": "_".join(parts[:-1]), "neuron": parts[-1], "l1": l1, "dae": dae}


def apply_tuned(spec: ZooSpec, hp) -> ZooSpec:
    """``spec`` with learning rate, L1, pre-training rate and epochs from ``hp`` (a dict of chosen values)."""
    if not hp:
        return spec
    recipe = spec.recipe
    if recipe.pretrain is not None:  # a search of an entry without pre-training never chooses these
        recipe = with_pretraining(recipe, {k: hp.get(k) for k in PRETRAIN_OVERRIDES}, spec.name)
    if "learning_rate" in hp:
        recipe = dataclasses.replace(recipe, learning_rate=hp["learning_rate"])
    l1 = hp.get("l1", spec.l1) if spec.l1 else spec.l1
    return dataclasses.replace(spec, recipe=recipe, l1=l1)

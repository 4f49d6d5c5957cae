"""The zoo at a glance: per entry, what it trains with, where that comes from, and what is at hand.

``rz.catalog(pattern)`` is what ``rectifier-zoo list`` prints: for each entry the
L1 penalty and learning rate ``rz.train`` will really use and their source (a
search adopted into ``zoo.TUNED``, the paper, or the zoo's recipe), and
whether trained weights are at hand without training or downloading (the local
cache first, then the repository's ``exports/``, as ``rz.load`` looks), with their
test error from the model card. Light: it reads JSON files, never Keras.

    >>> [e.name for e in rz.catalog("fashion_mnist_rect*")][:2]
    ['fashion_mnist_rect', 'fashion_mnist_rect_dae']
    >>> rz.catalog("fashion_mnist_rect_l1")[0].l1, rz.catalog("fashion_mnist_rect_l1")[0].l1_source
    (0.0003, 'tuned')
"""

from __future__ import annotations

import dataclasses

from rectifier_zoo import paper, zoo
from rectifier_zoo._internal import advice

# What each source label in the table means.
SOURCES = {
    "tuned": "a search's best on the validation split, adopted in zoo.TUNED (its record: tuning/results/<name>.json)",
    "inherited": "the search of the entry without pre-training (zoo.TUNED): a _dae entry's fine-tuning values",
    "paper": "the paper's value (L1: AISTATS' 0.001 on rectifier nets)",
    "recipe": "the zoo's recipe for the dataset (the paper's protocol; Fashion-MNIST: zoo.FASHION_RECIPE)",
    "none": "the entry has no L1 penalty",
}


@dataclasses.dataclass(frozen=True)
class Trained:
    """Trained weights at hand for an entry: the version ``rz.load(name)`` would load."""

    where: str  # "cached" (the zoo home) or "shipped" (the repository's exports/)
    version: int
    path: str
    test_error: float | None


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of the catalog.

    Attributes:
        name, dataset, neuron, pretrained, parameters: the entry (see ``ZooSpec``).
        l1, l1_source: the L1 penalty ``rz.train`` uses, and where it comes from.
        learning_rate, learning_rate_source: likewise for the SGD learning rate.
        trained: the weights ``rz.load(name)`` finds locally, or None.
        paper: the paper's figure (workshop first), or None.
    """

    name: str
    dataset: str
    neuron: str
    pretrained: bool
    parameters: int
    l1: float
    l1_source: str
    learning_rate: float
    learning_rate_source: str
    trained: Trained | None
    paper: object | None


def catalog(pattern="*") -> list[Entry]:
    """The entries matching an fnmatch ``pattern``, sorted, with their real settings and weights.

    Args:
        pattern: e.g. ``"mnist_*"`` (see ``rz.list_models``).

    Returns:
        One ``Entry`` per matching entry.

    Example:

    >>> entry = rz.catalog("fashion_mnist_rect_l1")[0]
    >>> entry.l1, entry.l1_source, entry.trained.where, entry.trained.test_error
    (0.0003, 'tuned', 'shipped', 0.1042)
    """
    return [_entry(name) for name in zoo.list_models(pattern)]


def _entry(name) -> Entry:
    spec = zoo.get_spec(name)
    values = spec.tuned.values() if spec.tuned else {}
    adopted = "inherited" if spec.tuned and spec.tuned.inherited_from else "tuned"
    if not spec.l1:
        l1_source = "none"
    else:
        l1_source = adopted if "l1" in values else "paper"
    return Entry(
        name=name,
        dataset=spec.dataset,
        neuron=spec.neuron,
        pretrained=spec.pretrained,
        parameters=spec.parameters,
        l1=spec.l1,
        l1_source=l1_source,
        learning_rate=spec.recipe.learning_rate,
        learning_rate_source=adopted if "learning_rate" in values else "recipe",
        trained=trained(name),
        paper=paper.figure(name),
    )


def trained(name) -> Trained | None:
    """The newest whole version ``rz.load(name)`` would find locally (cache, then exports/)."""
    from rectifier_zoo.hub import locate as hub, model_card, store

    for root, where in zip(hub.local_roots(), ("cached", "shipped")):
        found = store.versions(root / name)
        if not found:
            continue
        folder = root / name / str(max(found))
        card = model_card.read(folder)
        error = (card.get("metrics") or {}).get("test_error")
        number = isinstance(error, (int, float)) and not isinstance(error, bool)
        return Trained(where, max(found), str(folder), float(error) if number else None)
    return None


def table(entries) -> str:
    """The catalog as the fixed-width table ``rectifier-zoo list`` prints, with a legend."""
    header = (
        f"{'name':<26} {'L1':>6} {'from':<9} {'rate':>7} {'from':<9} {'pre-train':<9} {'parameters':>11} "
        f"{'trained weights':<24} paper test error"
    )
    lines = [header, "-" * len(header)]
    for e in entries:
        paper = f"{e.paper.test_error:.2f}% ({e.paper.source})" if e.paper else "—"
        lines.append(
            f"{e.name:<26} {e.l1:>6g} {e.l1_source:<9} {e.learning_rate:>7g} {e.learning_rate_source:<9} "
            f"{'DAE' if e.pretrained else 'no':<9} {e.parameters:>11,} {_trained_text(e.trained):<24} {paper}"
        )
    used = sorted({e.l1_source for e in entries} | {e.learning_rate_source for e in entries})
    lines.append("")
    lines += [f"{label}: {SOURCES[label]}" for label in used]
    train = "`rectifier-zoo train NAME`" if advice.in_cli() else "rz.load(name, train_if_missing=True)"
    lines.append(
        "trained weights: what rz.load(name) finds without training or downloading (cached: "
        f"the zoo home; shipped: the repository's exports/), with its test error; '—': {train} trains it"
    )
    return "\n".join(lines)


def _trained_text(found: Trained | None) -> str:
    if found is None:
        return "—"
    error = f"{found.test_error:.2%}" if found.test_error is not None else "error not recorded"
    return f"{found.where} v{found.version}, {error}"

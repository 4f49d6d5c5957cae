"""The paper's published numbers, in one place: every figure the zoo is measured against.

Glorot, Bordes & Bengio (2011), in its two versions: the workshop paper ("Deep
Sparse Rectifier Networks", Tables 1 and 2) and AISTATS ("Deep Sparse Rectifier
Neural Networks", Table 1 and the NORB softplus sweep). The facts come from
``../shared/paper/PROTOCOL.md``. Plain data: nothing here imports Keras or reads
a file, so the registry, the report and the targets can all use it.
"""

from __future__ import annotations

import dataclasses
import math

# AISTATS: the activation L1 coefficient of its rectifier nets.
PAPER_L1 = 0.001


@dataclasses.dataclass(frozen=True)
class PaperFigure:
    """One published figure for an entry's cell.

    Args:
        source: paper and table, e.g. ``"workshop Table 1"``.
        test_error: test error in percent.
        sparsity: fraction of zeros per hidden layer in percent, or the average
            (a 1-tuple), when the paper gives it.
        spread: the ± of the test error, when given.
        note: what differs from the zoo's setting, if anything.
    """

    source: str
    test_error: float
    sparsity: tuple = ()
    spread: float | None = None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class TableDef:
    """One of the paper's tables, as the report lays it out.

    Args:
        title: the report's heading for it.
        source: ``PaperFigure.source`` of the paper's cells.
        rows: entry suffixes (``rect_l1``, ``tanh_dae``, ...), in the paper's order.
        datasets: the zoo datasets shown in it.
        note: what a reader must know to compare.
    """

    title: str
    source: str
    rows: tuple
    datasets: tuple
    note: str = ""


W1, W2, A1 = "workshop Table 1", "workshop Table 2", "AISTATS Table 1"

# Workshop Table 1 (no pre-training): its rows, in the paper's order.
TABLE1_ROWS = ("rect_l1", "rect", "softplus", "tanh")

TABLES = (
    TableDef("Workshop Table 1 (no pre-training)", W1, TABLE1_ROWS, ("shapeset", "mnist", "fashion_mnist")),
    TableDef("Workshop Table 2 (DAE pre-training; paper: mean ± std of its 5 best models)", W2,
             ("rect_l1_dae", "tanh_dae"), ("mnist", "fashion_mnist")),
    TableDef("AISTATS Table 1 (depth 3)", A1,
             ("rect_l1_dae", "tanh_dae", "softplus_dae", "rect_l1", "tanh", "softplus"),
             ("mnist", "fashion_mnist", "cifar10", "norb"),
             note="The AISTATS rectifier nets carry the 0.001 L1 penalty, so its 'rectifier' rows are the zoo's "
             "`_rect_l1` entries. NISTP is not public and is left out."),
)

_AISTATS_NOTE = "AISTATS rectifier nets carry the 0.001 L1 penalty"
_NORB_NOTE = "paper: jittered-cluttered NORB, 6 classes; the zoo trains on smallNORB"


def _fig(source, error, sparsity=(), spread=None, note=""):
    return PaperFigure(source, error, tuple(sparsity), spread, note)


# zoo entry -> its published figures (the workshop's first, where there is one)
FIGURES = {
    "shapeset_rect_l1": (_fig(W1, 28.62),),
    "shapeset_rect": (_fig(W1, 29.86),),
    "shapeset_softplus": (_fig(W1, 36.58),),
    "shapeset_tanh": (_fig(W1, 36.64),),
    "mnist_rect_l1": (
        _fig(W1, 1.56, (93.94, 80.92, 76.66)),
        _fig(A1, 1.43, (83.4,), note=_AISTATS_NOTE + "; sparsity is the average over layers"),
    ),
    "mnist_rect": (_fig(W1, 1.70, (52.23, 43.86, 37.18)),),
    "mnist_softplus": (_fig(W1, 1.55), _fig(A1, 1.77)),
    "mnist_tanh": (_fig(W1, 1.66), _fig(A1, 1.57)),
    "mnist_rect_l1_dae": (
        _fig(W2, 1.16, spread=0.07, note="mean of the 5 best models"),
        _fig(A1, 1.20, note=_AISTATS_NOTE),
    ),
    "mnist_tanh_dae": (_fig(W2, 1.30, spread=0.12, note="mean of the 5 best models"), _fig(A1, 1.16)),
    "mnist_softplus_dae": (_fig(A1, 1.17),),
    "cifar10_rect_l1_dae": (_fig(A1, 49.96, note=_AISTATS_NOTE),),
    "cifar10_tanh_dae": (_fig(A1, 50.79),),
    "cifar10_softplus_dae": (_fig(A1, 49.52),),
    "cifar10_rect_l1": (_fig(A1, 50.86, (72.0,), note=_AISTATS_NOTE + "; sparsity is the average"),),
    "cifar10_tanh": (_fig(A1, 52.62),),
    "cifar10_softplus": (_fig(A1, 53.20),),
    "norb_rect_l1_dae": (_fig(A1, 16.46, note=_NORB_NOTE),),
    "norb_tanh_dae": (_fig(A1, 17.66, note=_NORB_NOTE),),
    "norb_softplus_dae": (_fig(A1, 19.19, note=_NORB_NOTE),),
    "norb_rect_l1": (_fig(A1, 16.40, (73.8,), note=_NORB_NOTE + "; sparsity is the average"),),
    "norb_tanh": (_fig(A1, 19.29, note=_NORB_NOTE),),
    "norb_softplus": (_fig(A1, 17.68, note=_NORB_NOTE),),
}

# AISTATS, NORB: test error (%) of (1/α)·softplus(αx) nets; α = ∞ is the rectifier.
ALPHA_NORB = {1.0: 17.68, 1.3: 17.53, 2.0: 16.9, 3.0: 16.66, 6.0: 16.54, math.inf: 16.40}
# The zoo dataset that stands where the paper ran its α sweep (smallNORB for its NORB).
ALPHA_DATASET = "norb"

# AISTATS Figure 3 (an L1 sweep on MNIST): test error flat up to about this fraction of zeros, rising after.
FIGURE3_KNEE = 0.85


def figures(name) -> tuple:
    """The published figures of zoo entry ``name`` (empty where the paper has none)."""
    return FIGURES.get(name, ())


def figure(name, source_prefix="workshop"):
    """The entry's figure from the source starting with ``source_prefix`` (else its first; None if none)."""
    found = figures(name)
    for fig in found:
        if fig.source.startswith(source_prefix):
            return fig
    return found[0] if found else None


def table_figure(name, source):
    """The entry's figure in the table ``source`` (a ``PaperFigure.source``), or None: the paper has no such cell."""
    return next((fig for fig in figures(name) if fig.source == source), None)


def table_datasets() -> tuple:
    """The zoo datasets of the paper's tables, in the order they first appear."""
    return tuple(dict.fromkeys(d for table in TABLES for d in table.datasets))

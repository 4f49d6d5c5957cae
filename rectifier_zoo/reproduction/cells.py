"""A report's cells in words: runs over seeds as mean ± SD, the paper's figures, row and data labels.

``Cell`` holds the runs of one table cell (one entry, its best mode) and writes
their test error and zeros per layer; ``paper_error`` and ``paper_zeros`` write a
published figure the same way. The labels name a row by its neuron
(``rz.neurons``' descriptors) and a dataset by whose data it is (``rz.datasets``'
descriptors), never by matching names.  Keras is not imported.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

from rectifier_zoo import zoo
from rectifier_zoo.nn import neurons
from rectifier_zoo.reproduction.results import MODES, data_version, dataset_options, descriptor, mode


def mean_std(values):
    """Mean and sample standard deviation (n - 1; None for a single value)."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def pm(values, digits, scale=100.0) -> str:
    """``"32.33 ± 2.52"``: the mean ± sample SD of fractions, in percent (no ± for one value)."""
    mean, std = mean_std(values)
    text = f"{mean * scale:.{digits}f}"
    return text if std is None else f"{text} ± {std * scale:.{digits}f}"


def final_sparsity(result) -> float:
    """Fraction of zeros averaged over the hidden layers (Figure 3's x axis)."""
    return statistics.fmean(v["zeros"] for v in result["sparsity"].values()) if result["sparsity"] else 0.0


@dataclasses.dataclass
class Cell:
    """The runs of one table cell: one entry, the best mode present (full > quick > tiny)."""

    results: list
    mode: str = "full"

    @classmethod
    def of(cls, results):
        results = list(results)
        for m in MODES:
            chosen = [r for r in results if mode(r) == m]
            if chosen:
                return cls(chosen, m)
        return cls([], "full")

    @property
    def n(self) -> int:
        return len(self.results)

    def layers(self) -> list:
        return list(self.results[0]["sparsity"]) if self.results else []

    def runs_label(self) -> str:
        return f"{self.n}" + ("" if self.mode == "full" or not self.n else f" ({self.mode})")

    def error_text(self) -> str:
        if not self.n:
            return "not yet run here"
        return pm([r["test_error"] for r in self.results], 2) + "%"

    def zeros_text(self) -> str:
        if not self.n:
            return "not yet run here"
        per_layer = [pm([r["sparsity"][layer]["zeros"] for r in self.results if layer in r["sparsity"]], 1) for layer in self.layers()]
        return " / ".join(per_layer) + "%" if per_layer else "—"


# ---------------------------------------------------------------- the paper's figures


def paper_error(fig) -> str:
    """A published test error, with its ± where the paper gives one (``—``: no figure)."""
    if fig is None:
        return "—"
    spread = f" ± {fig.spread:.2f}" if fig.spread is not None else ""
    return f"{fig.test_error:.2f}{spread}%"


def paper_zeros(fig) -> str:
    """A published sparsity: per layer, or the paper's average over layers (``—``: none given)."""
    if fig is None or not fig.sparsity:
        return "—"
    if len(fig.sparsity) == 1:
        return f"{fig.sparsity[0]:.1f}% (average)"
    return " / ".join(f"{z:.2f}" for z in fig.sparsity) + "%"


def alpha_text(alpha) -> str:
    """An α of (1/α)·softplus(αx) as a table shows it (``∞``: the rectifier)."""
    return "∞" if math.isinf(alpha) else f"{alpha:g}"


def rate_text(rate, decay, factor) -> str:
    """An SGD rate and its schedule in words: ``"rate 0.03, ×0.1 after 3 epochs without a validation gain"``."""
    schedule = f", ×{factor:g} after {decay} epochs without a validation gain" if decay else " (constant)"
    return f"rate {rate:g}{schedule}"


# ---------------------------------------------------------------- labels


def label(dataset, runs=()) -> str:
    """A dataset's name in the report, e.g. ``"smallNORB"`` (its zoo name if the zoo does not know it); the
    copy's label (``"CIFAR-10 (JPEG q75 copy)"``) when ``runs`` were trained on a copy that must say so."""
    if copies(runs):
        return " + ".join(copies(runs))
    info = descriptor(dataset)
    return dataset if info is None else info.label


def runs_of(cells) -> list:
    """Every run of ``{name: Cell}``: what a section or figure names its data by."""
    return [r for cell in cells.values() for r in cell.results]


def copies(runs) -> list:
    """The labels of the copies ``runs`` were trained on (e.g. ``"CIFAR-10 (JPEG q75 copy)"``), sorted."""
    return sorted({(r.get("data") or {}).get("source") for r in runs} - {None, ""})


def data_label(dataset, runs=()) -> str:
    """Short label naming whose data a row is on, e.g. ``"Shapeset (substitute: generated here)"``.

    Runs made from a copy that must say so (their result's ``data.source``, e.g. the
    CIFAR-10 JPEG copy) are labelled with it, never as the paper's data.
    """
    if copies(runs):
        return " + ".join(copies(runs))
    info = descriptor(dataset)
    if info is None:
        return f"{dataset} (substitute)"
    if info.stands_in_for:
        return f"{info.label} (substitute for {label(info.stands_in_for)})"
    if info.generated:
        return f"{info.label} (substitute: generated here)"
    return f"{info.label} ({'paper’s data' if info.provenance == 'paper' else 'substitute'})"


def row_label(suffix) -> str:
    """A table row in words, e.g. ``"rectifier + L1, pre-trained"`` for ``rect_l1_dae``."""
    parts = zoo.parse_name(suffix)
    text = neurons.get(parts["neuron"]).label + (" + L1" if parts["l1"] else "")
    return text + (", pre-trained" if parts["dae"] else "")


def earlier_data_text(dataset, version) -> str:
    """How a report names the data of runs on an earlier generator of ``dataset``."""
    return f"{label(dataset)} generator {version}, before the issue-17 audit of the generator"


def data_tag(result) -> str:
    """A run's data in a few words: its generator and any data options (``—``: the dataset as it is)."""
    version = data_version(result)
    parts = [] if version is None else [f"generator {version}"]
    parts += [f"{key}={value}" for key, value in dataset_options(result).items()]
    return ", ".join(parts) or "—"

"""The reproduction's targets, checked on results: error bounds and the paper's ordering of neurons.

A ``Target`` is a bound the team set for one entry (test error at most X with at
least Y zeros in some layers); ``ordering`` checks the paper's main claim on a
dataset: without pre-training, the rectifier is ahead of tanh and softplus.
Both read result dicts (``TrainResult.to_dict()``) and say plainly whether the
claim holds, with the numbers; neither imports Keras.
"""

from __future__ import annotations

import dataclasses
import statistics


@dataclasses.dataclass(frozen=True)
class Target:
    """A bound on one entry's mean test error, and on its mean zeros per layer.

    Args:
        name: the zoo entry.
        max_error: the mean test error must not exceed this (fraction).
        min_zeros: ``{layer: fraction}``: the mean fraction of zeros each layer must reach.
        why: where the target comes from.
    """

    name: str
    max_error: float
    min_zeros: tuple = ()  # ((layer, fraction), ...): frozen, so hashable
    why: str = ""

    def check(self, results) -> tuple[bool | None, str]:
        """``(met, sentence)`` on the entry's runs; ``met`` is None when there are none."""
        if not results:
            return None, f"`{self.name}`: not yet run here."
        errors = [r["test_error"] for r in results]
        error = statistics.fmean(errors)
        # Judged at the precision the report prints (two decimals of a percent).
        ok_error = round(error * 100, 2) <= round(self.max_error * 100, 2)
        parts = [f"test error {error:.2%} over {len(errors)} run(s) ({', '.join(f'{e:.2%}' for e in errors)}), "
                 f"target ≤ {self.max_error:.1%}: {'met' if ok_error else 'not met'}"]
        ok_zeros = True
        for layer, bound in self.min_zeros:
            zeros = statistics.fmean(r["sparsity"][layer]["zeros"] for r in results)
            ok = round(zeros * 100, 1) >= round(bound * 100, 1)
            ok_zeros &= ok
            parts.append(f"{layer} zeros {zeros:.1%}, target ≥ {bound:.0%}: {'met' if ok else 'not met'}")
        met = ok_error and ok_zeros
        return met, f"`{self.name}`: {'**met**' if met else '**not met**'}: " + "; ".join(parts) + "."


TARGETS = (
    Target("fashion_mnist_rect_l1", 0.105, (("hidden_1", 0.80),), why="issue #7: Fashion-MNIST rectifier + L1"),
)

RECTIFIERS = ("rect", "rect_l1")
SATURATING = ("tanh", "softplus")


def ordering(dataset, cells) -> tuple[bool | None, str]:
    """The paper's ordering on ``dataset``: the better rectifier row ahead of tanh and softplus.

    Args:
        dataset: a zoo dataset.
        cells: ``{entry: [result, ...]}`` of the dataset's rows without pre-training.

    Returns:
        ``(holds, sentence)``; ``holds`` is None when a row has no runs.
    """
    means = {}
    for suffix in RECTIFIERS + SATURATING:
        runs = cells.get(f"{dataset}_{suffix}") or []
        if runs:
            errors = [r["test_error"] for r in runs]
            means[suffix] = (statistics.fmean(errors), statistics.stdev(errors) if len(errors) > 1 else 0.0, len(errors))
    missing = [s for s in RECTIFIERS[:1] + SATURATING if s not in means]
    if missing:
        return None, f"not checked: no runs of {', '.join(f'`{dataset}_{s}`' for s in missing)}."
    ranked = " < ".join(f"{s} {m * 100:.2f}" + (f" ± {sd * 100:.2f}" if n > 1 else "") + f" ({n})"
                        for s, (m, sd, n) in sorted(means.items(), key=lambda kv: kv[1][0]))
    best = min((s for s in RECTIFIERS if s in means), key=lambda s: means[s][0])
    beaten = [s for s in SATURATING if means[s][0] <= means[best][0]]
    holds = not beaten
    verdict = "holds" if holds else f"does not hold ({' and '.join(beaten)} at or ahead of {best})"
    close = [s for s in SATURATING if abs(means[s][0] - means[best][0]) <= max(means[s][1], means[best][1])]
    caveat = f"; {' and '.join(close)} within one seed standard deviation of {best}" if close else ""
    return holds, f"test error % (runs): {ranked}: the ordering {verdict}{caveat}."

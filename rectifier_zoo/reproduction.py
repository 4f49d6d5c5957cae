"""Reproduce the paper's tables: train entries, then set our figures beside the paper's."""

from __future__ import annotations

import pathlib

from rectifier_zoo import zoo

# Workshop Table 1 (no pre-training): its rows, in the paper's order.
TABLE1_NEURONS = ("rect_l1", "rect", "softplus", "tanh")


def table1_entries(dataset) -> list[str]:
    return [f"{dataset}_{neuron}" for neuron in TABLE1_NEURONS]


def paper_figure(spec, source_prefix="workshop"):
    """The paper's figure for the entry (the workshop's first, where there is one)."""
    for fig in spec.paper:
        if fig.source.startswith(source_prefix):
            return fig
    return spec.paper[0] if spec.paper else None


def reproduce(names, quick=False, seed=0, data_dir=None, out=None, verbose=2, say=print):
    """Train each entry once and return its ``TrainResult``s in order.

    Args:
        names: zoo entries to train.
        quick: small splits, few epochs (see ``trainer.QUICK_SIZES``).
        seed: the seed of every run.
        data_dir: passed to the dataset loaders.
        out: if set, each run's model and result JSON go there.
        verbose: Keras verbosity of each run.
        say: where progress lines go.
    """
    from rectifier_zoo.trainer import train

    results = []
    for i, name in enumerate(names, start=1):
        say(f"[{i}/{len(names)}] training {name}{' (quick)' if quick else ''}")
        results.append(train(name, quick=quick, seed=seed, data_dir=data_dir, out=out, verbose=verbose))
        say("    " + results[-1].summary())
    return results


def comparison_table(results) -> str:
    """A Markdown table: our test error and per-layer zeros beside the paper's."""
    rows = [
        "| entry | test error (ours) | paper | zeros per layer (ours) | paper zeros | paper source |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        spec = zoo.get_spec(result.name, tuned=False)
        fig = paper_figure(spec)
        ours_zeros = " / ".join(f"{v['zeros']:.1%}" for v in result.sparsity.values())
        paper_err = f"{fig.test_error:.2f}%" if fig else "—"
        paper_zeros = " / ".join(f"{z:.1f}%" for z in fig.sparsity) if fig and fig.sparsity else "—"
        rows.append(
            f"| {result.name} | {result.test_error:.2%} | {paper_err} | {ours_zeros} | "
            f"{paper_zeros} | {fig.source if fig else '—'} |"
        )
    return "\n".join(rows)


def write_results(results, directory):
    """Each result as ``<name>.json`` in ``directory`` (atomic writes)."""
    directory = pathlib.Path(directory)
    for result in results:
        result.save(directory / f"{result.name}.json")

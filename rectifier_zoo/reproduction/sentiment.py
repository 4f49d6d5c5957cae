"""The report's side table: Amazon sentiment runs on the real reviews, labelled as not the paper's protocol.

The runs (``reproduction/experiments/sentiment_runs.py``: one rectifier + L1 and one
tanh net, 3 x 1000, seed 0) are ``TrainResult`` JSONs kept in ``side/sentiment/``
beside each results directory the report reads (``reproduction/side/sentiment/`` for
``--results reproduction/results``), not in it: they are not zoo entries, and every
run under a results directory enters the report's tables, figures and run list as
its entry's. Without such a folder the report has no sentiment section.

Keras is not imported.
"""

from __future__ import annotations

import pathlib

from rectifier_zoo.reproduction.results import hyperparameters, load_results

SIDE = ("side", "sentiment")
NEURON_LABELS = {"rect": "rectifier", "tanh": "tanh", "softplus": "softplus"}
NOTE = (
    "Amazon reviews (processed_acl), binary bag of the 5,000 most frequent training features: **not the "
    "paper's protocol**. The paper pre-trained on the unlabeled reviews and reported a 4-domain accuracy "
    "(78.95% against 73.72% before), and its RMSE results are on OpenTable data, which is not public; neither "
    "is set beside these rows. Here: supervised training on the 8,000 labelled reviews only, split 5,600 / "
    "1,200 / 1,200 (seed 0), three hidden layers of 1,000 units, the paper's plain SGD with batches of 10 at a "
    "constant rate chosen on the validation split from short trials, early stopping on the validation error, "
    "L1 0.001 (the paper's) on the rectifier."
)
N_TEST = 1200  # the test reviews of the four domains (5,600 / 1,200 / 1,200)


def side_dirs(sources) -> list:
    """The ``side/sentiment`` folders beside the results directories ``sources`` that exist."""
    found = []
    for source in sources:
        folder = pathlib.Path(source).parent.joinpath(*SIDE)
        if folder.is_dir() and folder.resolve() not in {f.resolve() for f in found}:
            found.append(folder)
    return found


def side_runs(sources) -> list:
    """The sentiment runs in the side folders (their rate trials' JSONs are not runs), by name."""
    folders = side_dirs(sources)
    runs = load_results(folders)[0] if folders else []
    return sorted((r for r in runs if r.get("dataset") == "sentiment"), key=lambda r: r["name"])


def trials_text(hp) -> str:
    """``"0.1 (2-epoch trials, valid error 0.1: 17.2%, 0.01: 21.6%)"``: the rate and the trials that chose it."""
    rate = f"{hp['learning_rate']:g}"
    tried = hp.get("lr_trials") or {}
    if not tried:
        return rate
    each = ", ".join(f"{float(r):g}: {e:.1%}" for r, e in sorted(tried.items(), key=lambda kv: -float(kv[0])))
    tie = "; a tie goes to the smaller rate" if list(tried.values()).count(min(tried.values())) > 1 else ""
    return f"{rate} ({hp.get('lr_trial_epochs')}-epoch trials, valid error {each}{tie})"


def run_row(run) -> str:
    """One run as a table row: net, L1, rate, epochs, errors, zeros and dead units per layer, time."""
    hp = hyperparameters(run)
    net = NEURON_LABELS.get(hp.get("neuron"), hp.get("neuron", "?"))
    l1 = float(hp.get("l1", 0.0))
    zeros, dead = (" / ".join(f"{layer[k]:.1%}" for layer in run["sparsity"].values()) or "—" for k in ("zeros", "dead"))
    return (f"| {net}{' + L1' if l1 else ''} (`{run['name']}`) | {l1:g} | {trials_text(hp)} | "
            f"{run['epochs']} (best {run['best_epoch']}) | {run['valid_error']:.2%} | {run['test_error']:.2%} | "
            f"{zeros} | {dead} | {run['seconds'] / 60:.0f} min |")


def data_line(runs) -> str:
    """Which data the runs came from: the source and fingerprint their results carry."""
    prints = sorted({f"{r['data'].get('source', '?')} ({r['data'].get('fingerprint', '?')})"
                     for r in runs if r.get("data")})
    return f"Data: {'; '.join(prints) or 'not recorded'}."


def noise_line(runs) -> str:
    """How far apart one seed's errors may fall by chance: the binomial standard error on the test reviews."""
    error = sum(r["test_error"] for r in runs) / len(runs)
    spread = (error * (1 - error) / N_TEST) ** 0.5
    return (f"One seed each, so no ± column: at a test error of {error:.1%} on {N_TEST:,} reviews, one binomial "
            f"standard error is {spread:.1%}.")


def sentiment_section(sources) -> list:
    """The side table's Markdown lines (none when no side folder beside ``sources`` holds a sentiment run)."""
    runs = side_runs(sources)
    if not runs:
        return []
    return [
        "## Side table: Amazon sentiment (not the paper's protocol)",
        "",
        NOTE,
        "",
        ("| net | L1 | rate (chosen on validation) | epochs (best) | valid error | test error | "
         "zeros per layer (test) | dead units per layer | time |"),
        "|---|---|---|---|---|---|---|---|---|",
        *map(run_row, runs),
        "",
        noise_line(runs) + " " + data_line(runs) + " Made by `reproduction/experiments/sentiment_runs.py`, "
        "each run on one CPU core shared with other trainings (its time is wall-clock).",
        "",
    ]

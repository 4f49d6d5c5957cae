"""The report's section on DAE pre-training: the units it leaves dead, by how it pre-trained.

Greedy pre-training with an L1 penalty on the codes can switch rectifier units off
for good: a unit no example activates passes no gradient, in pre-training or in
fine-tuning. For every pre-trained run (the table's and other recipes' alike), the
section sets the dead units right after pre-training, after the first fine-tuning
epoch and at the end beside the test error, grouped by how the run pre-trained
(rate, epochs, L1), and draws the dead fraction of each layer through fine-tuning.
"""

from __future__ import annotations

import statistics

from rectifier_zoo.nn import neurons
from rectifier_zoo.reproduction.cells import label, pm, rate_text
from rectifier_zoo.reproduction.plots import plot_dead_through_training
from rectifier_zoo.reproduction.results import hyperparameters, mode, recipe_key, seed_of


def pretrain_l1(result) -> float:
    """The L1 penalty a run pre-trained with (a recorded None: the classifier's own)."""
    hp = hyperparameters(result)
    l1 = hp["pretrain"].get("l1")
    return float(hp.get("l1", 0.0) if l1 is None else l1)


def pretraining_key(result) -> tuple:
    """What sets a run's pre-training apart: ``(rate, epochs per layer, L1)``."""
    pre = hyperparameters(result)["pretrain"]
    return float(pre["learning_rate"]), int(pre["epochs"]), pretrain_l1(result)


def pretraining_text(key) -> str:
    rate, epochs, l1 = key
    return f"rate {rate:g}, {epochs} epochs, L1 {l1:g}"


def fine_tuning_key(result) -> tuple:
    """What sets a run's fine-tuning apart here: ``(rate, rate-decay patience, decay factor, L1)``."""
    hp = hyperparameters(result)
    rate, _, _, decay, factor = recipe_key(hp)
    return float(rate), int(decay), float(factor), float(hp.get("l1", 0.0))


def fine_tuning_text(key) -> str:
    rate, decay, factor, l1 = key
    return f"{rate_text(rate, decay, factor)}, L1 {l1:g}"


def dead_history(result) -> dict:
    """``{layer: [dead fraction after each fine-tuning epoch]}`` (validation sample), layers in order."""
    history = result.get("history") or {}
    keys = sorted(k for k in history if k.startswith("hidden_") and k.endswith("_dead"))
    return {k[: -len("_dead")]: history[k] for k in keys if history[k]}


def pretrained_runs(results) -> list:
    """The full runs of rectifying nets that were pre-trained and recorded their dead units per epoch
    (a saturating unit is never exactly zero, so never dead)."""
    def rectifying(r):
        neuron = neurons.BY_NAME.get(hyperparameters(r).get("neuron"))
        return neuron is not None and neuron.family == neurons.RECTIFYING

    return [r for r in results
            if mode(r) == "full" and hyperparameters(r).get("pretrain") and rectifying(r) and dead_history(r)]


def groups(runs) -> dict:
    """``{(entry, pretraining_key, fine_tuning_key): [runs]}``, in order."""
    grouped = {}
    for r in sorted(runs, key=lambda r: (r["name"], pretraining_key(r), fine_tuning_key(r), seed_of(r))):
        grouped.setdefault((r["name"], pretraining_key(r), fine_tuning_key(r)), []).append(r)
    return grouped


def percent(values) -> str:
    return f"{statistics.fmean(values) * 100:.0f}"


def dead_text(members, epoch) -> str:
    """Mean dead units per layer (%) after fine-tuning ``epoch`` (0: the first, -1: the last): ``"0 / 60 / 21"``."""
    layers = dead_history(members[0])
    return " / ".join(percent(dead_history(r)[layer][epoch] for r in members) for layer in layers)


def layer_means(reports, value, fmt) -> str:
    """``fmt`` of the mean of ``value(layer report)`` over runs, per layer: ``"0 / 65 / 38"``."""
    return " / ".join(fmt(statistics.fmean(value(layers[i]) for layers in reports)) for i in range(len(reports[0])))


def pretrained_dead_text(members) -> str:
    """Mean dead units per layer (%) on the training codes right after pre-training ("—": not recorded)."""
    reports = [r.get("pretraining") or [] for r in members]
    if not all(report and all("codes" in layer for layer in report) for report in reports):
        return "—"  # runs made before pre-training recorded its codes
    return layer_means(reports, lambda layer: layer["codes"]["dead"], lambda v: f"{v * 100:.0f}")


def reconstruction_text(members) -> str:
    """Mean reconstruction error per layer after pre-training, on the training codes, then on the
    validation codes where every run recorded them: ``"6.8 / 9.3 / 25.8 (valid 7.0 / 9.9 / 27.1)"``."""
    reports = [r.get("pretraining") or [] for r in members]
    if not all(reports) or not all("reconstruction_after" in layer for layers in reports for layer in layers):
        return "—"
    text = layer_means(reports, lambda layer: layer["reconstruction_after"], "{:.1f}".format)
    if all("reconstruction_valid" in layer for layers in reports for layer in layers):
        text += f" (valid {layer_means(reports, lambda layer: layer['reconstruction_valid'], '{:.1f}'.format)})"
    return text


def table_lines(grouped) -> list:
    lines = ["| entry | pre-training | fine-tuning | runs | valid error | test error | dead after pre-training (%) "
             "| after fine-tuning's epoch 1 (%) | at the end (%) | reconstruction error after pre-training |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, key, tune), members in grouped.items():
        valid, test = ([r[k] for r in members] for k in ("valid_error", "test_error"))
        lines.append(f"| `{name}` | {pretraining_text(key)} | {fine_tuning_text(tune)} | {len(members)} | "
                     f"{pm(valid, 2)}% | {pm(test, 2)}% | {pretrained_dead_text(members)} | {dead_text(members, 0)} | "
                     f"{dead_text(members, -1)} | {reconstruction_text(members)} |")
    return lines


def pretraining_section(results, fig_dir) -> list:
    """The section's Markdown lines (none when no run was pre-trained); writes one figure per dataset."""
    runs = pretrained_runs(results)
    if not runs:
        return []
    lines = ["## DAE pre-training: the units it leaves dead", "",
             "Dead units: the share of a layer's units that no example activates: of the training set right "
             "after pre-training (recorded since the zoo's pre-training reports its codes), then of the "
             "validation sample after each fine-tuning epoch. A unit dead after pre-training gets no gradient "
             "in fine-tuning unless the layer below changes what it sees. Reconstruction error: each layer's mean "
             "per-example loss on clean codes of the training images (and of the validation images, where "
             "recorded); the paper chose pre-training hyperparameters on it. Grouped by how the runs pre-trained "
             "(SGD rate, epochs per layer, L1 penalty on the codes) and fine-tuned (rate, any decay of it, L1); runs of every recipe are shown.", ""]
    by_dataset = {}
    for r in runs:
        by_dataset.setdefault(r["dataset"], []).append(r)
    for dataset, members in sorted(by_dataset.items()):
        grouped = groups(members)
        curves = {f"{name[len(dataset) + 1:]}: pre-training {pretraining_text(key)}; fine-tuning {fine_tuning_text(tune)}":
                  [dead_history(r) for r in group] for (name, key, tune), group in grouped.items()}
        figure = plot_dead_through_training(dataset, curves, fig_dir)
        lines += [f"### {label(dataset)}", ""] + table_lines(grouped) + [""]
        lines += [f"![{label(dataset)}: dead units through fine-tuning](figures/{figure.name})", ""]
    return lines

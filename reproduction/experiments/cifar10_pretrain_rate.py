"""The pre-training rate of a CIFAR-10 ``_dae`` entry, chosen on layer 1's validation reconstruction.

The paper chose its pre-training hyper-parameters on reconstruction error. At the
recipe's rate (0.01) a one-epoch check on 3,000 images lowered the rectifier and
softplus auto-encoders' reconstruction by 60-85%, but raised tanh's (its
cross-entropy reconstruction against the copy's continuous pixels). So for the
entries named here, each rate trains the first layer's auto-encoder for
``--epochs`` on the first ``--train`` training images (seed 0) and is scored on
the reconstruction of the first ``--valid`` validation images; the lowest wins.
The cross-entropy has a floor, the pixels' own entropy, printed beside the figures.
With ``--stack`` each rate pre-trains the whole greedy stack and a rate is refused
when a layer diverges (NaN) or leaves more than ``--max-dead`` of its units dead: at
0.01, ``cifar10_rect_l1_dae``'s first layer came out with 98% of its units dead and
its third with NaN, and fine-tuning then stayed at chance.

    OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \\
        python3 reproduction/experiments/cifar10_pretrain_rate.py --data-dir ../shared/datasets/cifar10-jpeg \\
        --record tuning/results/cifar10_tanh_dae.json

``--record`` writes the choice as the entry's search record (``tuning/results/``), for
``entries.TUNED`` to adopt with the fine-tuning rate of the plain entry.
"""

import argparse
import dataclasses
import datetime
import json
import pathlib

import numpy as np

import rectifier_zoo as rz
from rectifier_zoo.errors import TrainingError
from rectifier_zoo._internal.environment import library_versions
from rectifier_zoo.training.pretraining import pretrain, pretrain_layer, reconstruction_error


def entropy_floor(x) -> float:
    """The least mean cross-entropy any reconstruction of ``x`` (in [0, 1]) can reach."""
    p = np.clip(x, 1e-7, 1 - 1e-7)
    return float(np.mean(np.sum(-(p * np.log(p) + (1 - p) * np.log(1 - p)), axis=1)))


def trial(name, rate, x, x_valid, epochs, stack):
    """Layer 1's validation reconstruction after pre-training it at ``rate``; with ``stack``, after
    pre-training the whole greedy stack, with each layer's reconstruction and dead units (or why it diverged)."""
    model = rz.build_model(name, seed=0)
    config = dataclasses.replace(rz.get_spec(name).recipe.pretrain, epochs=epochs, learning_rate=rate)
    row = {"hyperparameters": {"pretrain_learning_rate": rate}}
    if not stack:
        ae, report = pretrain_layer(model.get_layer("hidden_1"), x, config, seed=1, verbose=0)
        return {**row, "reconstruction_train": report["reconstruction_after"],
                "reconstruction_valid": reconstruction_error(ae, x_valid), "seconds": report["seconds"]}
    try:
        reports = pretrain(model, x, config, seed=0, verbose=0, x_valid=x_valid)
    except TrainingError as error:  # a layer's reconstruction became NaN or infinite
        return {**row, "reconstruction_valid": None, "diverged": str(error)}
    return {**row, "reconstruction_valid": reports[0]["reconstruction_valid"],
            "layers": [{k: r[k] for k in ("layer", "reconstruction_valid", "codes", "seconds")} for r in reports]}


def usable(t, max_dead) -> bool:
    """A trial that did not diverge and left no layer with more than ``max_dead`` dead units."""
    if "diverged" in t:
        return False
    return all((r.get("codes") or {}).get("dead", 0.0) <= max_dead for r in t.get("layers") or [t])


def describe(t) -> str:
    if "diverged" in t:
        return t["diverged"]
    return "validation reconstruction (dead units) by layer: " + ", ".join(
        f"{r['reconstruction_valid']:.1f} ({(r.get('codes') or {}).get('dead', 0.0):.1%})" for r in t.get("layers") or [t])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="cifar10_tanh_dae")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--rates", default="0.01,0.003,0.001")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--valid", type=int, default=1000)
    parser.add_argument("--stack", action="store_true", help="pre-train the whole stack, not layer 1 alone")
    parser.add_argument("--max-dead", type=float, default=0.9,
                        help="refuse a rate leaving more than this fraction of a layer's units dead (default 0.9: mnist_rect_l1_dae fine-tunes well from 77%%)")
    parser.add_argument("--record", help="write the search record here")
    args = parser.parse_args()
    data = rz.datasets.load("cifar10", data_dir=args.data_dir)
    x, x_valid = data.train[0][: args.train], data.valid[0][: args.valid]
    print(f"entropy floor of the validation images: {entropy_floor(x_valid):.1f}")
    trials = []
    for rate in (float(r) for r in args.rates.split(",")):
        trials.append(trial(args.name, rate, x, x_valid, args.epochs, args.stack))
        print(f"rate {rate:g}: {describe(trials[-1])}", flush=True)
    candidates = [t for t in trials if usable(t, args.max_dead)]
    if not candidates:
        raise SystemExit(f"no rate keeps every layer finite with at most {args.max_dead:.0%} dead units")
    best = min(candidates, key=lambda t: t["reconstruction_valid"])
    if args.record:
        alive = (f", of the rates that leave the stack finite with at most {args.max_dead:.0%} of any layer's units dead "
                 "(the whole stack pre-trained)") if args.stack else ""
        plain = rz.zoo.TUNED[args.name.removesuffix("_dae")].values()  # fine-tuning keeps the plain entry's values
        record = {
            "name": args.name, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "tuner": (f"pre-training rate on layer 1's validation reconstruction{alive}: {args.epochs} epochs on the first "
                      f"{args.train} training images, scored on the first {args.valid} validation images "
                      f"(reproduction/experiments/cifar10_pretrain_rate.py); fine-tuning keeps the plain entry's values"),
            "hyperparameters": {**plain, **best["hyperparameters"]},
            "grid": {f"{t['hyperparameters']['pretrain_learning_rate']:g}": t["reconstruction_valid"] for t in trials},
            "entropy_floor": entropy_floor(x_valid), "all_trials": trials, "trials": len(trials),
            "completed": sum("diverged" not in t for t in trials), "failed": [t for t in trials if "diverged" in t],
            "versions": library_versions(),
        }
        pathlib.Path(args.record).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

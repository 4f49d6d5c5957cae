"""Amazon sentiment side runs: one rectifier + L1 and one tanh net on the real processed_acl reviews.

Not the paper's protocol (the paper pre-trained on the unlabeled reviews and reported
a 4-domain transfer accuracy, and used OpenTable data that is not public): a plain
supervised run on the 8,000 labelled reviews, split 5,600 / 1,200 / 1,200 (seed 0),
each review a binary bag of the 5,000 most frequent training features
(``rz.datasets.load("sentiment")``). The nets are the zoo's: three hidden layers of
1000, softmax over 2 classes, the paper's plain SGD with batches of 10 at a constant
rate, early stopping on the validation error; rectifier + L1 at the paper's L1 0.001.

The rate of each net is chosen on the validation split from short trials (``--rates``,
``--trial-epochs`` each, seed 0; the trials' validation errors are kept in
``<name>--lr-trials.json`` and in the result's hyperparameters), then one full run
is trained at the best rate. Resumable: a finished trial or run (its JSON exists) is
skipped, and a run killed mid-way resumes from ``--checkpoint-dir``.

    OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 taskset -c 1 nice -n 5 \\
        python3 reproduction/experiments/sentiment_runs.py --checkpoint-dir /root/rz-runs/sentiment-ckpt

The results (``TrainResult.to_dict()``, with the data's source and md5) go to
``reproduction/side/sentiment/`` (``--out``), not ``reproduction/results/``: they are
not zoo entries, and the report reads them only for its sentiment side table
(``rectifier_zoo.reproduction.sentiment``).
"""

import argparse
import json
import pathlib

import rectifier_zoo as rz
from rectifier_zoo._internal import atomic
from rectifier_zoo.nn.models import build_classifier
from rectifier_zoo.training.fit import TrainResult, fit
from rectifier_zoo.training.recipes import Recipe

ROOT = pathlib.Path(__file__).resolve().parents[2]
NETS = {"sentiment_rect_l1": {"neuron": "rect", "l1": 0.001}, "sentiment_tanh": {"neuron": "tanh", "l1": 0.0}}
HIDDEN = (1000, 1000, 1000)
VOCAB = 5000
SEED = 0
EPOCHS, PATIENCE = 50, 5  # the zoo's default recipe: at most 50 epochs, stop after 5 without a better one


def build(name, seed=SEED):
    """The zoo's classifier for the bag of words: 5,000 inputs, 3 x 1000 hidden, 2 classes."""
    return build_classifier(input_dim=VOCAB, num_classes=2, hidden=HIDDEN, seed=seed, name=name, **NETS[name])


def trials(name, splits, rates, epochs, out) -> dict:
    """``{rate: validation error}`` after ``epochs`` epochs at each rate (recorded trials are not rerun)."""
    path = out / f"{name}--lr-trials.json"
    record = json.loads(path.read_text()) if path.exists() else {"epochs": epochs, "seed": SEED, "valid_error": {}}
    if record["epochs"] != epochs:
        raise SystemExit(f"{path} holds {record['epochs']}-epoch trials; pass --trial-epochs {record['epochs']} "
                         "or move the file away")
    for rate in rates:
        if str(rate) in record["valid_error"]:
            continue
        result = fit(build(name), splits, Recipe(learning_rate=rate, epochs=epochs, patience=epochs), seed=SEED,
                     verbose=2)
        record["valid_error"][str(rate)] = result.valid_error
        print(f"{name} trial rate {rate}: valid {result.valid_error:.2%} after {epochs} epochs", flush=True)
        atomic.write_json(path, record)  # after each trial: a killed script loses one trial at most
    return {float(r): e for r, e in record["valid_error"].items() if float(r) in rates}


def full_run(name, splits, rate, tried, trial_epochs, checkpoint_dir) -> TrainResult:
    """One run at ``rate`` by the paper's plain SGD, its hyperparameters completed with what the recipe lacks."""
    recipe = Recipe(learning_rate=rate, batch_size=10, epochs=EPOCHS, patience=PATIENCE)
    ckpt = pathlib.Path(checkpoint_dir) / name if checkpoint_dir else None
    result = fit(build(name), splits, recipe, seed=SEED, verbose=2, checkpoint_dir=ckpt)
    result.hyperparameters.update({
        **NETS[name], "hidden": list(HIDDEN), "vocab_size": VOCAB, "split_seed": SEED,
        "lr_trials": {str(r): e for r, e in sorted(tried.items())}, "lr_trial_epochs": trial_epochs,
        "protocol": "side run: supervised on the labelled reviews only, not the paper's protocol",
    })
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "amazon-sentiment"),
                   help="the folder holding processed_acl.tar.gz")
    p.add_argument("--out", default=str(ROOT / "reproduction" / "side" / "sentiment"), help="where the JSONs go")
    p.add_argument("--checkpoint-dir", help="per-epoch checkpoints of the full runs (outside the work tree)")
    p.add_argument("--rates", default="0.1,0.01,0.001", help="learning rates tried, comma-separated")
    p.add_argument("--trial-epochs", type=int, default=2, help="epochs of each rate trial")
    p.add_argument("--only", choices=sorted(NETS), help="one of the two nets")
    args = p.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = rz.datasets.load("sentiment", data_dir=args.data_dir, seed=SEED, vocab_size=VOCAB)
    rates = [float(v) for v in args.rates.split(",")]
    for name in [args.only] if args.only else sorted(NETS):
        path = out / f"{name}--seed{SEED}.json"
        if path.exists():
            print(f"{name}: {path} exists, skipped")
            continue
        tried = trials(name, splits, rates, args.trial_epochs, out)
        rate = min(tried, key=lambda r: (tried[r], r))  # the lowest validation error (a tie: the smaller rate)
        print(f"{name}: rate {rate} (valid {tried[rate]:.2%} after {args.trial_epochs} epochs)", flush=True)
        result = full_run(name, splits, rate, tried, args.trial_epochs, args.checkpoint_dir)
        result.save(path)
        print(result.summary(), flush=True)


if __name__ == "__main__":
    main()

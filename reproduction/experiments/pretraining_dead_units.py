"""How many units greedy DAE pre-training leaves dead, by pre-training rate and epochs: pre-training only.

A cheap probe (about 3 minutes per 5 epochs a layer on one core for 10k MNIST images) of
what a full ``mnist_rect_l1_dae`` run starts its fine-tuning from. Prints one JSON line per
(rate, epochs): the dead fraction and zeros of each layer's codes of the training images,
and each layer's reconstruction error on the training images and on the 10k validation
images (the paper chose its pre-training hyperparameters on reconstruction error).

    python reproduction/experiments/pretraining_dead_units.py --data-dir ../shared/datasets/mnist \
        --examples 10000 --rates 0.01,0.003,0.001 --l1 0.001 --epochs 5,20
"""

import argparse
import json
import time

import rectifier_zoo as rz
from rectifier_zoo import zoo
from rectifier_zoo.training.pretraining import pretrain
from rectifier_zoo.training.recipes import PretrainConfig


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="the MNIST IDX files")
    p.add_argument("--examples", type=int, default=10000, help="training images to pre-train on")
    p.add_argument("--rates", default="0.01,0.001", help="pre-training SGD rates, comma-separated")
    p.add_argument("--l1", type=float, default=0.001, help="L1 penalty on the codes while pre-training")
    p.add_argument("--epochs", default="5", help="epochs per layer, comma-separated")
    p.add_argument("--entry", default="mnist_rect_l1_dae")
    args = p.parse_args()
    splits = rz.datasets.load("mnist", data_dir=args.data_dir)
    x, x_valid = splits.train[0][: args.examples], splits.valid[0]
    for rate in (float(v) for v in args.rates.split(",")):
        for epochs in (int(v) for v in args.epochs.split(",")):
            started = time.perf_counter()
            model = zoo.build_model(args.entry, seed=0)
            config = PretrainConfig(epochs=epochs, learning_rate=rate, l1=args.l1)
            report = pretrain(model, x, config, seed=0, verbose=0, x_valid=x_valid)
            print(json.dumps({
                "rate": rate, "l1": args.l1, "examples": len(x), "epochs": epochs,
                "seconds": round(time.perf_counter() - started),
                "dead": [round(r["codes"]["dead"], 3) for r in report],
                "zeros": [round(r["codes"]["zeros"], 3) for r in report],
                "reconstruction": [round(r["reconstruction_after"], 2) for r in report],
                "reconstruction_valid": [round(r["reconstruction_valid"], 2) for r in report],
            }), flush=True)


if __name__ == "__main__":
    main()

"""Greedy layer-wise pre-training with tied-weight denoising auto-encoders.

One ``TiedDenseAutoencoder`` per hidden layer, each trained on the codes of the
layer below (the first on the input); the classifier's hidden layers then start
from the encoders' weights, and the whole net is fine-tuned by ``training.fit``.
"""

from __future__ import annotations

import math
import time
import warnings

import keras
import numpy as np

from rectifier_zoo.errors import TrainingError
from rectifier_zoo.training.compilation import jit_compile, steps_per_execution
from rectifier_zoo.nn.layers import TiedDenseAutoencoder
from rectifier_zoo.training.recipes import PretrainConfig
from rectifier_zoo.nn.models import block_layers, hidden_layers
from rectifier_zoo.nn.regularizers import ActivityL1
from rectifier_zoo.nn.sparsity import code_stats


def layer_l1(model, index) -> float:
    """The classifier's L1 coefficient on hidden layer ``index`` (0 when it has none)."""
    names = {layer.name: layer for layer in model.layers}
    penalty = names.get(f"hidden_{index}_l1")
    return float(penalty.l1) if penalty is not None else 0.0


def input_range(codes) -> str:
    """The narrowest ``TiedDenseAutoencoder`` input range holding ``codes`` (NumPy).

    Read off the data rather than the net: layer 1 sees pixels in [0, 1] (MNIST)
    or [-1, 1] (NORB), layers above see tanh codes in [-1, 1] or rectifier codes
    with no upper bound, and a cross-entropy reconstruction must know which.
    """
    low, high = float(np.min(codes)), float(np.max(codes))
    if 0.0 <= low and high <= 1.0:
        return "unit"
    if -1.0 <= low and high <= 1.0:
        return "symmetric"
    return "unbounded"  # NaN lands here too


def reconstruction_error(ae, x, batch_size=1000) -> float:
    """Mean per-example reconstruction loss of clean ``x`` (no corruption)."""
    total = 0.0
    for start in range(0, len(x), batch_size):
        xb = keras.ops.convert_to_tensor(x[start : start + batch_size])
        loss = ae.reconstruction_loss(xb, ae.encode(xb))
        total += float(keras.ops.convert_to_numpy(loss)) * len(xb)
    return total / max(len(x), 1)


def pretrain(model, x, config=PretrainConfig(), seed=0, verbose=1, x_valid=None, done=(), after_layer=None):
    """Pre-train the hidden layers of ``model`` greedily on ``x``, in place.

    Args:
        model: a zoo classifier (see ``models.build_classifier``).
        x: training examples, float32 (n, features).
        config: a ``PretrainConfig``.
        seed: seed of the corruption noise.
        verbose: Keras verbosity of each layer's ``fit``.
        x_valid: validation examples, or None. When given, each layer's report adds
            ``reconstruction_valid``, the loss on their codes: the paper chose its
            pre-training hyperparameters on reconstruction error, and a training
            figure only falls with more epochs.
        done: the reports of the layers already pre-trained (a restarted run's), whose
            weights ``model`` holds: they are not trained again, their codes only recomputed.
        after_layer: called with the reports so far after each layer is trained, so a
            caller can checkpoint: on CIFAR-10 one layer takes a quarter of an hour.

    Returns:
        One dict per layer: ``layer``, ``reconstruction_before``, ``reconstruction_after``
        (mean per-example loss on clean inputs), ``epochs``, ``seconds``, and ``codes``: the
        ``zeros``, ``dead`` and ``mean`` of the trained layer's codes of ``x``
        (``sparsity_stats.code_stats``); with ``x_valid``, ``reconstruction_valid`` too.
    """
    codes = np.asarray(x, dtype="float32")
    valid = None if x_valid is None else np.asarray(x_valid, dtype="float32")
    report = list(done)
    for index, dense in enumerate(hidden_layers(model), start=1):
        if index <= len(done):  # pre-trained before a restart: its weights are in model, its codes are needed
            codes, valid = _codes_above(model, index, codes, valid)
            continue
        l1 = layer_l1(model, index) if config.l1 is None else config.l1
        ae, layer_report = pretrain_layer(dense, codes, config, l1=l1, seed=seed + index, verbose=verbose)
        if valid is not None:
            layer_report["reconstruction_valid"] = reconstruction_error(ae, valid)
        codes, valid = _codes_above(model, index, codes, valid)
        # What fine-tuning starts from: a unit that no training example activates now gets no gradient.
        layer_report["codes"] = code_stats(codes)
        check_layer(layer_report, config)
        report.append(layer_report)
        if after_layer is not None:
            after_layer(report)
    return report


def _codes_above(model, index, *arrays):
    """``next_codes`` of each array (None stays None: no validation split)."""
    return [None if a is None else next_codes(model, index, a) for a in arrays]


# More dead units than this after pre-training is worth a warning: mnist_rect_l1_dae fine-tunes
# well from 77% in a layer, while cifar10_rect_l1_dae at rate 0.01 left 98% and never learned.
DEAD_WARNING = 0.9


def check_layer(report, config):
    """Refuse a diverged layer (its reconstruction or codes NaN); warn when most of its units died."""
    layer, codes = report["layer"], report["codes"]
    if not (math.isfinite(report["reconstruction_after"]) and math.isfinite(codes["mean"])):
        raise TrainingError(
            f"pre-training {layer} diverged at rate {config.learning_rate:g} (its reconstruction is NaN or infinite); "
            "lower the pre-training rate (pretrain_learning_rate) or its L1 (pretrain_l1)"
        )
    if codes["dead"] > DEAD_WARNING:
        warnings.warn(
            f"pre-training left {codes['dead']:.0%} of {layer}'s units dead (no training example activates them, "
            f"so fine-tuning cannot revive them) at rate {config.learning_rate:g}; a lower pre-training rate "
            "(pretrain_learning_rate) or L1 (pretrain_l1) keeps more alive",
            stacklevel=3,
        )


def pretrain_layer(dense, codes, config, l1=0.0, seed=0, verbose=1):
    """Train a tied denoising auto-encoder on ``codes`` and copy its encoder into ``dense``.

    Returns:
        ``(autoencoder, report)``: the trained ``TiedDenseAutoencoder`` and its report dict.
    """
    started = time.perf_counter()
    ae = TiedDenseAutoencoder(
        dense.units,
        activation=dense.activation.__name__,
        corruption=config.corruption,
        corruption_level=config.corruption_level,
        reconstruction=config.reconstruction,
        l1=l1,
        seed=seed,
        input_range=input_range(codes),
        name=f"dae_{dense.name}",
    )
    net = keras.Sequential([keras.Input((codes.shape[1],)), ae])
    # Fused steps and XLA, as training.compile_model does (measured 1.1-5x faster per epoch).
    net.compile(
        optimizer=keras.optimizers.SGD(config.learning_rate),
        steps_per_execution=steps_per_execution(config.batch_size, len(codes)),
        jit_compile=jit_compile(),
    )
    before = reconstruction_error(ae, codes)
    if config.epochs:
        if verbose:
            print(f"pre-training {dense.name} ({codes.shape[1]} -> {dense.units}), {config.epochs} epochs")
        net.fit(codes, epochs=config.epochs, batch_size=config.batch_size, verbose=verbose, shuffle=True)
    dense.kernel.assign(ae.kernel)
    dense.bias.assign(ae.hidden_bias)
    return ae, {
        "layer": dense.name,
        "reconstruction_before": before,
        "reconstruction_after": reconstruction_error(ae, codes),
        "epochs": config.epochs,
        "seconds": time.perf_counter() - started,
    }


def next_codes(model, index, codes, batch_size=1000):
    """What hidden layer ``index + 1`` sees, given ``codes``, the input of layer ``index``.

    Runs the layers of block ``index`` (the Dense layer, then its sign flip if
    present) eagerly, batch by batch.
    """
    # ActivityL1 is the identity on values; skipping it keeps its loss out of eager calls.
    block = [layer for layer in block_layers(model, index) if not isinstance(layer, ActivityL1)]
    out = []
    for start in range(0, len(codes), batch_size):
        h = keras.ops.convert_to_tensor(codes[start : start + batch_size])
        for layer in block:
            h = layer(h)
        out.append(keras.ops.convert_to_numpy(h))
    return np.concatenate(out)

"""How the zoo compiles its training steps: fused steps and XLA, shared by fit and pre-training."""

from __future__ import annotations

import keras


def steps_per_execution(batch_size, n_train):
    """Steps fused per call: amortises Python overhead at the paper's tiny batches."""
    steps_per_epoch = max(1, -(-n_train // batch_size))
    return int(max(1, min(steps_per_epoch, 1000 // batch_size)))


def jit_compile():
    """The ``jit_compile`` to compile the zoo's models with.

    Keras's ``"auto"`` turns XLA off for TensorFlow on a CPU-only machine, yet there
    it is what makes the paper's batch-10 steps fast: 1.9x more examples a second
    for a 784-1000-1000-1000-10 net on one core (``python -m benchmarks --only
    train_throughput``, configuration ``library_jit``). JAX always compiles; torch
    keeps ``"auto"`` (its ``jit_compile=True`` means torch.compile, not wanted here).
    """
    return True if keras.backend.backend() == "tensorflow" else "auto"

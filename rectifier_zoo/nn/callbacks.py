"""Training callbacks of the zoo."""

from __future__ import annotations

import keras
import numpy as np

from rectifier_zoo.nn import sparsity as sparsity_lib
from rectifier_zoo._internal import validation


class SparsityCallback(keras.callbacks.Callback):
    """Logs the sparsity of each hidden layer at the end of every epoch.

    On a fixed sample of the validation data it measures, for each hidden layer
    ``hidden_<i>``, the fraction of exact zeros, the fraction of dead units (zero on
    every example of the sample) and the mean activation, and writes them into the
    epoch's logs as ``hidden_<i>_zeros``, ``hidden_<i>_dead`` and ``hidden_<i>_mean``,
    plus ``sparsity``, the mean of the layers' zero fractions. History, CSVLogger,
    TensorBoard and KerasTuner all see them (pass this callback before them).

    Args:
        x: validation examples, shape (n, features).
        sample_size: how many of them to use (a fixed random sample), at most n.
        seed: seed of the sample.
        batch_size: examples per forward pass.

    Example:

    >>> cb = SparsityCallback(x_valid, sample_size=1000)
    >>> history = model.fit(x, y, validation_data=(x_valid, y_valid), callbacks=[cb])
    >>> history.history["hidden_1_zeros"]
    """

    def __init__(self, x, sample_size=1000, seed=0, batch_size=1000):
        super().__init__()
        x = np.asarray(x, dtype="float32")
        if x.ndim != 2 or len(x) == 0:
            raise validation.ConfigError(
                f"SparsityCallback needs validation examples of shape (n, features), got {x.shape}"
            )
        validation.number("sample_size", sample_size, low=1, integer=True)
        self.sample_size = int(sample_size)
        self.seed = seed
        self.batch_size = int(batch_size)
        if len(x) > self.sample_size:
            pick = np.random.default_rng(seed).choice(len(x), self.sample_size, replace=False)
            x = x[np.sort(pick)]
        self.x = x
        self._probe = None
        self.last = {}

    def set_model(self, model):
        super().set_model(model)
        self._probe = None  # rebuilt for the new model on first use

    def measure(self) -> dict:
        """The statistics of the current weights, ``{layer: {zeros, dead, mean}}``."""
        if self._probe is None:
            self._probe = sparsity_lib.probe(self.model)
        net, names = self._probe
        return sparsity_lib.probe_stats(net, names, self.x, self.batch_size)

    def on_epoch_end(self, epoch, logs=None):
        stats = self.measure()
        self.last = stats
        if logs is None:
            return
        for layer, values in stats.items():
            for stat, key in sparsity_lib.log_names(layer).items():
                logs[key] = values[stat]
        logs["sparsity"] = float(np.mean([v["zeros"] for v in stats.values()]))

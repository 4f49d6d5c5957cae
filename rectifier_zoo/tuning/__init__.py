"""Hyper-parameter searches of zoo entries with KerasTuner (resumable, distributed, any backend).

    from rectifier_zoo import tuning
    out = tuning.search("shapeset_rect_l1", tuning.SearchSpace(l1_grid=(0, 3e-4, 1e-3)), quick=True, max_trials=8)
    out.record["hyperparameters"]   # {'learning_rate': ..., 'l1': ...}, also in out.results_path
    tuning.record("shapeset_rect_l1", out.results_path)  # into tuning/results/: refused if smaller than the one there

A search writes where it runs (its project dir, default ``<zoo home>/tuning/<name>``);
only ``record`` writes into the repository's ``tuning/results/``, and only ``TUNED`` in
``rectifier_zoo/entries.py`` changes an entry.

Modules: ``hypermodel`` (the search space ``SearchSpace``, ``ZooHyperModel``), ``tuner`` (``ZooTuner``:
checkpointed trials, ``val_error`` objective, sparsity metrics), ``project`` (project
directory ownership, the search's record, recording it), ``searching`` (``search``: the whole flow),
``chief`` (distributed searches: the chief's gRPC loop, the roles' environment),
``best`` (the best trial's results record and its retraining).
"""

from rectifier_zoo.tuning.hypermodel import PAPER_LEARNING_RATES, SearchSpace, ZooHyperModel, effective_values
from rectifier_zoo.tuning.project import load_result, record, results_path
from rectifier_zoo.tuning.searching import TUNERS, SearchOutcome, search
from rectifier_zoo.tuning.tuner import OBJECTIVE, ZooTuner, make_oracle

__all__ = [
    "OBJECTIVE",
    "PAPER_LEARNING_RATES",
    "SearchOutcome",
    "SearchSpace",
    "TUNERS",
    "ZooHyperModel",
    "ZooTuner",
    "effective_values",
    "load_result",
    "make_oracle",
    "record",
    "results_path",
    "search",
]

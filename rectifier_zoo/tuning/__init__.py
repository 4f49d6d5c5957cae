"""Hyper-parameter searches of zoo entries with KerasTuner (resumable, distributed, any backend).

    from rectifier_zoo import tuning
    out = tuning.search("shapeset_rect_l1", quick=True, max_trials=8)
    out.record["hyperparameters"]   # {'learning_rate': ..., 'l1': ...}, also in tuning/results/

Modules: ``hypermodel`` (the search space, ``ZooHyperModel``), ``tuner`` (``ZooTuner``:
checkpointed trials, ``val_error`` objective, sparsity metrics), ``project`` (project
directory ownership, the results file), ``searching`` (``search``: the whole flow),
``chief`` (distributed searches: the chief's gRPC loop, the roles' environment),
``best`` (the best trial's results record and its retraining).
"""

from rectifier_zoo.tuning.hypermodel import PAPER_LEARNING_RATES, ZooHyperModel, effective_values
from rectifier_zoo.tuning.project import load_result, results_path
from rectifier_zoo.tuning.searching import TUNERS, SearchOutcome, search
from rectifier_zoo.tuning.tuner import OBJECTIVE, ZooTuner, make_oracle

__all__ = [
    "OBJECTIVE",
    "PAPER_LEARNING_RATES",
    "SearchOutcome",
    "TUNERS",
    "ZooHyperModel",
    "ZooTuner",
    "effective_values",
    "load_result",
    "make_oracle",
    "results_path",
    "search",
]

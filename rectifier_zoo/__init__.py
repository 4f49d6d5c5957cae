"""rectifier_zoo: the sparse rectifier networks of Glorot, Bordes & Bengio (2011) as a Keras 3 zoo.

    import rectifier_zoo as rz
    rz.list_models("mnist_*")
    model = rz.build_model("mnist_rect_l1")        # untrained, 2,797,010 parameters
    result = rz.train("shapeset_rect_l1", quick=True)
    model = rz.load("fashion_mnist_rect_l1")       # trained, from the local zoo

Nothing here downloads anything at import time, and Keras itself is imported on
first use of a name that needs it, so ``import rectifier_zoo`` and the command
line's ``--help`` are fast. Keras learns the zoo's custom objects the moment it is
imported (``rectifier_zoo._internal.registration``), so after ``import rectifier_zoo`` a zoo
``.keras`` file loads with plain ``keras.saving.load_model(path, safe_mode=True)``.

TensorFlow's C++ log level defaults to 2 (errors only), and its start-up lines obey
it (``rectifier_zoo._internal.tf_logs``); set ``TF_CPP_MIN_LOG_LEVEL=0`` first to see them all.
"""

import importlib
import os

# TensorFlow's C++ start-up chatter drowns the zoo's own output; users may override.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rectifier_zoo._internal import registration  # noqa: E402  (light: imports Keras only if it is imported already)

registration.install()

from rectifier_zoo.errors import (  # noqa: E402  (light: no Keras)
    ArtifactError,
    ConfigError,
    DataError,
    TrainingError,
    TuningError,
    UnknownModelError,
    ZooError,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "callbacks": "rectifier_zoo.nn.callbacks",
    "datasets": "rectifier_zoo.datasets",
    "layers": "rectifier_zoo.nn.layers",
    "regularizers": "rectifier_zoo.nn.regularizers",
    "sparsity": "rectifier_zoo.nn.sparsity:sparsity",
    "train": "rectifier_zoo.api:train",
    "fit": "rectifier_zoo.training.fit:fit",
    "Recipe": "rectifier_zoo.training.recipes:Recipe",
    "TrainResult": "rectifier_zoo.training.fit:TrainResult",
    "ZooSpec": "rectifier_zoo.zoo:ZooSpec",
    "build_model": "rectifier_zoo.zoo:build_model",
    "get_spec": "rectifier_zoo.zoo:get_spec",
    "list_models": "rectifier_zoo.zoo:list_models",
    "catalog": "rectifier_zoo.listing:catalog",
    "load": "rectifier_zoo.api:load",
    "export": "rectifier_zoo.api:export",
    "sparsify": "rectifier_zoo.sparse.inference:sparsify",
}


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'rectifier_zoo' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = importlib.import_module(module_name)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "TrainingError",
    "TuningError",
    "UnknownModelError",
    "ZooError",
    *_LAZY,
]

"""The registry of zoo entries: one frozen spec per ``<dataset>_<neuron>[_l1][_dae]`` name.

An entry is registered by one declaration, ``register(ZooSpec(...))``; the paper's
grid is declared in ``rectifier_zoo.entries`` (with ``TUNED``, the values searches
chose) and registered here. ``list_models`` takes fnmatch patterns, as timm's does.

The registry is pure data: ``get_spec`` reads no file. Values a search chose on
the validation split (``rectifier-zoo tune``, recorded in ``tuning/results/``) reach
an entry only through ``entries.TUNED``, reviewed in git like any other declaration.
"""

from __future__ import annotations

import dataclasses
import fnmatch

from rectifier_zoo import entries
from rectifier_zoo._internal import validation
from rectifier_zoo._internal.paths import REPO_ROOT
from rectifier_zoo.entries import DATASETS, FASHION_RECIPE, TUNED  # noqa: F401  (the zoo's public view)
from rectifier_zoo.errors import ConfigError, UnknownModelError
from rectifier_zoo.nn import neurons
from rectifier_zoo.spec import Tuned, ZooSpec, apply_tuned, entry_name, parse_name  # noqa: F401  (public names)

# Where `rectifier-zoo tune` records its searches (read by tuning/, never by get_spec).
TUNED_DIR = REPO_ROOT / "tuning" / "results"


_REGISTRY: dict[str, ZooSpec] = {}


def register(spec: ZooSpec) -> ZooSpec:
    """Add an entry to the zoo (one declaration per entry). Names are unique."""
    if spec.name in _REGISTRY:
        raise ConfigError(f"zoo entry {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models(pattern="*") -> list[str]:
    """Sorted names of the registered entries matching an fnmatch ``pattern``.

    Example:

    >>> list_models("mnist_rect*")
    ['mnist_rect', 'mnist_rect_dae', 'mnist_rect_l1', 'mnist_rect_l1_dae']
    """
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"pattern must be a non-empty fnmatch pattern such as 'mnist_*', got {pattern!r}")
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_spec(name, tuned=True) -> ZooSpec:
    """The declared spec of entry ``name``; ``tuned=False``: before its ``TUNED`` values.

    Reads no file: what ``rz.train(name)`` uses is what the declaration says.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownModelError(f"unknown zoo entry {name!r}; {validation.suggest(str(name), _REGISTRY)}")
    spec = _REGISTRY[name]
    if tuned or spec.tuned is None:
        return spec
    return _UNTUNED[name]


def tuned_hyperparameters(name) -> dict | None:
    """The values entry ``name`` takes from ``TUNED`` (a search's choice), or None."""
    spec = get_spec(name)
    return spec.tuned.values() if spec.tuned else None


def build_model(name, **overrides):
    """The untrained ``keras.Model`` of entry ``name``; keyword overrides replace spec fields.

    Overrides: ``hidden``, ``neuron``, ``l1``, ``flip_half``, ``seed``, ``input_dim``,
    ``num_classes``, ``softplus_alpha`` (a softplus entry's hidden layers then use
    ``(1/α)·softplus(αx)``). The model's name is the entry's name, so export knows it.

    Example:

    >>> rz.build_model("mnist_rect_l1").count_params()
    2797010
    """
    from rectifier_zoo.nn.models import build_classifier

    spec = get_spec(name)
    allowed = {"hidden", "neuron", "l1", "flip_half", "seed", "input_dim", "num_classes", "softplus_alpha"}
    unknown = set(overrides) - allowed
    if unknown:
        raise ConfigError(f"unknown override(s) {sorted(unknown)} for build_model; allowed: {sorted(allowed)}")
    check_softplus_alpha(spec, overrides.get("softplus_alpha"), overrides.get("neuron"))
    kwargs = {
        "input_dim": spec.input_dim,
        "num_classes": spec.num_classes,
        "hidden": spec.hidden,
        "neuron": spec.neuron,
        "l1": spec.l1,
        "flip_half": spec.flip_half,
        **overrides,
    }
    return build_classifier(**kwargs, name=spec.name)


def check_softplus_alpha(spec, alpha, neuron=None):
    """``alpha`` as a float if entry ``spec`` can take it (None passes through); else ConfigError."""
    if alpha is None:
        return None
    if spec.pretrained:  # the DAE layers that pre-train it know only the plain neurons
        raise ConfigError(
            f"softplus_alpha is for entries without pre-training; use {spec.name.removesuffix('_dae')} instead of {spec.name}"
        )
    return neurons.softplus_alpha(alpha, neuron or spec.neuron)


_UNTUNED: dict[str, ZooSpec] = {}  # entry -> its spec before TUNED, where TUNED changes it


def _declare(spec: ZooSpec) -> None:
    tuned = TUNED.get(spec.name)
    if tuned is not None:
        _UNTUNED[spec.name] = spec
        spec = dataclasses.replace(apply_tuned(spec, tuned.values()), tuned=tuned)
    register(spec)


def _declare_grid():
    for spec in entries.grid():
        _declare(spec)


def _check_tuned():
    unknown = sorted(set(TUNED) - set(_REGISTRY))
    if unknown:  # a typo in TUNED must not pass silently
        raise ConfigError(f"TUNED names unknown zoo entries {unknown}; fix their names in rectifier_zoo/entries.py")


_declare_grid()
_check_tuned()

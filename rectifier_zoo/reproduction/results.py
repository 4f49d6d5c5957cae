"""Result JSONs and what each run is: its mode, its data, its recipe, and which runs count.

A result is a ``TrainResult.to_dict()`` (what ``rectifier-zoo reproduce`` and
``train`` write), read back as a dict. ``load_results`` reads every one under some
directories; the rest of this module says what a run is, from its recorded
hyper-parameters: how it was trained (``mode``: full, quick or tiny), whether it is
a sweep point or on a variant of its data, whether its data is what its dataset
gives today (a generated dataset's generator version), whether it used its entry's
current recipe; ``Runs`` sorts a report's runs into those kinds once.

The report, the shipping step and the targets read runs through these; the run
mode is defined here only (``mode_of``), for the runs ``reproduction`` trains and
the results it reads back.  Keras is not imported.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib

from rectifier_zoo import datasets, zoo
from rectifier_zoo.errors import ArtifactError, DataError
from rectifier_zoo.training.recipes import Recipe

MODES = ("full", "quick", "tiny")  # a cell uses its best mode only: full runs beat quick ones
# A model whose validation accuracy is under 1.1x chance learned (almost) nothing.
CHANCE_MARGIN = 1.1


# ---------------------------------------------------------------- what a run is


def mode_of(quick=False, tiny=False) -> str:
    """``"tiny"``, ``"quick"`` or ``"full"``: the mode of a run trained with these flags."""
    return "tiny" if tiny else "quick" if quick else "full"


def hyperparameters(result) -> dict:
    """A result's recorded hyper-parameters (``{}`` where none were recorded)."""
    return result.get("hyperparameters") or {}


def mode(result) -> str:
    """``"tiny"``, ``"quick"`` or ``"full"``: how a result was trained."""
    hp = hyperparameters(result)
    return mode_of(quick=hp.get("quick"), tiny=hp.get("tiny"))


def seed_of(result):
    """The seed a run recorded (None where it recorded none)."""
    return hyperparameters(result).get("seed")


def alpha_of(result):
    """The α of a ``(1/α)·softplus(αx)`` run (``math.inf``: the sweep's rectifier point), else None."""
    alpha = hyperparameters(result).get("softplus_alpha")
    return None if alpha is None else float(alpha)  # ∞ is saved as "inf"


def chance_error(name) -> float:
    """The test error of guessing the most common class of entry ``name``'s balanced data."""
    return 1.0 - 1.0 / zoo.get_spec(name, tuned=False).num_classes


def learned_nothing(result) -> bool:
    """Whether a run is no better than chance on validation (e.g. an L1 penalty that silenced every unit)."""
    return result["valid_error"] >= 1.0 - CHANCE_MARGIN * (1.0 - chance_error(result["name"]))


def is_sweep(result) -> bool:
    """An L1 or α sweep run, any scaled-softplus run, or a run on a variant of its data: never in a
    table cell (nor shipped)."""
    return bool(hyperparameters(result).get("l1_sweep")) or alpha_of(result) is not None or is_variant(result)


def is_variant(result) -> bool:
    """A run on a variant of its dataset (``dataset_options``, e.g. Shapeset without its swap)."""
    return bool(dataset_options(result))


def dataset_options(result) -> dict:
    """The data options a run recorded (``{}``: the dataset as the zoo loads it by default)."""
    return dict(hyperparameters(result).get("dataset_options") or {})


def options_slug(options) -> str:
    """``--swap-false--antialias-true``: data options as they appear in file names (run ids, figures)."""
    return "".join(f"--{key}-{str(value).lower()}" for key, value in sorted(options.items()))


# ---------------------------------------------------------------- its data


def descriptor(dataset):
    """The descriptor of ``dataset`` (``rz.datasets``), or None for a name the zoo does not know."""
    return next((d for d in datasets.descriptors() if d.name == dataset), None)


def data_version(result):
    """The generator a run on generated data came from (1 where none is recorded: runs made before
    the generator recorded its version); None for data read from files."""
    info = descriptor(result.get("dataset"))
    if info is None or info.version_key is None:
        return None
    return int(hyperparameters(result).get(info.version_key, 1))


def on_current_data(result) -> bool:
    """Whether a run's data is what its dataset gives now (generated data: today's generator)."""
    version = data_version(result)
    return version is None or version == descriptor(result["dataset"]).current_version()


# ---------------------------------------------------------------- its recipe

# What makes two runs of an entry comparable: the recipe's optimizer and schedule, its (tuned) rate
# included, so that a run at a rate the search has since moved away from is another recipe tried.
RECIPE_KEYS = ("learning_rate", "batch_size", "momentum", "lr_decay_patience", "lr_decay_factor")


def recipe_key(hp) -> tuple:
    """The recipe fields of a result's hyper-parameters (older results lack the decay: constant rate)."""
    default = Recipe()
    return tuple(hp.get(k, getattr(default, k)) for k in RECIPE_KEYS)


def _spec(result):
    return zoo.get_spec(result["name"]) if result["name"] in zoo.list_models() else None


def on_recipe_shape(result) -> bool:
    """Whether a run was trained the way its entry trains now (recipe and data), whatever its L1."""
    spec = _spec(result)
    if not on_current_data(result):
        return False
    if spec is None:
        return True
    hp, current = hyperparameters(result), spec.recipe.to_dict()
    # Pre-training is part of the recipe too: a run pre-trained with another L1 or rate is another recipe.
    return recipe_key(hp) == recipe_key(current) and hp.get("pretrain") == current["pretrain"]


def on_current_recipe(result) -> bool:
    """Whether a run used its entry's current recipe, (tuned) L1 penalty and data; else it was another
    recipe tried (or is on an earlier generator of its data)."""
    spec = _spec(result)
    if not on_current_data(result):
        return False
    if spec is None or not on_recipe_shape(result):
        return spec is None
    l1 = hyperparameters(result).get("l1", spec.l1)
    return not spec.l1 or math.isclose(float(l1), spec.l1)


def superseded(result) -> bool:
    """Whether a finished run no longer stands for its run id: trained on earlier data, or by a
    recipe (rate, schedule, or an L1 outside an L1 sweep) its entry no longer uses.

    Its file would block the run that replaces it (reproduce loads a finished run, never
    retrains it), so reproduce moves it aside first (``reproduction.move_superseded``).
    """
    if hyperparameters(result).get("l1_sweep"):
        return not on_recipe_shape(result)  # a sweep point's L1 is in its run id
    return not on_current_recipe(result)


# ---------------------------------------------------------------- loading


def check_result(data, path):
    """Refuse a result JSON whose figures the report would misread."""
    error = data.get("test_error")
    layers = data.get("sparsity")
    ok = isinstance(error, (int, float)) and 0 <= error <= 1 and isinstance(layers, dict)
    ok = ok and all(isinstance(v, dict) and isinstance(v.get("zeros"), (int, float)) for v in layers.values())
    if not ok:
        raise ArtifactError(
            f"{path} looks like a result JSON but its test_error or sparsity is malformed; "
            "delete it (and rerun `rectifier-zoo reproduce`) or move it out of the results directory"
        )


def load_results(directories):
    """Every result JSON under ``directories`` (recursively), as dicts with ``"path"`` added.

    JSON files that are not training results (no ``name`` / ``test_error`` /
    ``sparsity``), such as tuning records, are skipped and returned separately.

    Returns:
        ``(results, skipped_paths)``.
    """
    results, skipped, seen = [], [], set()
    for directory in directories:
        directory = pathlib.Path(directory)
        if not directory.is_dir():
            raise DataError(f"results directory {directory} does not exist; run `rectifier-zoo reproduce --out {directory}` first")
        for path in sorted(directory.rglob("*.json")):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                data = json.loads(path.read_text())
            except (ValueError, OSError) as err:
                raise ArtifactError(f"{path} does not parse as JSON ({err}); delete it or move it out of {directory}") from None
            if not isinstance(data, dict) or not {"name", "test_error", "sparsity"} <= set(data):
                skipped.append(path)
                continue
            check_result(data, path)
            results.append({**data, "path": str(path)})
    return results, skipped


# ---------------------------------------------------------------- which runs count


def group_by_name(runs) -> dict:
    """``{entry: [run, ...]}``, in the order the runs come."""
    by_name = {}
    for r in runs:
        by_name.setdefault(r["name"], []).append(r)
    return by_name


@dataclasses.dataclass
class Runs:
    """A report's runs, each sorted once into what it is.

    Attributes:
        results: every run.
        table_runs: runs of each entry's current recipe on today's data: the only runs in a table cell.
        by_name: ``table_runs`` by entry.
        earlier: runs on an earlier generator of their data, kept apart.
        other_recipe: runs of a recipe (or L1) the entry no longer uses.
        sweep_runs: Figure 3's L1 sweep (not the α sweep, not a variant's runs).
        variant_runs: runs on a variant of their data (``dataset_options``), outside any sweep, by their
            entry's current recipe (a variant compares with faithful runs of that recipe only).
        stale_variant_runs: variant runs of a recipe (or L1, or generator) the entry no longer uses.
    """

    results: list
    table_runs: list
    by_name: dict
    earlier: list
    other_recipe: list
    sweep_runs: list
    variant_runs: list
    stale_variant_runs: list

    @classmethod
    def of(cls, results):
        results = list(results)
        plain = [r for r in results if not is_sweep(r)]
        table_runs = [r for r in plain if on_current_recipe(r)]
        variants = [r for r in results if is_variant(r) and alpha_of(r) is None and not hyperparameters(r).get("l1_sweep")]
        return cls(
            results=results,
            table_runs=table_runs,
            by_name=group_by_name(table_runs),
            earlier=[r for r in plain if not on_current_data(r)],
            other_recipe=[r for r in plain if on_current_data(r) and not on_current_recipe(r)],
            sweep_runs=[r for r in results if is_sweep(r) and alpha_of(r) is None and not is_variant(r)],
            variant_runs=[r for r in variants if on_current_recipe(r)],
            stale_variant_runs=[r for r in variants if not on_current_recipe(r)],
        )

    def datasets(self) -> set:
        """The datasets any run is on."""
        return {r.get("dataset") for r in self.results}

"""Shipping the zoo: the best finished reproduction run of each entry, exported into ``exports/``.

``ship(["reproduction/results"], "exports")`` reads the result JSONs that
``rectifier-zoo reproduce --save-models`` wrote (each beside its ``.keras`` file),
picks for every entry the full run with the lowest *validation* error (the test
split never chooses a model), and exports it with ``rz.export`` without a
SavedModel: the ``.keras`` file that ``rz.load`` reads and its model card, listed in
``manifest.json``. That is one copy of the weights per entry (the SavedModel would
be a second); ``rectifier-zoo export NAME --export-dir DIR`` writes TF Serving's
layout from it in seconds.

The repository keeps each artifact once: an entry already in the export dir is
left alone unless ``replace=True``, so re-running ``ship`` after more seeds
finish does not commit a new copy of every model; even then a shipped model of the
entry's current recipe that is at least as good on validation is kept. Runs no better than chance are
refused rather than shipped, and so is a ``_dae`` entry whose best run does not beat its
plain entry's best on validation (pre-training that does not help is weight the zoo need
not carry); a size budget keeps the export dir from growing past what a git repository
should carry.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import pathlib
import shutil

from rectifier_zoo import api, zoo
from rectifier_zoo.hub import model_card, store
from rectifier_zoo.reproduction import results

# What the repository ships by default: the datasets this team can train offline.
DEFAULT_PATTERNS = ("mnist_*", "shapeset_*", "fashion_mnist_*", "cifar10_*")
DEFAULT_BUDGET_MB = 260.0  # exports/ over this is a repository nobody wants to clone (the brief: under 260 MB)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What ``ship`` did, or would do, with one entry."""

    name: str
    action: str  # "shipped", "kept", "refused", "no model"
    detail: str

    def line(self) -> str:
        return f"{self.name}: {self.action} ({self.detail})"


def candidates(result_dirs, patterns=DEFAULT_PATTERNS) -> dict:
    """Full table runs of each entry's current recipe and L1 with a saved ``.keras`` beside them,
    grouped by entry, best validation error first."""
    return _shippable(table_runs(result_dirs), patterns)


def _shippable(runs, patterns) -> dict:
    """``candidates`` from runs already read."""
    found = {}
    for r in runs:
        if not pathlib.Path(r["path"]).with_suffix(".keras").is_file():
            continue
        if any(fnmatch.fnmatchcase(r["name"], p) for p in patterns):
            found.setdefault(r["name"], []).append(r)
    return {name: sorted(runs, key=lambda r: r["valid_error"]) for name, runs in sorted(found.items())}


def table_runs(result_dirs) -> list:
    """The full table runs of each entry's current recipe and L1 (saved model or not)."""
    loaded, _ = results.load_results(result_dirs)
    return [r for r in loaded if results.mode(r) == "full" and not results.is_sweep(r) and results.on_current_recipe(r)]


def pre_training_unhelpful(name, best, runs) -> str | None:
    """Why the ``_dae`` entry ``name`` must not ship its ``best`` run; None when it may.

    It may when that run beats the best of its plain entry's ``runs`` (``table_runs``) on
    validation; with no plain run to compare against, it waits for one.
    """
    if not name.endswith("_dae"):
        return None
    plain = name.removesuffix("_dae")
    rivals = [r["valid_error"] for r in runs if r["name"] == plain]
    if not rivals:
        return f"{plain} has no full run to compare with; train it first (a _dae entry ships only if it beats it)"
    if best["valid_error"] >= min(rivals):
        return (f"valid {best['valid_error']:.2%} does not beat {plain}'s {min(rivals):.2%}: "
                "a _dae entry ships only when pre-training helps on validation")
    return None


def folder_mb(path) -> float:
    path = pathlib.Path(path)
    if not path.exists():
        return 0.0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def ship(result_dirs, export_dir="exports", patterns=DEFAULT_PATTERNS, replace=False, budget_mb=DEFAULT_BUDGET_MB, say=print):
    """Export the best full run of every matching entry into ``export_dir``.

    Args:
        result_dirs: directories of result JSONs with ``.keras`` files beside them.
        export_dir: the TF Serving model base folder (``exports``).
        patterns: fnmatch patterns of the entries to ship.
        replace: re-export an entry already shipped (its old versions are removed).
        budget_mb: refuse entries that would grow ``export_dir`` past this many
            megabytes (the others are still shipped).
        say: where one line per entry goes.

    Returns:
        The ``Decision`` per entry.

    Example:

    >>> ship(["reproduction/results"], "exports")
    [Decision(name='fashion_mnist_rect_l1', action='shipped', detail='seed 1, valid 10.0%, test 10.5% -> exports/...')]
    """
    export_dir = pathlib.Path(export_dir)
    decisions = []
    every_run = table_runs(result_dirs)  # read once: the _dae rule compares with runs --entries may leave out
    for name, runs in _shippable(every_run, patterns).items():
        unhelpful = pre_training_unhelpful(name, runs[0], every_run)
        if unhelpful:
            decision = Decision(name, "refused", unhelpful)
        else:
            decision = _ship_one(name, runs[0], export_dir, replace, budget_mb)
        say(decision.line())
        decisions.append(decision)
    if not decisions:
        say(f"nothing to ship: no full run with a saved model matches {', '.join(patterns)} "
            "(train with `rectifier-zoo reproduce --save-models`)")
    if any(d.action == "shipped" for d in decisions):
        say(f"{export_dir} is {folder_mb(export_dir):.0f} MB:\n{table(export_dir)}")
    return decisions


def _ship_one(name, best, export_dir, replace, budget_mb) -> Decision:
    seed = (best.get("hyperparameters") or {}).get("seed")
    facts = f"seed {seed}, valid {best['valid_error']:.2%}, test {best['test_error']:.2%}"
    if results.learned_nothing(best):
        return Decision(name, "refused", f"{facts}: no better than chance ({results.chance_error(name):.1%} error)")
    shipped = store.versions(export_dir / name)
    if shipped and not replace:
        return Decision(name, "kept", f"version {max(shipped)} already shipped; --replace to ship {facts}")
    if shipped and (better := _shipped_at_least_as_good(export_dir / name / str(max(shipped)), best)):
        return Decision(name, "kept", f"version {max(shipped)} ({better}) is at least as good on validation as {facts}")
    grown = folder_mb(export_dir) - folder_mb(export_dir / name) + export_mb(name)
    if grown > budget_mb:
        return Decision(name, "refused", f"{facts}: {export_dir} would grow to about {grown:.0f} MB, over the "
                        f"{budget_mb:.0f} MB budget; ship fewer entries (--entries) or raise --budget-mb")
    keras_file = pathlib.Path(best["path"]).with_suffix(".keras")
    result = {k: v for k, v in best.items() if k != "path"}
    # A new version number, so a server or cache holding the old one sees the change.
    version = max(shipped) + 1 if shipped else None
    target = api.export(keras_file, export_dir, name=name, version=version, result=result, verbose=0, saved_model=False)
    for old in shipped:  # only after the new one is whole: the repository keeps one copy
        shutil.rmtree(export_dir / name / str(old))
    if shipped:
        store.update_manifest(export_dir)
    return Decision(name, "shipped", f"{facts} -> {target}")


def _shipped_at_least_as_good(version_dir, best):
    """The shipped version's seed and validation error, in words, if ``--replace`` must keep it.

    A shipped model of the entry's current recipe and L1 with a validation error no
    higher than ``best``'s stays: its run's ``.keras`` may be gone from the results
    (trained on another machine), and a replace must never swap the best model for
    a worse one. One of an older recipe or L1 is replaced whatever its error.
    """
    card = model_card.read(version_dir)
    valid = (card.get("metrics") or {}).get("valid_error")
    hp = card.get("hyperparameters") or {}
    as_run = {"name": card.get("name"), "dataset": card.get("dataset"), "hyperparameters": hp}
    if valid is None or not results.on_current_recipe(as_run) or valid > best["valid_error"]:
        return None
    return f"seed {hp.get('seed')}, valid {valid:.2%}"


def export_mb(name) -> float:
    """About how big a shipped export of ``name`` is: one float32 copy of its weights (the .keras file)."""
    return 4 * zoo.get_spec(name, tuned=False).parameters / 1e6


def table(export_dir="exports") -> str:
    """The shipped entries as a Markdown table (test and validation error, zeros, L1, seed, MB), from their cards."""
    from rectifier_zoo.hub import model_card

    export_dir = pathlib.Path(export_dir)
    rows = ["| entry | test error | validation error | zeros per layer (test) | L1 | seed | version | MB |",
            "|---|---|---|---|---|---|---|---|"]
    for model_dir in store.model_dirs(export_dir):
        version = max(store.versions(model_dir))
        card = model_card.read(model_dir / str(version))
        metrics, hp = card["metrics"], card.get("hyperparameters") or {}
        zeros = " / ".join(f"{100 * s['zeros']:.1f}" for s in (metrics.get("sparsity") or {}).values())
        rows.append(
            f"| `{model_dir.name}` | {metrics['test_error']:.2%} | {metrics['valid_error']:.2%} | {zeros}% "
            f"| {hp.get('l1', 0):g} | {hp.get('seed', '—')} | {version} | {folder_mb(model_dir):.1f} |"
        )
    return "\n".join(rows)

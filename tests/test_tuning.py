"""Tuning: small real KerasTuner searches of zoo entries, end to end.

Tiny data (3 Gaussian blobs in 20 dimensions, 300 training examples), tiny widths
(hidden=(16, 16)) and 1-3 epochs keep every search to seconds; the kill -9,
chief + workers and JAX tests run searches in subprocesses bounded by timeouts.
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import time
import types

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_tuner as kt  # noqa: E402

from rectifier_zoo import tuning, zoo  # noqa: E402
from rectifier_zoo.errors import ConfigError, TuningError  # noqa: E402
from rectifier_zoo.tuning import chief, project, searching, tuner  # noqa: E402
from rectifier_zoo.tuning.tuner import values_key  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # KerasTuner 1.4.8 calls threading.currentThread()
TINY = {"space": tuning.SearchSpace(hidden=(16, 16)), "epochs": 2, "batch_size": 10, "progress": True}


def tiny(**space):
    """TINY with these search-space fields (the hidden sizes stay tiny)."""
    return {**TINY, "space": tuning.SearchSpace(hidden=(16, 16), **space)}

# tiny_splits(), defined once for this process and the searches' child processes (they import
# tests/toydata.py too): 3 unclipped blobs in 20 dimensions, N(0, 1) centres, unit noise.
BLOBS_SRC = f"""
import sys
if {str(REPO / "tests")!r} not in sys.path:
    sys.path.insert(0, {str(REPO / "tests")!r})
import numpy as np
from toydata import blob_splits

def tiny_splits():
    centres = np.random.default_rng(0).normal(0.0, 1.0, (3, 20))
    return blob_splits(300, 100, 100, spread=1.0, centres=centres, source="test")
"""
_ns: dict = {}
exec(BLOBS_SRC, _ns)
tiny_splits = _ns["tiny_splits"]


@pytest.fixture(autouse=True)
def _isolated_search(zoo_home, tmp_path, monkeypatch):
    """The zoo home (conftest.py), the search records and the distributed-tuning variables are the test's own."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setattr(zoo, "TUNED_DIR", tmp_path / "results")
    for key in chief.ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


def trial_states(project_dir):
    """trial_id -> state dict, read from the trial.json files KerasTuner writes."""
    found = {}
    for path in pathlib.Path(project_dir).glob("trial_*/trial.json"):
        state = json.loads(path.read_text())
        found[state["trial_id"]] = state
    return found


def subprocess_env(tmp_path, **extra):
    env = {**os.environ, "RECTIFIER_ZOO_HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    for key in chief.ENV_KEYS:
        env.pop(key, None)
    env.update(extra)
    return env


def script(body):
    return BLOBS_SRC + textwrap.dedent(body)


# ------------------------------------------------------------------ search space


def test_l1_entry_space_reaches_zero_and_uses_log_scales():
    hm = tuning.ZooHyperModel("mnist_rect_l1", tuning.SearchSpace(hidden=(16, 16)))
    hp = kt.HyperParameters()
    model = hm.build(hp)
    space = {p.name: p for p in hp.space}
    assert sorted(space) == ["l1", "learning_rate", "use_l1"]
    assert space["learning_rate"].sampling == "log" and space["l1"].sampling == "log"
    assert (space["l1"].min_value, space["l1"].max_value) == (1e-5, 1e-2)
    assert [layer.name for layer in model.layers if layer.name.endswith("_l1")] == ["hidden_1_l1", "hidden_2_l1"]
    assert tuning.effective_values(hm, {"learning_rate": 0.1, "use_l1": False, "l1": 0.004}) == {
        "learning_rate": 0.1,
        "l1": 0.0,
    }
    assert hm.recipe(hp, epochs=3).epochs == 3


def test_grid_is_the_papers_and_dae_entries_tune_pretraining():
    hm = tuning.ZooHyperModel("mnist_rect_l1_dae", tuning.SearchSpace(grid=True, hidden=(8,)))
    hp = kt.HyperParameters()
    hm.build(hp)
    space = {p.name: p for p in hp.space}
    assert list(space["learning_rate"].values) == [0.1, 0.01, 0.001, 0.0001]
    assert list(space["pretrain_learning_rate"].values) == [0.1, 0.01, 0.001, 0.0001]
    assert 0.0 in space["l1"].values and max(space["l1"].values) == 0.01
    recipe = hm.recipe({"learning_rate": 0.001, "l1": 0.0, "pretrain_learning_rate": 0.1})
    assert (recipe.learning_rate, recipe.pretrain.learning_rate) == (0.001, 0.1)
    plain = kt.HyperParameters()
    tuning.ZooHyperModel("mnist_tanh").declare(plain)
    assert [p.name for p in plain.space] == ["learning_rate"]


def test_exact_grids_of_your_own_replace_the_ranges():
    hm = tuning.ZooHyperModel("mnist_rect_l1", tuning.SearchSpace(grid=(0.1, 0.03), l1_grid=(0.0, 3e-4, 1e-3), hidden=(8,)))
    hp = kt.HyperParameters()
    hm.build(hp)
    space = {p.name: p for p in hp.space}
    assert sorted(space) == ["l1", "learning_rate"]  # no use_l1 switch: 0 is one of the values
    assert list(space["learning_rate"].values) == [0.1, 0.03]
    assert list(space["l1"].values) == [0.0, 3e-4, 1e-3]
    assert tuning.effective_values(hm, {"learning_rate": 0.03, "l1": 0.0}) == {"learning_rate": 0.03, "l1": 0.0}


def test_cli_grids_parse_into_the_search(monkeypatch):
    seen = {}
    monkeypatch.setattr(tuning, "search", lambda name, space, **kw: seen.update(kw, space=space) or tuning.SearchOutcome(name, "worker", None))
    from rectifier_zoo.cli import main

    assert main(["tune", "mnist_rect_l1", "--learning-rates", "0.1,0.01", "--l1-values", "0,1e-3", "--no-retrain"]) == 0
    assert seen["space"] == tuning.SearchSpace(grid=(0.1, 0.01), l1_grid=(0.0, 1e-3)) and seen["retrain"] is False
    with pytest.raises(SystemExit):
        main(["tune", "mnist_rect_l1", "--l1-values", "0,-1"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"learning_rate": (0.1, 0.001)}, "empty or inverted"),
        ({"learning_rate": (0.01, 0.01)}, "empty or inverted"),
        ({"l1": (0.0, 0.01)}, "0 < low < high"),
        ({"grid": ()}, "grid is empty"),
        ({"grid": 0.1}, "grid must be a sequence of numbers"),
        ({"hidden": ()}, "at least one layer size"),
    ],
)
def test_bad_ranges_are_one_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        tuning.SearchSpace(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"max_trials": -1}, ConfigError, r"max_trials must lie in \[1"),
        ({"tuner": "randm"}, ConfigError, "did you mean 'random'"),
        ({"chief": True}, ConfigError, "HOST:PORT"),
        ({"chief": True, "worker": "1", "oracle": "127.0.0.1:1"}, ConfigError, "not both"),
        ({"worker": "chief2", "oracle": "127.0.0.1:1"}, ConfigError, "not contain 'chief'"),
    ],
)
def test_bad_search_arguments_fail_before_any_work(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        tuning.search("shapeset_rect", splits=tiny_splits(), project_dir=tmp_path / "p", **kwargs)
    assert not (tmp_path / "p").exists()


def test_bayesian_without_scikit_learn_is_one_tuning_error(tmp_path, monkeypatch):
    from keras_tuner.src.tuners import bayesian

    monkeypatch.setattr(bayesian, "sklearn", None)  # as on a machine without it
    with pytest.raises(TuningError, match="bayesian tuner needs scikit-learn"):
        tuning.make_oracle("bayesian", max_trials=2, epochs=1, seed=0)
    assert type(tuning.make_oracle("hyperband", max_trials=2, epochs=3, seed=0)).__name__ == "HyperbandOracle"


# ------------------------------------------------------------------ searches


def test_search_records_best_and_says_how_to_adopt_it(tmp_path):
    out = tuning.search("shapeset_rect_l1", splits=tiny_splits(), max_trials=3, project_dir=tmp_path / "p", **TINY)
    assert out.results_path == tmp_path / "p" / "shapeset_rect_l1.json"  # where the search runs
    record = json.loads(out.results_path.read_text())
    assert set(project.RESULT_KEYS) <= set(record)
    assert record["trials"] == 3 and record["completed"] == 3 and record["tuner"] == "random"
    assert (record["quick"], record["epochs_per_trial"], record["train_examples"]) == (False, 2, 300)
    assert set(record["hyperparameters"]) == {"learning_rate", "l1"}
    assert 1e-4 <= record["hyperparameters"]["learning_rate"] <= 0.1
    assert 0.0 <= record["val_error"] <= 1.0 and sorted(record["sparsity"]) == ["hidden_1", "hidden_2"]
    # the retrained best model was evaluated on test once
    assert out.result.model.name == "shapeset_rect_l1"
    assert record["retrained"]["test_error"] == pytest.approx(out.result.test_error)
    # every trial carries its per-layer sparsity and val_error as metrics
    states = trial_states(out.project_dir)
    for state in states.values():
        metrics = state["metrics"]["metrics"]
        for key in ("val_error", "hidden_1_zeros", "hidden_2_zeros", "sparsity", "final_hidden_1_zeros"):
            assert key in metrics, key
        history = json.loads((out.project_dir / f"trial_{state['trial_id']}" / "history.json").read_text())
        assert len(history["val_error"]) == 2 and len(history["hidden_2_zeros"]) == 2
    best = states[record["best_trial"]]
    assert best["score"] == pytest.approx(record["val_error"])
    # the record changes no entry until it is adopted into zoo.TUNED; adoption() writes that line
    spec = zoo.get_spec("shapeset_rect_l1")
    adopted_before = zoo.TUNED["shapeset_rect_l1"]  # the search this repository adopted, not this test's
    assert (spec.recipe.learning_rate, spec.l1) == (adopted_before.learning_rate, adopted_before.l1)
    assert spec.tuned is adopted_before
    hp = record["hyperparameters"]
    line = project.adoption(record).splitlines()[1].strip()
    assert line == (f'"shapeset_rect_l1": Tuned(l1={hp["l1"]!r}, learning_rate={hp["learning_rate"]!r}, '
                    'record="tuning/results/shapeset_rect_l1.json"),')
    adopted = eval(line.split(": ", 1)[1].rstrip(","), {"Tuned": zoo.Tuned})  # the line is valid code
    assert zoo.apply_tuned(spec, adopted.values()).recipe.learning_rate == hp["learning_rate"]


def test_the_test_split_is_never_seen_by_a_search(tmp_path):
    splits = tiny_splits()
    x_test, y_test = splits.test
    # Splits refuses NaN, so poison the test part after construction: any trial
    # touching it would get NaN statistics or errors.
    object.__setattr__(splits, "test", (np.full_like(x_test, np.nan), np.full_like(y_test, 99)))
    out = tuning.search(
        "shapeset_rect", splits=splits, max_trials=2, project_dir=tmp_path / "p", retrain=False, **TINY
    )
    assert out.record["completed"] == 2
    assert np.isfinite(out.record["val_error"])
    assert all(np.isfinite(v) for v in out.record["sparsity"].values())
    assert out.result is None


def test_a_grid_knows_how_many_trials_it_holds():
    from rectifier_zoo.tuning.hypermodel import ZooHyperModel

    from rectifier_zoo.tuning.hypermodel import SearchSpace

    assert ZooHyperModel("mnist_rect_l1", SearchSpace(grid=(0.1, 0.01), l1_grid=(0, 1e-3))).grid_size() == 4
    assert ZooHyperModel("mnist_rect", SearchSpace(grid=(0.1, 0.03, 0.01))).grid_size() == 3  # no L1 to search
    assert ZooHyperModel("mnist_rect_l1_dae", SearchSpace(grid=True)).grid_size() == 4 * 5 * 4  # rate x L1 x pre-training rate
    assert ZooHyperModel("mnist_rect").grid_size() is None  # a log-scale range never runs out


def test_diverging_trial_is_recorded_failed_and_search_goes_on(tmp_path, capsys):
    out = tuning.search(
        "shapeset_rect", tuner="grid", splits=tiny_splits(), max_trials=5,
        project_dir=tmp_path / "p", retrain=False, **tiny(grid=(1e5, 0.01)),
    )
    printed = capsys.readouterr().out
    assert "trial 1/2: lr=1e+05 -> failed: diverged" in printed  # a grid of 2 runs 2 trials, whatever max_trials
    assert "trial 2/2: lr=0.01 -> val error" in printed
    assert out.record["hyperparameters"] == {"learning_rate": 0.01}
    assert out.record["failed"][0]["reason"].startswith("diverged: the loss became NaN or inf in epoch 1")
    states = trial_states(out.project_dir)
    assert sorted(s["status"] for s in states.values()) == ["COMPLETED", "FAILED"]
    # every trial is in the record with its values and validation error, the failed one with none
    rows = {row["hyperparameters"]["learning_rate"]: row for row in out.record["all_trials"]}
    assert rows[1e5]["status"] == "FAILED" and rows[1e5]["val_error"] is None
    assert rows[0.01]["val_error"] == pytest.approx(out.record["val_error"])


def test_all_trials_failing_is_one_tuning_error(tmp_path):
    with pytest.raises(TuningError, match="consecutive failures|no trial .* completed"):
        tuning.search(
            "shapeset_rect", tuner="grid", splits=tiny_splits(),
            project_dir=tmp_path / "p", max_consecutive_failed_trials=2, retrain=False, **tiny(grid=(1e5, 1e6)),
        )


def test_project_dir_of_another_entry_or_tuner_is_refused(tmp_path):
    project.claim_project(tmp_path / "p", "mnist_rect", "random")
    with pytest.raises(TuningError, match="belongs to the search of 'mnist_rect', not 'shapeset_rect'"):
        tuning.search("shapeset_rect", splits=tiny_splits(), project_dir=tmp_path / "p", **TINY)
    with pytest.raises(TuningError, match="--tuner random"):
        project.claim_project(tmp_path / "p", "mnist_rect", "bayesian")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(TuningError, match="not a rectifier-zoo search"):
        project.claim_project(tmp_path / "other", "mnist_rect", "random")


def test_results_file_that_does_not_parse_is_one_error(tmp_path):
    path = tmp_path / "r" / "shapeset_rect.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(TuningError, match=r"shapeset_rect.json does not parse .*delete it"):
        tuning.search("shapeset_rect", splits=tiny_splits(), project_dir=tmp_path / "p", results_dir=tmp_path / "r", **TINY)
    assert not (tmp_path / "p").exists()
    path.write_text(json.dumps({"name": "shapeset_rect", "hyperparameters": {}}))
    with pytest.raises(TuningError, match="missing keys"):
        tuning.load_result("shapeset_rect", tmp_path / "r")


def test_results_dir_redirects_the_record(tmp_path):
    out = tuning.search(
        "shapeset_tanh", splits=tiny_splits(), max_trials=1, project_dir=tmp_path / "p",
        results_dir=tmp_path / "elsewhere", retrain=False, **TINY,
    )
    assert out.results_path == tmp_path / "elsewhere" / "shapeset_tanh.json"
    assert tuning.load_result("shapeset_tanh", tmp_path / "elsewhere")["name"] == "shapeset_tanh"
    assert not (zoo.TUNED_DIR / "shapeset_tanh.json").exists() and not (tmp_path / "p" / "shapeset_tanh.json").exists()


# ------------------------------------------------------------------ a search writes where it runs; recording


def real_record(name="shapeset_rect_l1"):
    """The repository's record of the real search of ``name``, copied into the test's zoo.TUNED_DIR; its text."""
    text = (REPO / "tuning" / "results" / f"{name}.json").read_text()
    zoo.TUNED_DIR.mkdir(parents=True, exist_ok=True)
    (zoo.TUNED_DIR / f"{name}.json").write_text(text)
    return text


def test_a_quick_search_writes_where_it_runs_not_over_the_record_of_the_real_one(tmp_path, capsys):
    """Issue #29: `tune shapeset_rect_l1 --quick --max-trials 3 --project-dir /some/tmp` rewrote tuning/results/."""
    from rectifier_zoo.cli import main

    real = real_record()
    argv = ["tune", "shapeset_rect_l1", "--quick", "--max-trials", "2", "--project-dir", str(tmp_path / "p"),
            "--hidden", "16,16", "--epochs", "1", "--batch-size", "100", "--no-retrain"]  # fmt: skip
    assert main(argv) == 0
    assert (zoo.TUNED_DIR / "shapeset_rect_l1.json").read_text() == real  # the real search's record, untouched
    mine = tuning.load_result("shapeset_rect_l1", tmp_path / "p")
    assert (mine["quick"], mine["trials"]) == (True, 2)
    printed = capsys.readouterr().out
    assert f"to record this search in tuning/results/: rectifier-zoo record shapeset_rect_l1 --from {tmp_path / 'p' / 'shapeset_rect_l1.json'}" in printed


def test_a_search_without_a_project_dir_writes_into_the_zoo_home(zoo_home):
    out = tuning.search("shapeset_tanh", splits=tiny_splits(), max_trials=1, retrain=False, **TINY)
    assert out.results_path == zoo_home / "tuning" / "shapeset_tanh" / "shapeset_tanh.json"
    assert out.project_dir == out.results_path.parent and not zoo.TUNED_DIR.exists()


def test_a_search_does_not_write_into_the_repositorys_records(tmp_path, capsys):
    zoo.TUNED_DIR.mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"is the repository's tuning/results/, which a search does not write: leave results_dir out"):
        tuning.search("shapeset_rect", splits=tiny_splits(), project_dir=tmp_path / "p", results_dir=zoo.TUNED_DIR, **TINY)
    from rectifier_zoo.cli import main

    assert main(["tune", "shapeset_rect", "--results-dir", str(zoo.TUNED_DIR), "--project-dir", str(tmp_path / "p")]) == 2
    assert "leave --results-dir out (the record stays in the project dir) and add --record" in capsys.readouterr().err
    assert not (tmp_path / "p").exists() and list(zoo.TUNED_DIR.iterdir()) == []


def small_record(folder, **changes):
    """A --quick search's record of shapeset_rect_l1 (3 trials of 1 epoch) in ``folder``."""
    record = {"name": "shapeset_rect_l1", "hyperparameters": {"learning_rate": 0.1, "l1": 0.0}, "val_error": 0.6,
              "sparsity": {}, "trials": 3, "completed": 3, "tuner": "random", "date": "d", "versions": {},
              "epochs_per_trial": 1, "quick": True, "train_examples": 1000, **changes}  # fmt: skip
    project.write_result(record, folder)
    return record


def test_recording_refuses_to_replace_a_fuller_search_unless_told(tmp_path, capsys):
    from rectifier_zoo.cli import main

    real = real_record()  # 11 completed trials of 8 epochs, not quick
    small_record(tmp_path / "p")
    with pytest.raises(TuningError, match=(
            r"shapeset_rect_l1.json records a fuller search than this one \(a --quick search against a full one; "
            r"completed trials: 3 against 11; epochs per trial: 1 against 8\); keep it, or pass replace=True")):
        tuning.record("shapeset_rect_l1", tmp_path / "p")
    assert main(["record", "shapeset_rect_l1", "--from", str(tmp_path / "p")]) == 2
    assert "keep it, or pass --replace to replace it" in capsys.readouterr().err
    assert (zoo.TUNED_DIR / "shapeset_rect_l1.json").read_text() == real
    assert main(["record", "shapeset_rect_l1", "--from", str(tmp_path / "p"), "--replace"]) == 0  # on purpose
    assert f"recorded in {zoo.TUNED_DIR / 'shapeset_rect_l1.json'}" in capsys.readouterr().out
    assert tuning.load_result("shapeset_rect_l1") == tuning.load_result("shapeset_rect_l1", tmp_path / "p")
    # a search at least as full in every way replaces it without being told
    fuller = small_record(tmp_path / "q", trials=12, completed=12, epochs_per_trial=8, quick=False)
    assert tuning.record("shapeset_rect_l1", tmp_path / "q" / "shapeset_rect_l1.json") == zoo.TUNED_DIR / "shapeset_rect_l1.json"
    assert tuning.load_result("shapeset_rect_l1") == fuller


def test_a_record_of_runs_that_do_not_say_their_length_is_kept(tmp_path):
    real_record("mnist_tanh_dae")  # full runs recorded by hand: no epochs_per_trial
    small_record(tmp_path / "p", name="mnist_tanh_dae", quick=False, trials=9, completed=9, epochs_per_trial=60)
    with pytest.raises(TuningError, match=r"does not say its epochs per trial"):
        tuning.record("mnist_tanh_dae", tmp_path / "p")


def test_recording_what_is_not_there_or_not_the_entrys_is_one_error(tmp_path):
    with pytest.raises(TuningError, match=r"no record of a search at .*nothing.shapeset_rect_l1.json; run the search first"):
        tuning.record("shapeset_rect_l1", tmp_path / "nothing")
    small_record(tmp_path / "p")
    with pytest.raises(TuningError, match=r"records a search of 'shapeset_rect_l1', not 'shapeset_rect'"):
        tuning.record("shapeset_rect", tmp_path / "p" / "shapeset_rect_l1.json")


def test_nothing_is_recorded_into_an_installed_package(tmp_path, monkeypatch):
    from rectifier_zoo._internal import paths

    installed = tmp_path / "site-packages"
    (installed / "rectifier_zoo").mkdir(parents=True)
    monkeypatch.setattr(paths, "REPO_ROOT", installed)  # as from a wheel: no checkout around the package
    small_record(tmp_path / "p")
    with pytest.raises(TuningError, match=r"this rectifier_zoo is installed .*site-packages.*, not a checkout"):
        tuning.record("shapeset_rect_l1", tmp_path / "p", replace=True)
    assert not zoo.TUNED_DIR.exists() and list(installed.rglob("*.json")) == []


def test_tune_record_refuses_a_quick_search_over_a_full_one_before_it_starts(tmp_path, capsys):
    from rectifier_zoo.cli import main

    real = real_record()
    assert main(["tune", "shapeset_rect_l1", "--quick", "--record", "--project-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "records a fuller search than this one (a --quick search against a full one)" in err and "--replace" in err
    assert not (tmp_path / "p").exists() and (zoo.TUNED_DIR / "shapeset_rect_l1.json").read_text() == real
    assert main(["tune", "shapeset_rect_l1", "--replace"]) == 2
    assert "--replace goes with --record" in capsys.readouterr().err


def test_export_goes_through_exporting_with_the_result(monkeypatch, tmp_path):
    from rectifier_zoo.hub import export as exporting

    calls = []
    monkeypatch.setattr(exporting, "export_version", lambda model, export_dir, result=None: calls.append((model, export_dir, result)) or "v1")
    result = types.SimpleNamespace(model="MODEL")
    assert searching.export_best(result, tmp_path / "x") == "v1"
    assert calls == [("MODEL", tmp_path / "x", result)]


# ------------------------------------------------------------------ KerasTuner internals


def parameters(function):
    return list(inspect.signature(function).parameters)


def test_the_kerastuner_internals_we_override_are_there():
    """The private KerasTuner names tuner.py relies on (see its docstring), as we call or override them."""
    from keras_tuner.engine.base_tuner import BaseTuner
    from keras_tuner.src import config

    assert parameters(kt.Oracle._save_trial) == ["self", "trial"]  # overridden: trial.json, atomically
    assert parameters(kt.Oracle._get_trial_dir) == ["self", "trial_id"]
    assert parameters(kt.Oracle._get_oracle_fname) == ["self"]  # where Oracle.reload reads
    assert parameters(BaseTuner._get_tuner_fname) == ["self"]  # where BaseTuner.__init__ reloads from
    assert parameters(BaseTuner._is_worker) == ["self"]
    assert isinstance(config.DEBUG, bool)  # on: every failed trial's traceback is printed
    # the public hooks ZooTuner implements, with the signatures KerasTuner calls
    assert parameters(BaseTuner.save_model) == ["self", "trial_id", "model", "step"]
    assert parameters(kt.Tuner.load_model) == ["self", "trial"]
    for oracle in (tuning.make_oracle(name, max_trials=2, epochs=2, seed=0) for name in searching.TUNERS):
        assert type(oracle)._save_trial is tuner._AtomicOracle._save_trial and type(oracle).save is tuner._AtomicOracle.save


def test_our_overrides_write_the_state_atomically_and_keep_failures_quiet(tmp_path, monkeypatch, capfd):
    """A tiny search (one diverging trial) goes through every override, and KerasTuner writes no state itself."""
    from keras_tuner.src import config, utils

    from rectifier_zoo._internal import atomic

    written, saved, kerastuner_writes = [], {}, []
    real_write_text, real_save_model = atomic.write_text, tuner.ZooTuner.save_model
    monkeypatch.setattr(atomic, "write_text", lambda path, text, *a, **k: written.append(pathlib.Path(path)) or real_write_text(path, text, *a, **k))
    monkeypatch.setattr(utils, "save_json", lambda path, obj: kerastuner_writes.append(path))

    def spy_save_model(self, trial_id, model, step=0):
        saved[trial_id] = (self, [w.copy() for w in model.get_weights()])
        return real_save_model(self, trial_id, model, step)

    monkeypatch.setattr(tuner.ZooTuner, "save_model", spy_save_model)
    debug = config.DEBUG
    kwargs = dict(tuner="grid", splits=tiny_splits(), max_trials=2, project_dir=tmp_path / "p",
                  retrain=False, **tiny(grid=(1e5, 0.01)))
    out = tuning.search("shapeset_rect", **kwargs)
    assert out.record["completed"] == 1 and len(out.record["failed"]) == 1
    assert "Traceback" not in capfd.readouterr().err and config.DEBUG is debug  # quiet, then restored
    assert kerastuner_writes == []
    for name in ("oracle.json", "tuner0.json", "trial_0/trial.json", "trial_1/trial.json"):
        assert out.project_dir / name in written, name
    # get_best_models (KerasTuner's public way back to a trial's model) reads what save_model wrote
    (best_id,) = [trial_id for trial_id, state in trial_states(out.project_dir).items() if state["status"] == "COMPLETED"]
    zoo_tuner, weights = saved[best_id]
    for got, expected in zip(zoo_tuner.get_best_models(1)[0].get_weights(), weights):
        np.testing.assert_array_equal(got, expected)
    # and a second run reloads the state files it wrote: nothing is run again
    monkeypatch.setattr(tuner.ZooTuner, "run_trial", lambda *a, **k: pytest.fail("a finished search ran a trial"))
    assert tuning.search("shapeset_rect", **kwargs).record["trials"] == 2


def test_the_kerastuner_chief_pieces_we_build_on_are_there():
    """chief.serve builds KerasTuner's own gRPC servicer (see its docstring)."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    oracle = tuning.make_oracle("random", max_trials=1, epochs=1, seed=0)
    servicer = oracle_chief.OracleServicer(oracle)
    assert servicer.stop_triggered is False and oracle_chief.exit_chief(oracle) is True
    assert parameters(protos.get_service_grpc().add_OracleServicer_to_server) == ["servicer", "server"]
    with socket.socket() as taken:  # a port the chief cannot bind: one error that names the fix
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        stub = types.SimpleNamespace(oracle=oracle, save=lambda: None)
        with pytest.raises(TuningError, match="cannot listen on 127.0.0.1:.*pick another --oracle"):
            chief.serve(stub, "127.0.0.1", taken.getsockname()[1], progress=False)


# ------------------------------------------------------------------ resume


KILL_SCRIPT = """
import sys
from rectifier_zoo import tuning
tuning.search("shapeset_rect_l1", tuning.SearchSpace(hidden=(16, 16)), splits=tiny_splits(), max_trials=3,
              project_dir=sys.argv[1], results_dir=sys.argv[2], epochs=4, batch_size=10, retrain=False)
"""


def test_kill_9_mid_search_then_resume_loses_nothing(tmp_path, monkeypatch):
    project_dir = tmp_path / "p"
    proc = subprocess.Popen(
        [sys.executable, "-c", script(KILL_SCRIPT), str(project_dir), str(tmp_path / "r")],
        env=subprocess_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    killed_at = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            states = trial_states(project_dir)
            done = {i: s for i, s in states.items() if s["status"] == "COMPLETED"}
            done_keys = {values_key(s["hyperparameters"]["values"]) for s in done.values()}
            running = [
                p for p in (project_dir / "checkpoints").glob("*/state.json") if p.parent.name not in done_keys
            ] if done else []
            if done and running:  # a trial finished and the next is mid-way, with a checkpoint
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = {"done": done, "checkpoint": running[0].parent.name}
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=30)[0].decode()
    assert killed_at is not None, f"the search ended or stalled before it could be killed:\n{output[-2000:]}"

    # Resume in this process; spy on training.fit to see the interrupted trial resume.
    from rectifier_zoo.training import checkpoint, fit as training

    starts = []
    real_fit = training.fit

    def spy_fit(model, splits, recipe, **kwargs):
        state = checkpoint.load_state(kwargs["checkpoint_dir"])
        starts.append((pathlib.Path(kwargs["checkpoint_dir"]).name, None if state is None else state["epoch"]))
        return real_fit(model, splits, recipe, **kwargs)

    monkeypatch.setattr(training, "fit", spy_fit)
    out = tuning.search(
        "shapeset_rect_l1", tuning.SearchSpace(hidden=(16, 16)), splits=tiny_splits(), max_trials=3,
        project_dir=project_dir, results_dir=tmp_path / "r", epochs=4, batch_size=10, retrain=False,
    )
    after = trial_states(project_dir)
    assert len(after) == 3 and all(s["status"] == "COMPLETED" for s in after.values())
    for trial_id, state in killed_at["done"].items():  # finished trials kept, not rerun
        assert after[trial_id]["score"] == state["score"]
        assert after[trial_id]["hyperparameters"]["values"] == state["hyperparameters"]["values"]
    assert len(starts) == 3 - len(killed_at["done"])
    first_key, first_epoch = starts[0]
    assert first_key == killed_at["checkpoint"] and first_epoch is not None and first_epoch >= 0
    assert out.record["trials"] == 3


# ------------------------------------------------------------------ distributed


DIST_SCRIPT = """
import pathlib, sys, time
from rectifier_zoo import tuning
role, project_dir, oracle, barrier, results_dir = sys.argv[1:6]
kwargs = dict(space=tuning.SearchSpace(hidden=(16, 16)), splits=tiny_splits(), max_trials=4, project_dir=project_dir, epochs=1,
              batch_size=10, retrain=False, oracle=oracle, results_dir=results_dir)
if role == "chief":
    out = tuning.search("shapeset_rect", chief=True, **kwargs)
    print("CHIEF DONE", out.record["trials"], out.record["completed"])
else:
    # start both workers' searches together, after their slow imports
    pathlib.Path(barrier, role).touch()
    while len(list(pathlib.Path(barrier).iterdir())) < 2:
        time.sleep(0.05)
    tuning.search("shapeset_rect", worker=role, **kwargs)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # three processes, each importing TensorFlow
def test_chief_and_two_workers_on_loopback(tmp_path):
    oracle = f"127.0.0.1:{free_port()}"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = subprocess_env(tmp_path)
    procs = {
        role: subprocess.Popen(
            [sys.executable, "-c", script(DIST_SCRIPT), role, str(tmp_path / "p"), oracle, str(barrier), str(tmp_path / "r")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        for role in ("chief", "a", "b")
    }
    outputs = {}
    try:
        for role, proc in procs.items():
            outputs[role] = proc.communicate(timeout=400)[0].decode()  # a hang guard (150 s was too short when loaded)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    for role, proc in procs.items():
        assert proc.returncode == 0, f"{role} failed:\n{outputs.get(role, '')[-3000:]}"
    assert "CHIEF DONE 4 4" in outputs["chief"]
    ran = {role: [line for line in outputs[role].splitlines() if line.startswith("trial ")] for role in "ab"}
    assert ran["a"] and ran["b"], ran
    assert len(ran["a"]) + len(ran["b"]) == 4
    states = trial_states(tmp_path / "p")
    assert sorted(states) == ["0", "1", "2", "3"] and all(s["status"] == "COMPLETED" for s in states.values())
    assert tuning.load_result("shapeset_rect", tmp_path / "r")["completed"] == 4


# ------------------------------------------------------------------ backends and CLI


JAX_SCRIPT = """
import json, sys
import keras
from rectifier_zoo import tuning
out = tuning.search("shapeset_rect_l1", tuning.SearchSpace(hidden=(16, 16)), splits=tiny_splits(), max_trials=2,
                    project_dir=sys.argv[1], results_dir=sys.argv[2], epochs=1, batch_size=10)
print("RESULT", json.dumps({"backend": keras.backend.backend(), "record": out.record}))
"""


def test_search_runs_on_the_jax_backend(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", script(JAX_SCRIPT), str(tmp_path / "p"), str(tmp_path / "r")],
        env=subprocess_env(tmp_path, KERAS_BACKEND="jax"), capture_output=True, text=True, timeout=150,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    found = json.loads(line[len("RESULT "):])
    assert found["backend"] == "jax" and found["record"]["versions"]["keras_backend"] == "jax"
    assert found["record"]["completed"] == 2 and "test_error" in found["record"]["retrained"]
    assert "tensorflow" not in found["record"]["versions"]["keras_backend"]


def test_cli_tune_quick_on_generated_shapeset_then_record(tmp_path, capsys):
    from rectifier_zoo.cli import main

    code = main([
        "tune", "shapeset_rect", "--quick", "--hidden", "16,16", "--epochs", "1", "--max-trials", "2",
        "--batch-size", "100", "--project-dir", str(tmp_path / "p"), "--results-dir", str(tmp_path / "r"), "--record",
    ])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "trial 1/2: lr=" in printed and "trial 2/2: lr=" in printed and "retrained best:" in printed
    record = tuning.load_result("shapeset_rect", tmp_path / "r")
    assert record["trials"] == 2 and set(record["hyperparameters"]) == {"learning_rate"} and "retrained" in record
    assert f"recorded in {zoo.TUNED_DIR / 'shapeset_rect.json'}" in printed  # --record: no record was there
    assert tuning.load_result("shapeset_rect") == record


def test_cli_errors_are_one_line(tmp_path, capsys):
    from rectifier_zoo.cli import main

    project.claim_project(tmp_path / "p", "mnist_rect", "random")
    assert main(["tune", "shapeset_rect", "--quick", "--project-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rectifier-zoo tune: error: project dir") and "\n" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", "shapeset_rect", "--max-trials", "-2"])
    assert exit_info.value.code == 2
    assert main(["tune", "shapeset_rect", "--worker", "1"]) == 2
    assert "--oracle HOST:PORT" in capsys.readouterr().err


def test_passes_of_one_search_merge_into_one_record_with_every_trial():
    from rectifier_zoo.tuning import project

    def record(tuner, rows):
        best = min(rows, key=lambda r: r[1])
        return {"name": "mnist_rect", "hyperparameters": {"learning_rate": best[0]}, "val_error": best[1],
                "sparsity": {}, "trials": len(rows), "completed": len(rows), "failed": [], "tuner": tuner,
                "date": "d", "versions": {}, "epochs_per_trial": 2,
                "all_trials": [{"hyperparameters": {"learning_rate": lr}, "val_error": e, "status": "COMPLETED"} for lr, e in rows]}

    merged = project.merge_passes([record("grid", [(0.1, 0.0317), (0.01, 0.0369)]), record("grid", [(0.03, 0.029)])])
    assert merged["hyperparameters"] == {"learning_rate": 0.03} and merged["val_error"] == 0.029
    assert [(t["hyperparameters"]["learning_rate"], t["pass"]) for t in merged["all_trials"]] == [(0.1, 1), (0.01, 1), (0.03, 2)]
    assert merged["trials"] == 3 and merged["tuner"] == "grid + grid" and len(merged["passes"]) == 2
    other = {**record("grid", [(0.1, 0.05)]), "epochs_per_trial": 5}
    with pytest.raises(TuningError, match="same epochs per trial"):
        project.merge_passes([record("grid", [(0.1, 0.03)]), other])

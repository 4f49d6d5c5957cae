import json

import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.models import build_classifier
from rectifier_zoo.recipes import PretrainConfig, Recipe
from rectifier_zoo.training import TrainResult, fit, steps_per_execution
from toydata import blob_splits

SPLITS = blob_splits()


def small(l1=0.001, **kwargs):
    return build_classifier(20, 3, hidden=(32, 32), l1=l1, seed=0, name="toy", **kwargs)


def test_a_short_run_is_far_above_chance_and_reports_everything():
    result = fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=4, batch_size=10), verbose=0)
    assert result.test_error < 0.15  # chance is 2/3
    assert result.valid_error < 0.15
    assert result.epochs == 4 and 1 <= result.best_epoch <= 4
    assert set(result.sparsity) == {"hidden_1", "hidden_2"}
    assert all(0.0 <= v["zeros"] <= 1.0 for v in result.sparsity.values())
    assert len(result.history["hidden_1_zeros"]) == 4
    assert result.hyperparameters["learning_rate"] == 0.1 and result.hyperparameters["seed"] == 0
    assert result.versions["keras"].startswith("3.")
    assert result.name == "toy" and result.dataset == "blobs"


def test_pretrained_run_reports_its_pretraining():
    recipe = Recipe(learning_rate=0.1, epochs=2, pretrain=PretrainConfig(epochs=1, learning_rate=0.05))
    result = fit(small(), SPLITS, recipe, verbose=0)
    assert [r["layer"] for r in result.pretraining] == ["hidden_1", "hidden_2"]
    assert result.test_error < 0.3


def test_same_seed_same_result():
    a = fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=2), seed=3, verbose=0)
    b = fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=2), seed=3, verbose=0)
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)


def test_result_round_trips_through_json(tmp_path):
    result = fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=1), verbose=0)
    result.save(tmp_path / "r.json")
    again = TrainResult.load(tmp_path / "r.json")
    assert again.to_dict() == json.loads(json.dumps(result.to_dict()))


def test_checkpointed_run_resumes_after_its_last_epoch(tmp_path):
    recipe = Recipe(learning_rate=0.1, epochs=2, patience=10)
    first = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]["loss"]) == 2
    # "the process died after epoch 2": a new process asks for 4 epochs with the same dir
    resumed = fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=4, patience=10), verbose=0, checkpoint_dir=tmp_path)
    assert resumed.epochs == 4
    assert resumed.history["loss"][:2] == pytest.approx(first.history["loss"])
    # the resumed run continued from the trained weights, not from scratch
    assert resumed.history["loss"][2] < first.history["loss"][0]


def test_a_finished_run_is_not_trained_again(tmp_path):
    recipe = Recipe(learning_rate=0.1, epochs=3)
    first = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    again = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    assert again.epochs == first.epochs
    assert again.test_error == first.test_error


def test_wrong_width_is_refused_before_training():
    with pytest.raises(ConfigError, match="dataset 'blobs' has 20 features but model 'w' takes 7"):
        fit(build_classifier(7, 3, hidden=(4,), name="w"), SPLITS, Recipe(epochs=1), verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"learning_rate": 0.0}, r"learning_rate must lie in \(0.0, inf\]"),
        ({"batch_size": 0}, "batch_size must lie in"),
        ({"epochs": -1}, "epochs must lie in"),
        ({"momentum": 1.0}, "momentum must lie in"),
    ],
)
def test_bad_recipes_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Recipe(**kwargs)


def test_steps_per_execution_fuses_small_batches():
    assert steps_per_execution(10, 50_000) == 100
    assert steps_per_execution(100, 50_000) == 10
    assert steps_per_execution(10, 35) == 4  # never more than an epoch
    assert steps_per_execution(5000, 100) == 1

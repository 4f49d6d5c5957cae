import dataclasses
import json

import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.models import build_classifier
from rectifier_zoo.training.recipes import PretrainConfig, Recipe
from rectifier_zoo.training.compilation import steps_per_execution
from rectifier_zoo.training.fit import TrainResult, fit
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


def test_a_run_killed_while_pre_training_resumes_after_its_last_pre_trained_layer(tmp_path, monkeypatch):
    from rectifier_zoo.training import pretraining

    recipe = Recipe(learning_rate=0.1, epochs=1, pretrain=PretrainConfig(epochs=1, learning_rate=0.05))
    real, trained = pretraining.pretrain_layer, []

    def dies_on_layer_2(dense, *args, **kwargs):
        if dense.name == "hidden_2" and "restarted" not in trained:
            raise KeyboardInterrupt("the process died while pre-training hidden_2")
        trained.append(dense.name)
        return real(dense, *args, **kwargs)

    monkeypatch.setattr(pretraining, "pretrain_layer", dies_on_layer_2)
    with pytest.raises(KeyboardInterrupt):
        fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["pretraining_partial"] is True and [r["layer"] for r in state["pretraining"]] == ["hidden_1"]

    trained.clear()
    trained.append("restarted")  # hidden_2 trains this time
    result = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    assert trained == ["restarted", "hidden_2"]  # hidden_1 was not pre-trained again
    assert result.pretraining[0] == state["pretraining"][0] and result.pretraining[1]["layer"] == "hidden_2"
    assert result.epochs == 1 and result.test_error < 0.3
    assert "pretraining_partial" not in json.loads((tmp_path / "state.json").read_text())


def test_a_diverging_run_stops_with_an_error_naming_the_rate_and_checkpoints_no_nan(tmp_path):
    from rectifier_zoo.errors import TrainingError

    # It used to train on at chance with a NaN loss, and write that as its result.
    with pytest.raises(TrainingError, match=r"toy diverged in epoch 1: its loss became NaN or inf at learning rate "
                                            r"1e\+08; lower the learning_rate and train again") as raised:
        fit(small(), SPLITS, Recipe(learning_rate=1e8, epochs=3), verbose=0, checkpoint_dir=tmp_path)
    assert raised.value.epoch == 1  # what a search's FAILED trial reports
    assert not (tmp_path / "state.json").exists()  # no NaN epoch was committed to resume from


def test_a_finished_run_is_not_trained_again(tmp_path):
    recipe = Recipe(learning_rate=0.1, epochs=3)
    first = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    again = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    assert again.epochs == first.epochs
    assert again.test_error == first.test_error


def test_a_second_trainer_on_a_checkpoint_dir_in_use_is_refused(tmp_path):
    from rectifier_zoo.training import checkpoint

    with checkpoint.in_use(tmp_path):  # another run holds the directory
        with pytest.raises(ConfigError, match=r"is in use by another training run \(process \d+\); wait for it"):
            fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=1), verbose=0, checkpoint_dir=tmp_path)
    assert not (tmp_path / "state.json").exists()  # the refused run wrote nothing
    assert fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=1), verbose=0, checkpoint_dir=tmp_path).epochs == 1


def test_the_lock_goes_with_its_process_however_it_dies(tmp_path):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom rectifier_zoo._internal import locking\n"
         "with locking.locked(sys.argv[1]):\n    print('held', flush=True); time.sleep(600)", str(tmp_path / ".lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    from rectifier_zoo.training import checkpoint

    with pytest.raises(ConfigError, match=f"process {holder.pid}"):
        with checkpoint.in_use(tmp_path):
            pass
    holder.kill()  # kill -9: no clean-up runs
    holder.wait()
    with checkpoint.in_use(tmp_path):  # the kernel dropped the dead process's lock
        pass


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


def test_learning_rate_decay_divides_the_rate_on_a_plateau_and_resumes_its_counters():
    import keras

    from rectifier_zoo.training.checkpoint import ResumableLearningRateDecay

    model = small()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    decay = ResumableLearningRateDecay(monitor="val_accuracy", mode="max", factor=0.1, patience=2)
    decay.set_model(model)
    decay.on_train_begin()
    for epoch, accuracy in enumerate([0.5, 0.6, 0.6]):  # one epoch without gain: not yet
        decay.on_epoch_end(epoch, {"val_accuracy": accuracy})
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    saved = decay.state()
    assert saved == {"wait": 1, "best": pytest.approx(0.6), "cooldown_counter": 0}
    # a new process: the counters come back, so the second flat epoch decays the rate
    again = ResumableLearningRateDecay(monitor="val_accuracy", mode="max", factor=0.1, patience=2, initial_state=saved)
    again.set_model(model)
    again.on_train_begin()
    again.on_epoch_end(3, {"val_accuracy": 0.6})
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


def test_a_decaying_run_logs_its_rate_and_checkpoints_the_decay(tmp_path):
    recipe = Recipe(learning_rate=0.1, epochs=2, patience=10, lr_decay_patience=1, lr_decay_factor=0.5)
    result = fit(small(), SPLITS, recipe, verbose=0, checkpoint_dir=tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert set(state["lr_decay"]) == {"wait", "best", "cooldown_counter"}
    assert result.history["learning_rate"][0] == pytest.approx(0.1)
    assert result.hyperparameters["lr_decay_patience"] == 1


def test_resuming_with_another_recipe_or_seed_is_refused(tmp_path):
    fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=1), verbose=0, checkpoint_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"trained with learning_rate=0.1; resume it with the same settings"):
        fit(small(), SPLITS, Recipe(learning_rate=0.05, epochs=2), verbose=0, checkpoint_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"trained with seed=0"):
        fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=2), seed=1, verbose=0, checkpoint_dir=tmp_path)
    # more epochs (and patience) may change: the run goes on
    assert fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=2, patience=9), verbose=0, checkpoint_dir=tmp_path).epochs == 2


def test_resuming_on_other_training_data_is_refused(tmp_path):
    fit(small(), SPLITS, Recipe(learning_rate=0.1, epochs=1), verbose=0, checkpoint_dir=tmp_path)
    x, y = SPLITS.train
    flipped = dataclasses.replace(SPLITS, train=(1.0 - x, y))  # e.g. a data option changed, same dir
    with pytest.raises(ConfigError, match=r"holds a run trained with other training data \(another dataset, option"):
        fit(small(), flipped, Recipe(learning_rate=0.1, epochs=2), verbose=0, checkpoint_dir=tmp_path)
    # a checkpoint from before the fingerprint (no "data" in its facts) still resumes on its recipe and seed
    state = json.loads((tmp_path / "state.json").read_text())
    del state["run"]["data"]
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert fit(small(), flipped, Recipe(learning_rate=0.1, epochs=2), verbose=0, checkpoint_dir=tmp_path).epochs == 2


def test_bad_decay_settings_are_refused():
    with pytest.raises(ConfigError, match=r"lr_decay_factor must lie in \(0.0, 1.0\)"):
        Recipe(lr_decay_patience=2, lr_decay_factor=1.0)
    with pytest.raises(ConfigError, match="lr_decay_patience must be an integer"):
        Recipe(lr_decay_patience=1.5)

import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.models import build_classifier
from rectifier_zoo.training.pretraining import PretrainConfig, input_range, pretrain, pretrain_layer
from toydata import blobs


def test_pretrain_layer_copies_the_encoder_into_the_classifier():
    x, _ = blobs(300)
    model = build_classifier(20, 3, hidden=(12,), seed=0)
    dense = model.get_layer("hidden_1")
    ae, report = pretrain_layer(dense, x, PretrainConfig(epochs=2, learning_rate=0.05), seed=1, verbose=0)
    np.testing.assert_array_equal(dense.kernel.numpy(), ae.kernel.numpy())
    np.testing.assert_array_equal(dense.bias.numpy(), ae.hidden_bias.numpy())
    assert report["reconstruction_after"] < report["reconstruction_before"]


def test_greedy_pretraining_lowers_reconstruction_error_at_every_layer():
    x, _ = blobs(400)
    model = build_classifier(20, 3, hidden=(16, 12), l1=0.001, seed=0, flip_half=True)
    before = [w.copy() for w in model.get_weights()]
    report = pretrain(model, x, PretrainConfig(epochs=3, learning_rate=0.05), verbose=0)
    assert [r["layer"] for r in report] == ["hidden_1", "hidden_2"]
    for r in report:
        assert r["reconstruction_after"] < 0.8 * r["reconstruction_before"], r
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]
    assert changed == [True, True, True, True, False, False]  # hidden layers only, not the output


def test_pretraining_uses_the_models_l1_by_default():
    from rectifier_zoo.training.pretraining import layer_l1

    model = build_classifier(20, 3, hidden=(4, 4), l1=0.002)
    assert layer_l1(model, 1) == 0.002 and layer_l1(build_classifier(20, 3, hidden=(4,)), 1) == 0.0


def test_tanh_pretraining_losses_are_finite_and_non_negative_at_every_layer():
    # Layer 2 reconstructs tanh codes in [-1, 1]: a cross-entropy against them was unbounded below.
    x = np.random.default_rng(0).uniform(size=(200, 20)).astype("float32")
    model = build_classifier(20, 3, hidden=(32, 32), neuron="tanh", seed=0)
    report = pretrain(model, x, PretrainConfig(epochs=2, learning_rate=0.05), verbose=0)
    assert [r["layer"] for r in report] == ["hidden_1", "hidden_2"]
    for r in report:
        for key in ("reconstruction_before", "reconstruction_after"):
            assert np.isfinite(r[key]) and r[key] >= 0.0, r


def test_input_range_is_read_off_the_data():
    assert input_range(np.array([0.0, 0.5, 1.0])) == "unit"
    assert input_range(np.tanh(np.array([-3.0, 0.5]))) == "symmetric"
    assert input_range(np.array([0.0, 2.5])) == "unbounded"
    assert input_range(np.array([np.nan, 0.5])) == "unbounded"


def test_tanh_codes_get_a_symmetric_autoencoder_and_unbounded_codes_are_refused():
    model = build_classifier(20, 3, hidden=(8,), neuron="tanh", seed=0)
    codes = np.tanh(np.random.default_rng(1).normal(size=(50, 20))).astype("float32")
    config = PretrainConfig(epochs=0)
    ae, _ = pretrain_layer(model.get_layer("hidden_1"), codes, config)
    assert ae.input_range == "symmetric"
    with pytest.raises(ConfigError, match="sigmoid_xent reconstruction needs inputs in"):
        pretrain_layer(model.get_layer("hidden_1"), 3 * codes, config)


def test_the_report_gives_the_codes_fine_tuning_starts_from_and_a_heavy_l1_kills_units():
    from rectifier_zoo.nn.sparsity import sparsity

    x, _ = blobs(400)
    dead = {}
    for l1 in (0.0, 1.0):
        model = build_classifier(20, 3, hidden=(16, 12), seed=0)
        report = pretrain(model, x, PretrainConfig(epochs=3, learning_rate=0.05, l1=l1), verbose=0)
        measured = sparsity(model, x)
        for r in report:  # the pre-trained net's own codes of x, measured apart
            assert r["codes"] == pytest.approx(measured[r["layer"]])
        dead[l1] = [r["codes"]["dead"] for r in report]
    assert all(heavy > light + 0.2 for heavy, light in zip(dead[1.0], dead[0.0])), dead


def test_the_validation_reconstruction_error_is_measured_on_each_layers_validation_codes():
    x, _ = blobs(300)
    xv, _ = blobs(100, seed=5)
    config = PretrainConfig(epochs=2, learning_rate=0.05)
    plain = pretrain(build_classifier(20, 3, hidden=(16, 12), seed=0), x, config, verbose=0)
    assert all("reconstruction_valid" not in r for r in plain)
    # Validating on the training set itself must give the training figure, layer by layer.
    same = pretrain(build_classifier(20, 3, hidden=(16, 12), seed=0), x, config, verbose=0, x_valid=x)
    assert [r["reconstruction_valid"] for r in same] == pytest.approx([r["reconstruction_after"] for r in same])
    other = pretrain(build_classifier(20, 3, hidden=(16, 12), seed=0), x, config, verbose=0, x_valid=xv)
    for r, trained in zip(other, same):  # other data, other figure (the training codes were not reused)
        assert np.isfinite(r["reconstruction_valid"]) and r["reconstruction_valid"] < r["reconstruction_before"], r
        assert r["reconstruction_valid"] != pytest.approx(trained["reconstruction_valid"]), r


def test_a_diverging_layer_is_refused_and_a_layer_left_mostly_dead_is_warned_of(monkeypatch):
    from rectifier_zoo.errors import TrainingError
    from rectifier_zoo.training import pretraining

    x, _ = blobs(300)
    with pytest.warns(UserWarning, match=r"pre-training left 100% of hidden_1's units dead .* at rate 0.05; a lower"):
        report = pretrain(build_classifier(20, 3, hidden=(16, 12), seed=0), x,
                          PretrainConfig(epochs=2, learning_rate=0.05, l1=10.0), verbose=0)
    assert report[0]["codes"]["dead"] == 1.0
    # A huge rate either overflows or kills every unit, depending on the shuffling: the NaN is made here.
    monkeypatch.setattr(pretraining, "reconstruction_error", lambda ae, x, batch_size=1000: float("nan"))
    done = []
    with pytest.raises(TrainingError, match=r"pre-training hidden_1 diverged at rate 0.05 \(its reconstruction is NaN or "
                                            r"infinite\); lower the pre-training rate \(pretrain_learning_rate\) or its L1"):
        pretrain(build_classifier(20, 3, hidden=(16, 12), seed=0), x, PretrainConfig(epochs=1, learning_rate=0.05),
                 verbose=0, after_layer=done.append)
    assert done == []  # the diverged layer is not handed on to be checkpointed

"""The model code runs under the JAX backend too (keras.ops only)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile, os
    import keras, numpy as np
    sys.path.insert(0, "tests")
    from toydata import blob_splits
    from rectifier_zoo.nn.models import build_classifier
    from rectifier_zoo.training.recipes import PretrainConfig, Recipe
    from rectifier_zoo.training.fit import fit
    from rectifier_zoo.nn.layers import TiedDenseAutoencoder
    from rectifier_zoo.nn.regularizers import ActivityL1

    splits = blob_splits()
    model = build_classifier(20, 3, hidden=(32, 32), l1=0.001, flip_half=True, seed=0, name="jax_toy")
    recipe = Recipe(learning_rate=0.1, epochs=3, pretrain=PretrainConfig(epochs=1, learning_rate=0.05))
    result = fit(model, splits, recipe, verbose=0)

    path = os.path.join(tempfile.mkdtemp(), "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = splits.test[0]
    same = bool(np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0)))

    ae = keras.Sequential([keras.Input((2,)), ActivityL1(0.5)])
    ae(np.array([[1.0, -3.0]], "float32"))
    print(json.dumps({
        "backend": keras.backend.backend(),
        "test_error": result.test_error,
        "pretrained": [r["reconstruction_after"] < r["reconstruction_before"] for r in result.pretraining],
        "zeros": result.sparsity["hidden_1"]["zeros"],
        "round_trip_identical": same,
        "l1": float(keras.ops.convert_to_numpy(ae.losses[0])),
    }))
    """
)


def test_training_pretraining_and_saving_run_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["backend"] == "jax"
    assert report["test_error"] < 0.2
    assert report["pretrained"] == [True, True]
    assert 0.0 < report["zeros"] < 1.0
    assert report["round_trip_identical"]
    assert report["l1"] == pytest.approx(2.0)


MIXED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np
    import rectifier_zoo as rz
    from rectifier_zoo.datasets.splits import Splits
    from rectifier_zoo.training.recipes import PretrainConfig, Recipe

    keras.mixed_precision.set_dtype_policy("mixed_float16")

    def batch(spec, n=20, seed=0):
        rng = np.random.default_rng(seed)
        return rng.random((n, spec.input_dim)).astype("float32"), rng.integers(0, spec.num_classes, n)

    entries = {}
    for name in rz.list_models():
        spec = rz.get_spec(name)
        model = rz.build_model(name, hidden=(8, 8), seed=0)
        x, y = batch(spec)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True)
        loss = float(model.train_on_batch(x, y))
        probs = model(x)
        entries[name] = {
            "loss": loss,
            "hidden": model.get_layer("hidden_1").compute_dtype,
            "probabilities": keras.backend.standardize_dtype(probs.dtype),
            "sum_error": float(np.abs(keras.ops.convert_to_numpy(probs).astype("float64").sum(axis=1) - 1).max()),
        }

    spec = rz.get_spec("mnist_tanh_dae")  # sigmoid cross-entropy reconstruction, then fine-tuning
    splits = Splits("mnist", *(batch(spec, 60, s) for s in (1, 2, 3)), 10, (28, 28), "generated")
    model = rz.build_model(spec.name, hidden=(16, 16), seed=0)
    recipe = Recipe(learning_rate=0.05, epochs=2, batch_size=20, pretrain=PretrainConfig(epochs=1, batch_size=20))
    result = rz.fit(model, splits, recipe, verbose=0)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "entries": entries,
        "fit_losses": [float(v) for v in result.history["loss"]],
        "reconstruction": [r["reconstruction_after"] for r in result.pretraining],
    }))
    """
)


def test_every_entry_trains_and_predicts_under_mixed_float16_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", MIXED_SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["backend"] == "jax"
    assert len(report["entries"]) == 40
    for name, entry in report["entries"].items():
        assert entry["hidden"] == "float16" and entry["probabilities"] == "float32", name
        assert entry["sum_error"] <= 1e-6 and entry["loss"] == entry["loss"], name  # finite, not NaN
    assert len(report["fit_losses"]) == 2 and all(v == v for v in report["fit_losses"])
    assert len(report["reconstruction"]) == 2 and all(0 < v < float("inf") for v in report["reconstruction"])

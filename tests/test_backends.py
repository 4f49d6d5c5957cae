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
    from rectifier_zoo.models import build_classifier
    from rectifier_zoo.recipes import PretrainConfig, Recipe
    from rectifier_zoo.training import fit
    from rectifier_zoo.layers import TiedDenseAutoencoder
    from rectifier_zoo.regularizers import ActivityL1

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

"""``rz.load`` of a shipped entry on the JAX and NumPy backends, without TensorFlow.

The inference-only path (docs/performance.md, "Loading"): with ``KERAS_BACKEND=jax``
or ``numpy`` a shipped model loads and predicts, and ``tensorflow`` is never
imported, so a cold load costs that backend's import instead of TensorFlow's. Each
backend runs in its own process (the backend is chosen when Keras is imported);
the two give the same probabilities. How long it takes is the load benchmark's
business (``python -m benchmarks --only load``), never a test's.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ENTRY = "mnist_rect_l1"  # shipped in exports/

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import rectifier_zoo as rz

    model = rz.load(sys.argv[1], verbose=False)
    after_load = "tensorflow" in sys.modules
    x = np.random.default_rng(0).random((8, int(model.inputs[0].shape[-1])), dtype=np.float32)
    probabilities = np.asarray(model.predict(x, verbose=0))
    import keras
    print(json.dumps({
        "backend": keras.backend.backend(),
        "name": model.name,
        "tensorflow_after_load": after_load,
        "tensorflow_after_predict": "tensorflow" in sys.modules,
        "probabilities": probabilities.tolist(),
    }))
    """
)


def load_on(backend, zoo_home) -> dict:
    """``rz.load`` + ``predict`` in a fresh process on ``backend``; what it reports."""
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "RECTIFIER_ZOO_HOME": str(zoo_home),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("RECTIFIER_ZOO_URL", None)  # the shipped copy in exports/, nothing remote
    out = subprocess.run([sys.executable, "-c", SCRIPT, ENTRY], env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    pytest.importorskip("jax")
    home = tmp_path_factory.mktemp("home")  # an empty cache: the load finds the repository's exports/
    return {backend: load_on(backend, home) for backend in ("jax", "numpy")}


@pytest.mark.parametrize("backend", ["jax", "numpy"])
def test_a_shipped_model_loads_and_predicts_without_tensorflow(reports, backend):
    report = reports[backend]
    assert report["backend"] == backend and report["name"] == ENTRY
    assert not report["tensorflow_after_load"], f"rz.load imported tensorflow on the {backend} backend"
    assert not report["tensorflow_after_predict"], f"predict imported tensorflow on the {backend} backend"
    probabilities = np.asarray(report["probabilities"])
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_jax_and_numpy_backends_give_the_same_probabilities(reports):
    np.testing.assert_allclose(reports["jax"]["probabilities"], reports["numpy"]["probabilities"], atol=1e-5)

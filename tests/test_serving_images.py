"""TF Serving takes images: the shipped mnist_rect_l1 exported, its SavedModel loaded with
``tf.saved_model.load`` in a process that never imports rectifier_zoo, both signatures run on
1,000 real MNIST test images, and the REST body ``docs/serving.md`` builds."""

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import rectifier_zoo as rz
from realdata import MNIST, keras_test_split
from rectifier_zoo.hub import export as exporting

SERVING_PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "serving.md"
N = 1000
pytestmark = pytest.mark.usefixtures("zoo_home")

# Run in a fresh interpreter: TensorFlow and NumPy only, as a serving client has.
CLIENT = """
import json, sys
import numpy as np
import tensorflow as tf

folder, images, rest = sys.argv[1:4]
served = tf.saved_model.load(folder).signatures
x = np.load(images)
features = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
by_images = served["images"](images=tf.constant(x))
by_features = served["serving_default"](features=tf.constant(features))
by_rest = served["images"](images=tf.constant(np.load(rest)))
print(json.dumps({
    "zoo_imported": any(name.split(".")[0] == "rectifier_zoo" for name in sys.modules),
    "signatures": {name: {key: [spec.dtype.name, spec.shape.as_list()]
                          for key, spec in f.structured_input_signature[1].items()} for name, f in served.items()},
    "images": by_images["class"].numpy().tolist(),
    "features": by_features["class"].numpy().tolist(),
    "rest": by_rest["class"].numpy().tolist(),
}))
"""


def rest_body(x, y, monkeypatch, capsys) -> dict:
    """The request ``docs/serving.md`` builds with ``keras.datasets.mnist.load_data()``, run as written
    with that call answering from the real IDX files."""
    import keras

    (command,) = re.findall(r'python -c "(import json, keras;[^"]+)" > request\.json', SERVING_PAGE.read_text())
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x[:0], y[:0]), (x, y)))
    capsys.readouterr()
    exec(command, {})  # noqa: S102  (the page's own code)
    return json.loads(capsys.readouterr().out)


def test_both_signatures_give_rz_loads_classes_on_real_mnist_without_the_zoo(tmp_path, monkeypatch, capsys):
    x, y = keras_test_split(MNIST)
    x = x[:N]
    folder = rz.export("mnist_rect_l1", tmp_path / "serving", verbose=0)
    body = rest_body(x, y[:N], monkeypatch, capsys)
    assert body["signature_name"] == exporting.IMAGES_SIGNATURE and np.array(body["instances"]).shape == (1, 28, 28)
    np.save(tmp_path / "images.npy", x)
    np.save(tmp_path / "rest.npy", np.array(body["instances"], np.uint8))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", CLIENT, str(folder), str(tmp_path / "images.npy"),
                           str(tmp_path / "rest.npy")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["zoo_imported"] is False
    assert report["signatures"] == {
        exporting.SIGNATURE: {"features": ["float32", [None, 784]]},
        exporting.IMAGES_SIGNATURE: {"images": ["uint8", [None, 28, 28]]},
    }
    expected = rz.load("mnist_rect_l1", verbose=False).predict(x, verbose=0).argmax(axis=1).tolist()
    assert report["images"] == expected and report["features"] == expected
    assert report["rest"] == [expected[0]] == [int(y[0])]  # the request's image is a 7, and served as one

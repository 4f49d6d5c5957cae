"""rz.export / `rectifier-zoo export`: TF Serving layout, signature, cards, manifest.

Killed and concurrent exports are tested in test_reliability.py.
"""

import json
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.hub import export as exporting, integrity, model_card, store
from rectifier_zoo.cli import main
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ArtifactError, ConfigError
from rectifier_zoo.training.recipes import Recipe
from rectifier_zoo.training.fit import fit
from toydata import blobs

NAME = "mnist_rect_l1"
WIDTH = 784
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
pytestmark = pytest.mark.usefixtures("zoo_home")


@pytest.fixture(scope="module")
def trained():
    """The tiny model trained an epoch on 3 blobs in 784 dims (learnable in one epoch, so metrics are real)."""
    x_y = [blobs(n, WIDTH, seed=seed) for n, seed in ((300, 0), (100, 1), (100, 2))]
    splits = Splits("blobs", *x_y, 10, (WIDTH,), "generated")  # 10 outputs, as MNIST's; labels 0-2
    model = rz.build_model(NAME, hidden=(16, 16), seed=0)
    result = fit(model, splits, Recipe(epochs=1, batch_size=20), verbose=0)
    return model, result


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model, result = trained
    export_dir = tmp_path_factory.mktemp("exports")
    folder = rz.export(model, export_dir, result=result, verbose=0)
    return export_dir, folder


def x_batch(n=5, seed=3):
    return np.random.default_rng(seed).random((n, WIDTH)).astype("float32")


def saved_model_cli_run(folder, x, tmp_path):
    """Run a version's ``serving_default`` on ``x`` with TF's own ``saved_model_cli``; its
    ``(probabilities, class)`` outputs."""
    np.save(tmp_path / "x.npy", x)
    subprocess.run(
        ["saved_model_cli", "run", "--dir", str(folder), "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"features={tmp_path / 'x.npy'}", "--outdir", str(tmp_path / "out"), "--overwrite"],
        capture_output=True, text=True, env=ENV, check=True,
    )  # fmt: skip
    return np.load(tmp_path / "out" / "probabilities.npy"), np.load(tmp_path / "out" / "class.npy")


def snapshot(root):
    """Every file under root with its sha256: compare before/after to prove nothing changed."""
    return {str(p.relative_to(root)): integrity.sha256_file(p) for p in pathlib.Path(root).rglob("*") if p.is_file()}


def test_version_folder_holds_saved_model_keras_and_card(exported, trained):
    export_dir, folder = exported
    result = trained[1]
    assert folder == export_dir / NAME / "1"
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    expected = {"saved_model.pb", f"{NAME}.keras", "model_card.json", "README.md"}
    assert expected <= names and any(n.startswith("variables/") for n in names)
    card = model_card.read(folder)
    assert (card["name"], card["version"], card["dataset"]) == (NAME, 1, "blobs")
    assert card["metrics"]["test_error"] == pytest.approx(result.test_error)
    assert set(card["metrics"]["sparsity"]) == {"hidden_1", "hidden_2"}
    paper = rz.get_spec(NAME).paper
    assert [f["test_error"] for f in card["paper"]] == [f.test_error for f in paper]
    assert card["hyperparameters"]["batch_size"] == 20
    assert card["versions"]["keras"] and card["versions"]["tensorflow"]
    assert card["created"][:4].isdigit()
    assert card["architecture"] == {"input_dim": 784, "hidden": [16, 16], "num_classes": 10, "parameters": 13002}
    # every file but the card itself is hashed, and the hashes verify
    assert set(card["files"]) == names - {"model_card.json"}
    integrity.check_tree(folder, card["files"])
    readme = (folder / "README.md").read_text()
    assert f"Test error {result.test_error:.2%}" in readme and "1.56%" in readme and "93.94%" in readme


def test_manifest_lists_versions_files_and_metrics(exported, trained):
    export_dir, folder = exported
    manifest = json.loads((export_dir / "manifest.json").read_text())
    entry = manifest["models"][NAME]
    assert entry["latest"] == max(map(int, entry["versions"]))
    v1 = entry["versions"]["1"]
    assert v1["test_error"] == pytest.approx(trained[1].test_error)
    assert set(v1["zeros"]) == {"hidden_1", "hidden_2"}
    assert v1["files"]["model_card.json"] == integrity.sha256_file(folder / "model_card.json")
    assert v1["files"][f"{NAME}.keras"] == integrity.sha256_file(folder / f"{NAME}.keras")


def test_saved_model_cli_show_lists_named_signature(exported):
    _, folder = exported
    out = subprocess.run(
        ["saved_model_cli", "show", "--dir", str(folder), "--all"], capture_output=True, text=True, env=ENV, check=True
    ).stdout
    sig = out[out.index("signature_def['serving_default']") :]
    assert "inputs['features']" in sig and "shape: (-1, 784)" in sig and "DT_FLOAT" in sig
    assert "outputs['probabilities']" in sig and "shape: (-1, 10)" in sig
    assert "outputs['class']" in sig and "DT_INT64" in sig


def test_saved_model_cli_run_matches_keras(exported, trained, tmp_path):
    _, folder = exported
    x = x_batch()
    probs, classes = saved_model_cli_run(folder, x, tmp_path)
    expected = trained[0].predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    assert classes.dtype == np.int64 and list(classes) == list(expected.argmax(axis=1))


def test_saved_model_loads_without_rectifier_zoo(exported, trained, tmp_path):
    _, folder = exported
    x = x_batch()
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({str(folder)!r})\n"
        "out = m.signatures['serving_default'](features=tf.constant(np.load('x.npy')))\n"
        "np.save('p.npy', out['probabilities'].numpy())\n"
        "assert not any(k.startswith('rectifier_zoo') for k in sys.modules), 'zoo was imported'\n"
    )
    env = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, env=env, check=True, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), trained[0].predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_tfsm_layer_serves_the_signature(exported, trained):
    import keras

    _, folder = exported
    layer = keras.layers.TFSMLayer(str(folder), call_endpoint="serving_default")
    x = x_batch()
    out = layer(x)
    np.testing.assert_allclose(np.asarray(out["probabilities"]), trained[0].predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert np.asarray(out["class"]).dtype == np.int64


def checkpoint_values(version_dir):
    """How many float values the SavedModel's checkpoint stores (the weights, however named)."""
    import tensorflow as tf

    prefix = str(version_dir / "variables" / "variables")
    dtypes = tf.train.load_checkpoint(prefix).get_variable_to_dtype_map()
    return sum(int(np.prod(shape)) for name, shape in tf.train.list_variables(prefix) if dtypes[name].is_floating)


def keras_file_contents(path):
    """A .keras file's stored value count, top-level weight groups and config."""
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
        sizes = []
        weights.visititems(lambda _, item: sizes.append(item.size) if isinstance(item, h5py.Dataset) else None)
        return sum(sizes), set(weights), json.loads(archive.read("config.json"))


@pytest.fixture(scope="module")
def momentum_export(tmp_path_factory):
    """A model compiled with SGD momentum that has trained a step (so it has slots), exported."""
    from rectifier_zoo.training.fit import compile_model

    model = rz.build_model(NAME, hidden=(16, 16), seed=2)
    compile_model(model, Recipe(batch_size=20, momentum=0.9), n_train=20)
    x, y = blobs(20, WIDTH, seed=4)
    model.train_on_batch(x, y)
    assert model.optimizer.variables  # the momentum slots the export must leave behind
    return model, rz.export(model, tmp_path_factory.mktemp("momentum"), verbose=0)


def test_saved_model_stores_each_weight_once(momentum_export, exported, trained):
    # keras-team/keras#23553: tracking the model stored every weight twice
    assert checkpoint_values(momentum_export[1]) == momentum_export[0].count_params()
    assert checkpoint_values(exported[1]) == trained[0].count_params()


def test_keras_file_holds_weights_without_optimizer_state(momentum_export, tmp_path):
    model, folder = momentum_export
    exported_file = folder / f"{NAME}.keras"
    plain_file = tmp_path / "plain.keras"
    model.save(plain_file)
    values, groups, config = keras_file_contents(exported_file)
    assert values == model.count_params() and "optimizer" not in groups
    assert config["config"]["name"] == NAME and not config.get("compile_config")
    assert "optimizer" in keras_file_contents(plain_file)[1]
    assert exported_file.stat().st_size < plain_file.stat().st_size


def test_saved_model_and_rz_load_predict_like_the_model(momentum_export):
    import tensorflow as tf

    model, folder = momentum_export
    x = x_batch()
    expected = model.predict(x, verbose=0)
    out = tf.saved_model.load(str(folder)).signatures["serving_default"](features=tf.constant(x))
    np.testing.assert_allclose(out["probabilities"].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert out["class"].dtype == tf.int64 and list(out["class"].numpy()) == list(expected.argmax(axis=1))
    loaded = rz.load(folder, verbose=False)
    assert loaded.compiled  # hub compiles a file saved uncompiled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


JAX_EXPORT_SCRIPT = """
import json, sys, numpy as np, tensorflow as tf, rectifier_zoo as rz
model = rz.build_model("mnist_rect_l1", hidden=(16, 16), seed=1)
folder = rz.export(model, sys.argv[1], verbose=0)
x = np.random.default_rng(0).random((4, 784)).astype("float32")
out = tf.saved_model.load(str(folder)).signatures["serving_default"](features=tf.constant(x))
prefix = str(folder / "variables" / "variables")
print(json.dumps({
    "error": float(np.abs(out["probabilities"].numpy() - model.predict(x, verbose=0)).max()),
    "class": out["class"].dtype.name,
    "stored": sum(int(np.prod(s)) for n, s in tf.train.list_variables(prefix) if "OBJECT_GRAPH" not in n),
    "params": model.count_params(),
}))
"""


def test_jax_backend_export_serves_the_signature(zoo_home, tmp_path):
    pytest.importorskip("jax")
    env = {**ENV, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "RECTIFIER_ZOO_HOME": str(zoo_home)}
    out = subprocess.run(
        [sys.executable, "-c", JAX_EXPORT_SCRIPT, str(tmp_path / "ex")], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["error"] < 1e-5 and report["class"] == "int64"
    assert report["stored"] == report["params"]


def test_versions_count_up_and_explicit_versions_are_not_overwritten(trained, tmp_path):
    model = trained[0]
    assert rz.export(model, tmp_path, verbose=0).name == "1"
    assert rz.export(model, tmp_path, version=7, verbose=0).name == "7"
    assert rz.export(model, tmp_path, verbose=0).name == "8"
    before = snapshot(tmp_path / NAME)
    with pytest.raises(ArtifactError, match="7 already exists"):
        rz.export(model, tmp_path, version=7, verbose=0)
    assert snapshot(tmp_path / NAME) == before
    assert not [p for p in (tmp_path / NAME).iterdir() if p.name.startswith(".")]  # staging removed
    assert store.versions(tmp_path / NAME) == [1, 7, 8]
    assert sorted(json.loads((tmp_path / "manifest.json").read_text())["models"][NAME]["versions"]) == ["1", "7", "8"]


def test_name_override_and_unsafe_names_are_refused(trained, tmp_path):
    model = trained[0]
    folder = rz.export(model, tmp_path / "ex", name="my_model", verbose=0)
    assert folder == tmp_path / "ex" / "my_model" / "1"
    assert model.name == NAME  # the caller's model keeps its name
    assert rz.load(folder, verbose=False).name == "my_model"
    before = snapshot(tmp_path)
    for bad in ("../evil", "/abs", "", "a/b", "..", ".hidden"):
        with pytest.raises(ConfigError, match="not a safe folder name"):
            rz.export(model, tmp_path / "ex", name=bad, verbose=0)
    assert snapshot(tmp_path) == before
    with pytest.raises(ConfigError, match="version must"):
        rz.export(model, tmp_path / "ex", version=0, verbose=0)


def test_cli_export_reads_result_beside_model_and_writes_serving_config(trained, tmp_path, capsys):
    from rectifier_zoo.api import save_run

    model, result = trained
    keras_path = save_run(model, result, tmp_path / "runs")
    export_dir = tmp_path / "exports"
    assert main(["export", NAME, "--model", str(keras_path), "--export-dir", str(export_dir)]) == 0
    card = model_card.read(export_dir / NAME / "1")
    assert card["metrics"]["test_error"] == pytest.approx(result.test_error)
    assert main(["export", "--serving-config", "--export-dir", str(export_dir), "--base-path", "/models"]) == 0
    assert (export_dir / "models.config").read_text() == (
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{NAME}"\n'
        f'    base_path: "/models/{NAME}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n"
        "}\n"
    )
    out = capsys.readouterr().out
    assert f"exported {NAME} version 1" in out and "models.config (1 model)" in out


def test_keras_only_version_is_whole_loads_and_is_left_out_of_serving_config(trained, tmp_path):
    model, result = trained
    folder = rz.export(model, tmp_path / "zoo", result=result, verbose=0, saved_model=False)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", f"{NAME}.keras", "model_card.json"]
    assert store.is_whole(folder) and not store.is_servable(folder)
    assert store.versions(folder.parent) == [1] and store.versions(folder.parent, servable=True) == []
    assert "config {" not in exporting.serving_config(tmp_path / "zoo")  # TF Serving would fail on it
    np.testing.assert_allclose(rz.load(folder, verbose=False).predict(x_batch(), verbose=0),
                               model.predict(x_batch(), verbose=0), rtol=1e-6)


def test_a_card_listing_a_missing_file_is_not_whole(trained, tmp_path):
    folder = rz.export(trained[0], tmp_path / "zoo", verbose=0, saved_model=False)
    (folder / f"{NAME}.keras").unlink()  # half copied: the card names a file that is not there
    assert not store.is_whole(folder) and store.versions(folder.parent) == []


def test_cli_serves_a_shipped_keras_only_entry_in_one_command(trained, zoo_home, tmp_path, capsys):
    """The shipped zoo's layout (.keras + card) -> TF Serving's layout, with the card's facts and a working signature."""
    model, result = trained
    rz.export(model, zoo_home / "models", result=result, verbose=0, saved_model=False)
    serving_dir = tmp_path / "serving"
    assert main(["export", NAME, "--export-dir", str(serving_dir), "--serving-config", "--base-path", "/models"]) == 0
    folder = serving_dir / NAME / "1"
    assert store.is_servable(folder) and model_card.read(folder)["saved_model"] is True
    assert model_card.read(folder)["metrics"]["test_error"] == pytest.approx(result.test_error)
    assert f'base_path: "/models/{NAME}"' in (serving_dir / "models.config").read_text()
    x = x_batch()
    probs, _ = saved_model_cli_run(folder, x, tmp_path)
    np.testing.assert_allclose(probs, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_cli_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", NAME, "--model", str(tmp_path / "nope.keras"), "--export-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file or folder" in err and "nope.keras" in err
    assert main(["export", "../up", "--export-dir", str(tmp_path)]) == 2
    assert "not a safe folder name" in capsys.readouterr().err
    assert main(["export", "--export-dir", str(tmp_path)]) == 2
    assert "--serving-config" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()

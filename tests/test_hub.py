"""rz.load: paths, the local cache, the repo's exports, remote stores, integrity.

A download killed half-way and two at once are tested in test_reliability.py.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo._internal import paths
from rectifier_zoo.hub import locate as hub, integrity, model_card, remote
from rectifier_zoo.hub import store as layout  # `store` is a fixture's name here
from rectifier_zoo.errors import ArtifactError, ConfigError, UnknownModelError
from local_http import serving

NAME = "mnist_rect_l1"
WIDTH = 784
RESULT = {"dataset": "mnist", "test_error": 0.0125, "valid_error": 0.011, "hyperparameters": {"learning_rate": 0.01}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An export dir with versions 1 and 2 of a tiny model (2 differs: it is the one loaded by default)."""
    export_dir = tmp_path_factory.mktemp("store")
    models = {}
    for version, seed in ((1, 1), (2, 2)):
        model = rz.build_model(NAME, hidden=(16, 16), seed=seed)
        rz.export(model, export_dir, result=RESULT, verbose=0)
        models[version] = model
    return export_dir, models


@pytest.fixture(autouse=True)
def home(empty_zoo):
    """Every test's zoo home (conftest.empty_zoo: no remote store; hub.EXPORTS_DIR empty, not the repo's)."""
    return empty_zoo


def x_batch(n=6, seed=0):
    return np.random.default_rng(seed).random((n, WIDTH)).astype("float32")


def same_predictions(model, reference):
    x = x_batch()
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


def snapshot(root):
    return {str(p.relative_to(root)): integrity.sha256_file(p) for p in pathlib.Path(root).rglob("*") if p.is_file()}


def cache_is_whole_or_empty(home):
    model_dir = home / "models" / NAME
    digits = [p for p in model_dir.iterdir() if p.name.isdigit()] if model_dir.exists() else []
    for folder in digits:
        assert layout.is_whole(folder)
        integrity.check_tree(folder, model_card.read(folder)["files"])
    return [int(p.name) for p in digits]


# ---------------------------------------------------------------- local paths


def test_load_paths_keras_file_version_folder_model_folder(store, zoo_log, capsys):
    export_dir, models = store
    model_dir = export_dir / NAME
    same_predictions(rz.load(model_dir), models[2])  # a model folder: newest version
    assert zoo_log() == [f"loaded {NAME} version 2 from {model_dir / '2'} (test error 1.25%)"]
    assert capsys.readouterr().out == ""  # logged, not printed
    same_predictions(rz.load(model_dir, version=1, verbose=False), models[1])
    same_predictions(rz.load(str(model_dir / "1"), verbose=False), models[1])
    model = rz.load(model_dir / "1" / f"{NAME}.keras", verbose=False)
    same_predictions(model, models[1])
    assert model.name == NAME and model.compiled


def test_loaded_model_predicts_evaluates_and_fine_tunes(store):
    model = rz.load(store[0] / NAME, verbose=False)
    x, y = x_batch(40), np.arange(40) % 10
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_bare_keras_file_uses_the_training_result_beside_it(store, tmp_path, zoo_log):
    src = store[0] / NAME / "1" / f"{NAME}.keras"
    shutil.copy(src, tmp_path / "run.keras")
    (tmp_path / "run.json").write_text(json.dumps({"test_error": 0.5}))
    rz.load(tmp_path / "run.keras")
    assert zoo_log() == [f"loaded {NAME} from {tmp_path / 'run.keras'} (test error 50.00%)"]


# ---------------------------------------------------------------- zoo names


def test_name_resolves_cache_before_repo_exports(store, home, zoo_log):
    export_dir, models = store
    shutil.copytree(export_dir / NAME, hub.EXPORTS_DIR / NAME)
    same_predictions(rz.load(NAME), models[2])
    assert str(hub.EXPORTS_DIR / NAME / "2") in zoo_log()[0]
    (home / "models").mkdir(parents=True)
    shutil.copytree(export_dir / NAME / "1", home / "models" / NAME / "1")
    same_predictions(rz.load(NAME), models[1])  # the cache wins, even with an older version
    assert str(home / "models" / NAME / "1") in zoo_log()[0]
    same_predictions(rz.load(NAME, version=2, verbose=False), models[2])  # found further down the list


def test_exported_name_outside_the_zoo_loads_from_cache(store, home):
    folder = rz.export(store[1][1], home / "models", name="my_model", verbose=0)
    assert rz.load("my_model", verbose=False).name == "my_model"
    assert folder.parent == paths.models_home() / "my_model"


def test_unknown_name_suggests_the_closest(store):
    for typo in ("mnist_rect_l2", "mnist rect_l1"):
        with pytest.raises(UnknownModelError, match="did you mean 'mnist_rect_l1'"):
            rz.load(typo)


def test_missing_model_says_how_to_get_it(home):
    with pytest.raises(ArtifactError) as info:
        rz.load("mnist_tanh")
    message = str(info.value)
    assert "rz.load('mnist_tanh', train_if_missing=True, download=True)" in message
    assert "`rectifier-zoo train mnist_tanh --download`" in message
    assert f"rectifier-zoo export mnist_tanh --model runs/mnist_tanh.keras --export-dir {home / 'models'}" in message
    assert "data_dir='DIR'" in message and "RECTIFIER_ZOO_URL is not set" in message
    assert "\n" not in message
    with pytest.raises(ArtifactError) as info:  # generated data: nothing to download, so no download=True
        rz.load("shapeset_tanh")
    assert "rz.load('shapeset_tanh', train_if_missing=True);" in str(info.value) and "download" not in str(info.value)


def fake_training(monkeypatch):
    """rz.train replaced by a recorder returning a tiny trained-looking result: no data, no real training."""
    from rectifier_zoo import api

    calls = []

    def train(name, **kwargs):
        calls.append((name, kwargs))
        result = rz.TrainResult(name, "mnist", 0.5, 0.5, {}, 1, 1, 0.0, {"learning_rate": 0.01}, {})
        result.model = rz.build_model(name, hidden=(8,), seed=0)
        return result

    monkeypatch.setattr(api, "train", train)
    return calls


def pasted_calls(message):
    """Every ``rz.<verb>(...)`` call a message suggests, as written."""
    import re

    return re.findall(r"rz\.[a-z_.]+\([^()]*\)", message)


def test_every_python_suggestion_of_a_missing_model_works_as_pasted(home, monkeypatch, zoo_log):
    with pytest.raises(ArtifactError) as info:
        rz.load(NAME)
    suggested = pasted_calls(str(info.value))
    assert suggested == [f"rz.load('{NAME}', train_if_missing=True, download=True)"]
    calls = fake_training(monkeypatch)
    model = eval(suggested[0], {"rz": rz})  # noqa: S307  (the message's own text)
    assert model.name == NAME and calls == [(NAME, {"verbose": 1, "download": True, "data_dir": None})]
    assert any(line.startswith(f"loaded {NAME} version 1 from {home / 'models' / NAME / '1'}") for line in zoo_log())


def test_load_takes_download_and_data_dir_for_training(home, monkeypatch, tmp_path):
    calls = fake_training(monkeypatch)
    rz.load(NAME, train_if_missing=True, download=True, data_dir=tmp_path, verbose=False)
    assert calls == [(NAME, {"verbose": 1, "download": True, "data_dir": tmp_path})]
    with pytest.raises(ConfigError) as info:  # no training asked for: say so, with the call that works
        rz.load("mnist_tanh", download=True)
    (call,) = pasted_calls(str(info.value))
    assert call == "rz.load('mnist_tanh', download=True, train_if_missing=True)"
    assert eval(call, {"rz": rz}).name == "mnist_tanh"  # noqa: S307


@pytest.mark.usefixtures("no_datasets")
def test_missing_data_while_training_suggests_the_same_load_with_download():
    from rectifier_zoo.errors import DataError

    with pytest.raises(DataError) as info:
        rz.load("mnist_tanh", train_if_missing=True)  # no MNIST anywhere here
    message = str(info.value)
    assert "rz.load('mnist_tanh', train_if_missing=True, download=True)" in message
    assert "data_dir='DIR'" in message and "--data-dir" not in message


def test_missing_version_lists_the_available_ones(store):
    with pytest.raises(ArtifactError, match="has no version 9; it has 1, 2"):
        rz.load(store[0] / NAME, version=9)
    with pytest.raises(ConfigError, match="version must"):
        rz.load(NAME, version=-1)


def test_train_if_missing_trains_and_caches(home, monkeypatch, zoo_log):
    from rectifier_zoo import api, zoo
    from rectifier_zoo.datasets.splits import Splits

    rng = np.random.default_rng(0)
    data = [(rng.random((60, WIDTH)).astype("float32"), rng.integers(0, 10, 60)) for _ in range(3)]
    splits = Splits("mnist", *data, 10, (28, 28), "generated")
    real_train, real_build = api.train, zoo.build_model
    calls = []

    def tiny_train(name, **kwargs):  # the entry's recipe, on tiny data, one epoch
        calls.append(name)
        return real_train(name, splits=splits, epochs=1, **kwargs)

    monkeypatch.setattr(zoo, "build_model", lambda name, **kw: real_build(name, **{**kw, "hidden": (8,)}))
    monkeypatch.setattr(api, "train", tiny_train)
    model = rz.load(NAME, train_if_missing=True)
    assert calls == [NAME] and model.name == NAME
    assert layout.versions(home / "models" / NAME) == [1]
    assert not (home / "models" / NAME / "1" / layout.SAVED_MODEL).exists()  # one copy of the weights, as shipped
    card = model_card.read(home / "models" / NAME / "1")
    assert card["dataset"] == "mnist" and card["metrics"]["test_error"] is not None
    lines = zoo_log()
    assert lines[0] == f"no trained {NAME} found: training it by its recipe (this can take a while)"
    assert lines[-1].startswith(f"loaded {NAME} version 1")
    rz.load(NAME, verbose=False)  # now cached: no second training
    assert calls == [NAME]


# ---------------------------------------------------------------- bad input


def test_paths_that_are_not_models(tmp_path):
    with pytest.raises(ArtifactError, match="no such file or folder"):
        rz.load(tmp_path / "nothing.keras")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ArtifactError, match="is not a model"):
        rz.load(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="is not a model"):
        rz.load(tmp_path / "empty")
    (tmp_path / "fake.keras").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="could not be loaded as a Keras model"):
        rz.load(tmp_path / "fake.keras")
    with pytest.raises(ArtifactError, match="no such file or folder"):
        rz.load("../../etc/" + NAME)


@pytest.mark.parametrize("damage", ["tamper", "truncate"])
def test_damaged_artifact_is_refused_naming_the_file(store, tmp_path, damage):
    folder = tmp_path / "copy"
    shutil.copytree(store[0] / NAME / "1", folder)
    keras_path = folder / f"{NAME}.keras"
    data = keras_path.read_bytes()
    keras_path.write_bytes(data[:-100] + bytes(100) if damage == "tamper" else data[: len(data) // 2])
    before = snapshot(folder)
    for target in (folder, keras_path):
        with pytest.raises(ArtifactError, match=f"sha256 mismatch for {keras_path}"):
            rz.load(target)
    assert snapshot(folder) == before  # the user's files are reported, not deleted


def test_wrong_input_width_or_dtype_at_predict_names_the_expected_shape(store):
    model = rz.load(store[0] / NAME, verbose=False)
    # a ConfigError (a ValueError, as Keras's own) naming every shape an MNIST entry takes
    with pytest.raises(ValueError, match=r"takes images of shape \(n, 28, 28\), \(n, 28, 28, 1\), \(n, 784\).*got shape \(2, 100\)"):
        model.predict(np.zeros((2, 100), "float32"), verbose=0)
    with pytest.raises(ValueError, match="dtype"):
        model.predict(np.full((2, WIDTH), "a"), verbose=0)


def test_sparse_inference_flag(store):
    fast = rz.load(store[0] / NAME, sparse_inference=True, verbose=False)
    from rectifier_zoo.sparse.inference import sparsify

    assert type(fast) is type(sparsify(store[1][2]))
    x = x_batch(3)
    np.testing.assert_allclose(fast.predict(x, batch_size=1), store[1][2].predict(x, verbose=0), atol=1e-5)


# ---------------------------------------------------------------- remote stores


@pytest.fixture
def http_store(store):
    with serving(store[0]) as server:
        yield server.url, server


def test_remote_http_downloads_verifies_and_caches(store, http_store, home, monkeypatch, zoo_log):
    url, server = http_store
    monkeypatch.setenv(remote.URL_ENV, url)
    same_predictions(rz.load(NAME), store[1][2])
    assert zoo_log() == [f"loaded {NAME} version 2 from {url}/{NAME}/2 (test error 1.25%)"]
    assert cache_is_whole_or_empty(home) == [2]
    assert snapshot(home / "models" / NAME / "2") == snapshot(store[0] / NAME / "2")  # every file came
    server.kill()
    server.wait()
    same_predictions(rz.load(NAME, verbose=False), store[1][2])  # from the cache, server gone
    with pytest.raises(ArtifactError, match=f"could not fetch {url}/manifest.json"):
        rz.load(NAME, version=1)  # not cached, and the store is unreachable


def test_remote_file_url(store, home, monkeypatch):
    monkeypatch.setenv(remote.URL_ENV, store[0].as_uri())
    same_predictions(rz.load(NAME, version=1, verbose=False), store[1][1])
    assert cache_is_whole_or_empty(home) == [1]
    files = model_card.read(home / "models" / NAME / "1")["files"]
    assert set(files) <= set(snapshot(home / "models" / NAME / "1"))


def test_remote_tampered_file_is_named_deleted_and_not_cached(store, home, tmp_path, monkeypatch):
    remote_dir = tmp_path / "remote"
    shutil.copytree(store[0], remote_dir)
    keras_path = remote_dir / NAME / "2" / f"{NAME}.keras"
    keras_path.write_bytes(keras_path.read_bytes()[:-10] + bytes(10))
    monkeypatch.setenv(remote.URL_ENV, remote_dir.as_uri())
    with pytest.raises(ArtifactError, match=f"sha256 mismatch for {remote_dir.as_uri()}/{NAME}/2/{NAME}.keras"):
        rz.load(NAME)
    model_dir = home / "models" / NAME
    assert not list(model_dir.rglob("*.keras*")) and cache_is_whole_or_empty(home) == []
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]


def test_remote_manifest_with_unsafe_paths_is_refused(store, home, tmp_path, monkeypatch):
    remote_dir = tmp_path / "remote"
    remote_dir.mkdir()
    manifest = {"models": {NAME: {"versions": {"1": {"files": {"../../escape.txt": "0" * 64}}}}}}
    (remote_dir / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv(remote.URL_ENV, remote_dir.as_uri())
    with pytest.raises(ArtifactError, match="unsafe file path '../../escape.txt'"):
        rz.load(NAME)
    assert not (home / "escape.txt").exists() and not (home / "models" / "escape.txt").exists()
    monkeypatch.setenv(remote.URL_ENV, "ftp://example.com/zoo")
    with pytest.raises(ConfigError, match="http, https or file URL"):
        rz.load(NAME)


# ---------------------------------------------------------------- re-export keeps the card


def card_facts(folder):
    card = model_card.read(folder)
    return {key: card[key] for key in ("name", "dataset", "metrics", "paper", "hyperparameters", "architecture")}


def test_export_of_a_loaded_model_writes_the_card_the_cli_writes(store, tmp_path):
    from rectifier_zoo.cli import main

    source = store[0] / NAME / "2" / f"{NAME}.keras"
    model = rz.load(source, verbose=False)
    ours = rz.export(model, tmp_path / "python", verbose=0)
    assert main(["export", NAME, "--model", str(source), "--export-dir", str(tmp_path / "cli")]) == 0
    theirs = tmp_path / "cli" / NAME / "1"
    assert card_facts(ours) == card_facts(theirs)
    facts = card_facts(ours)
    assert facts["dataset"] == "mnist" and facts["metrics"]["test_error"] == 0.0125
    assert facts["hyperparameters"] == {"learning_rate": 0.01}
    readme = (ours / model_card.README).read_text()
    assert "Dataset: mnist." in readme and "Test error 1.25%" in readme and '"learning_rate": 0.01' in readme


def test_a_loaded_model_trained_further_is_exported_without_the_old_metrics(store, tmp_path):
    model = rz.load(store[0] / NAME, verbose=False)
    assert hub.provenance(model).result["test_error"] == 0.0125 and hub.provenance(model).version == 2
    model.fit(x_batch(20), np.arange(20) % 10, epochs=1, verbose=0)
    assert hub.provenance(model) is None  # its card no longer describes these weights
    card = model_card.read(rz.export(model, tmp_path / "tuned", verbose=0))
    assert card["metrics"]["test_error"] is None and card["dataset"] is None


# ---------------------------------------------------------------- TensorFlow's start-up lines


def quiet_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the zoo's default, not ours
    return {**env, **extra}


def test_import_and_load_print_no_tensorflow_lines_on_stderr():
    code = "import rectifier_zoo as rz; m = rz.load('fashion_mnist_rect_l1'); print(m.name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=quiet_env())  # the test's own (empty) zoo home
    assert done.returncode == 0 and done.stdout.splitlines() == ["fashion_mnist_rect_l1"]  # rz.load logs, never prints
    assert done.stderr == ""
    # asked for: TF_CPP_MIN_LOG_LEVEL=0 shows TensorFlow's own lines again
    done = subprocess.run([sys.executable, "-c", "import rectifier_zoo, keras"], capture_output=True, text=True,
                          timeout=300, env=quiet_env(TF_CPP_MIN_LOG_LEVEL="0"))
    assert done.returncode == 0 and "I0000" in done.stderr


# ---------------------------------------------------------------- one-way imports

# Who may import whom among the modules that write and read artifacts (function-level
# imports included): loading never reaches exporting or training, nothing reaches api.
NEVER = {
    "integrity": {"store", "remote", "locate", "quarantine", "export", "api", "model_card"},
    "store": {"remote", "locate", "quarantine", "export", "api"},
    "quarantine": {"remote", "locate", "export", "api"},
    "remote": {"locate", "quarantine", "export", "api"},
    "locate": {"export", "api"},
    "export": {"remote", "locate", "quarantine", "api"},
}


def imported_modules(module):
    """Every rectifier_zoo module ``hub/<module>.py`` imports, at its top or inside a function, by
    its last name (``rectifier_zoo.hub.store`` -> ``store``, ``rectifier_zoo.api`` -> ``api``)."""
    import ast

    tree = ast.parse((pathlib.Path(rz.__file__).parent / "hub" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name.rsplit(".", 1)[-1] for name in found if name.startswith("rectifier_zoo.")}


@pytest.mark.parametrize("module", sorted(NEVER))
def test_the_artifact_modules_import_one_way(module):
    assert imported_modules(module), module  # the file was read: a renamed module fails here
    assert not imported_modules(module) & NEVER[module]

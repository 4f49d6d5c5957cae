"""The zoo shipped in this repository's ``exports/``: whole, untampered, small, and what its cards say."""

import json
import pathlib

import numpy as np
import pytest

from rectifier_zoo import hub, integrity, model_card, serving, shipping

EXPORTS = hub.EXPORTS_DIR
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def shipped():
    return json.loads((EXPORTS / serving.MANIFEST).read_text())["models"]


def test_the_manifest_lists_whole_versions_whose_files_match_their_sha256():
    models = shipped()
    assert "fashion_mnist_rect_l1" in models
    for name, entry in models.items():
        version_dir = EXPORTS / name / str(entry["latest"])
        assert serving.versions(EXPORTS / name) == [entry["latest"]]  # one copy of each artifact
        card = model_card.read(version_dir)
        integrity.check_tree(version_dir, card["files"])  # raises, naming the file, on any change
        assert entry["versions"][str(entry["latest"])]["test_error"] == card["metrics"]["test_error"]
        assert card["hyperparameters"]["quick"] is False  # full runs only


def test_the_shipped_zoo_stays_within_its_budget():
    assert shipping.folder_mb(EXPORTS) <= shipping.DEFAULT_BUDGET_MB


@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist (.ci/run installs it)")
def test_the_shipped_fashion_model_loads_by_name_and_scores_what_its_card_says(monkeypatch, tmp_path, capsys):
    from rectifier_zoo import datasets

    monkeypatch.setenv("RECTIFIER_ZOO_HOME", str(tmp_path))  # an empty cache: it must come from exports/
    model = hub.load("fashion_mnist_rect_l1")
    assert "loaded fashion_mnist_rect_l1 version" in capsys.readouterr().out
    card = model_card.read(EXPORTS / "fashion_mnist_rect_l1" / str(shipped()["fashion_mnist_rect_l1"]["latest"]))
    x, y = datasets.load("fashion_mnist", cache=False).test
    error = float(np.mean(np.argmax(model.predict(x, batch_size=1000, verbose=0), axis=1) != y))
    assert error == pytest.approx(card["metrics"]["test_error"], abs=1e-4)
    assert error <= 0.12  # a trained model, far from chance (90%)

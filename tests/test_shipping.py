"""``rectifier-zoo ship``: the best run of each entry exported into the zoo, once, within a budget."""

import json

import pytest

import rectifier_zoo as rz
from rectifier_zoo import cli, zoo
from rectifier_zoo.hub import store
from rectifier_zoo.reproduction import shipping
from test_reproduction import fake, write


pytestmark = pytest.mark.usefixtures("zoo_home")


def saved_run(directory, seed, valid_error, name="shapeset_rect_l1", mode="full", l1=None):
    """A result JSON with a small trained-shape model saved beside it, as `reproduce --save-models` leaves them."""
    data = fake(name, seed, valid_error + 0.01, (0.9, 0.8, 0.7), quick=mode == "quick", l1=l1)
    data["valid_error"] = valid_error
    stem = f"{name}--seed{seed}" + ("" if mode == "full" else f"--{mode}")
    write(directory, f"{stem}.json", data)
    zoo.build_model(name, hidden=(8, 8, 8), seed=seed).save(directory / f"{stem}.keras")
    return data


def test_ship_exports_the_lowest_validation_error_then_keeps_or_replaces_it(tmp_path, capsys):
    results, exports = tmp_path / "results", tmp_path / "exports"
    saved_run(results, 0, 0.30)
    saved_run(results, 1, 0.25)  # the best on validation: shipped
    saved_run(results, 2, 0.20, mode="quick")  # quick runs are never shipped
    write(results, "shapeset_rect--seed0.json", fake("shapeset_rect", 0, 0.3, (0.5, 0.5, 0.5)))  # no model saved

    [decision] = shipping.ship([results], exports)
    assert decision.action == "shipped" and "seed 1, valid 25.00%" in decision.detail
    card = json.loads((exports / "shapeset_rect_l1" / "1" / "model_card.json").read_text())
    assert card["metrics"]["valid_error"] == 0.25 and card["hyperparameters"]["seed"] == 1
    manifest = json.loads((exports / "manifest.json").read_text())
    assert list(manifest["models"]) == ["shapeset_rect_l1"]
    # One copy of the weights: the .keras file and its card, no SavedModel, so nothing for TF Serving here.
    assert sorted(p.name for p in (exports / "shapeset_rect_l1" / "1").iterdir()) == [
        "README.md", "model_card.json", "shapeset_rect_l1.keras"]
    assert card["saved_model"] is False and "rectifier-zoo export shapeset_rect_l1 --export-dir serving" in (
        exports / "shapeset_rect_l1" / "1" / "README.md").read_text()
    assert not (exports / "models.config").exists()
    assert rz.load(exports / "shapeset_rect_l1", verbose=False).name == "shapeset_rect_l1"

    [decision] = shipping.ship([results], exports)
    assert decision.action == "kept" and "version 1 already shipped" in decision.detail

    [decision] = shipping.ship([results], exports, replace=True)  # nothing better than what is shipped
    assert decision.action == "kept" and "version 1 (seed 1, valid 25.00%) is at least as good" in decision.detail
    (results / "shapeset_rect_l1--seed1.keras").unlink()  # the shipped run's model gone (another machine)
    [decision] = shipping.ship([results], exports, replace=True)
    assert decision.action == "kept" and "as good on validation as seed 0, valid 30.00%" in decision.detail

    saved_run(results, 3, 0.22)  # a better seed finished
    [decision] = shipping.ship([results], exports, replace=True)
    assert decision.action == "shipped" and "seed 3, valid 22.00%" in decision.detail
    assert store.versions(exports / "shapeset_rect_l1") == [2]  # a new number; the old copy is gone
    assert list(json.loads((exports / "manifest.json").read_text())["models"]["shapeset_rect_l1"]["versions"]) == ["2"]

    card_path = exports / "shapeset_rect_l1" / "2" / "model_card.json"
    card = json.loads(card_path.read_text())
    card["hyperparameters"]["l1"] *= 3  # as if the entry's L1 had changed since (zoo.TUNED)
    card_path.write_text(json.dumps(card))
    [decision] = shipping.ship([results], exports, replace=True)  # an older L1 is replaced, however good
    assert decision.action == "shipped" and store.versions(exports / "shapeset_rect_l1") == [3]


def test_ship_refuses_chance_level_runs_and_a_blown_budget(tmp_path):
    results, exports = tmp_path / "results", tmp_path / "exports"
    saved_run(results, 0, 0.65, name="shapeset_softplus")  # 3 classes: chance is 66.7% error
    [decision] = shipping.ship([results], exports)
    assert decision.action == "refused" and "no better than chance (66.7% error)" in decision.detail
    assert not (exports / "shapeset_softplus").exists()

    saved_run(results, 0, 0.30)
    [decision] = shipping.ship([results], exports, patterns=("shapeset_rect_l1",), budget_mb=10)
    assert decision.action == "refused"
    assert decision.detail.endswith("would grow to about 12 MB, over the 10 MB budget; ship fewer entries (--entries) or raise --budget-mb")
    assert not (exports / "shapeset_rect_l1").exists()


def test_a_dae_entry_ships_only_when_it_beats_its_plain_entry_on_validation(tmp_path):
    results, exports = tmp_path / "results", tmp_path / "exports"
    dae = ("shapeset_rect_l1_dae",)
    saved_run(results, 0, 0.26, name="shapeset_rect_l1_dae")
    [decision] = shipping.ship([results], exports, patterns=dae)
    assert decision.action == "refused" and decision.detail.startswith("shapeset_rect_l1 has no full run to compare with")

    plain = fake("shapeset_rect_l1", 0, 0.3, (0.9, 0.8, 0.7))
    plain["valid_error"] = 0.25
    write(results, "shapeset_rect_l1--seed0.json", plain)  # no model saved: it still counts
    [decision] = shipping.ship([results], exports, patterns=dae)
    assert decision.action == "refused" and decision.detail == (
        "valid 26.00% does not beat shapeset_rect_l1's 25.00%: a _dae entry ships only when pre-training helps on validation")
    assert not (exports / "shapeset_rect_l1_dae").exists()

    saved_run(results, 1, 0.24, name="shapeset_rect_l1_dae")
    [decision] = shipping.ship([results], exports, patterns=dae)
    assert decision.action == "shipped" and "seed 1, valid 24.00%" in decision.detail


def test_ship_command_says_one_line_per_entry(tmp_path, capsys):
    results = tmp_path / "results"
    saved_run(results, 0, 0.30)
    code = cli.main(["ship", "--results", str(results), "--export-dir", str(tmp_path / "exports")])
    out = capsys.readouterr().out
    assert code == 0 and "shapeset_rect_l1: shipped (seed 0, valid 30.00%, test 31.00%" in out
    l1 = zoo.get_spec("shapeset_rect_l1").l1
    assert f"| `shapeset_rect_l1` | 31.00% | 30.00% | 90.0 / 80.0 / 70.0% | {l1:g} | 0 | 1 |" in out  # the table, from the card
    assert cli.main(["ship", "--results", str(tmp_path / "none")]) == 2
    assert "results directory" in capsys.readouterr().err


def test_ship_passes_over_runs_of_an_l1_the_entry_no_longer_uses(tmp_path):
    # once a search's L1 is adopted (zoo.TUNED), runs of the old L1 trained another model than
    # the entry's: a run of an L1 other than zoo.get_spec's is passed over, however good
    l1 = zoo.get_spec("shapeset_rect_l1").l1
    results = tmp_path / "results"
    saved_run(results, 0, 0.20, l1=l1 * 3)  # the best on validation, but trained with another L1
    saved_run(results, 1, 0.30, l1=l1)
    [decision] = shipping.ship([results], tmp_path / "exports")
    assert decision.action == "shipped" and "seed 1, valid 30.00%" in decision.detail

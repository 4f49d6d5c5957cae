import json

import keras
import pytest

from rectifier_zoo import zoo
from rectifier_zoo.errors import ConfigError, UnknownModelError


def test_the_grid_is_registered():
    names = zoo.list_models()
    assert len(names) == 5 * 8
    assert zoo.list_models("mnist_*") == [
        "mnist_rect", "mnist_rect_dae", "mnist_rect_l1", "mnist_rect_l1_dae",
        "mnist_softplus", "mnist_softplus_dae", "mnist_tanh", "mnist_tanh_dae",
    ]
    assert zoo.list_models("*_l1") == [f"{d}_rect_l1" for d in ("cifar10", "fashion_mnist", "mnist", "norb", "shapeset")]


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_name_parses_back_and_builds(name):
    spec = zoo.get_spec(name, tuned=False)
    parts = zoo.parse_name(name)
    assert zoo.entry_name(**parts) == name
    assert (parts["dataset"], parts["neuron"]) == (spec.dataset, spec.neuron)
    assert bool(spec.l1) == parts["l1"] and spec.pretrained == parts["dae"]
    model = zoo.build_model(name)
    assert model.name == name
    assert model.count_params() == spec.parameters
    keras.backend.clear_session()


@pytest.mark.parametrize(
    "name, params",
    [
        ("mnist_rect_l1", 2_797_010),  # 784-1000-1000-1000-10
        ("fashion_mnist_tanh", 2_797_010),
        ("shapeset_rect", 1025 * 1000 + 2 * 1001 * 1000 + 1001 * 3),  # 32x32 grey, 3 classes
        ("cifar10_softplus", 3073 * 1000 + 2 * 1001 * 1000 + 1001 * 10),
        ("norb_rect_l1_dae", 2049 * 4000 + 4001 * 2000 + 2001 * 5),  # AISTATS: 4000-2000
    ],
)
def test_parameter_counts_match_the_papers_architectures(name, params):
    assert zoo.get_spec(name).parameters == params


def test_specs_carry_the_papers_figures():
    fig = zoo.get_spec("mnist_rect_l1").paper[0]
    assert (fig.source, fig.test_error, fig.sparsity) == ("workshop Table 1", 1.56, (93.94, 80.92, 76.66))
    assert zoo.get_spec("shapeset_tanh").paper[0].test_error == 36.64
    assert zoo.get_spec("mnist_rect_l1_dae").paper[0].spread == 0.07
    assert zoo.get_spec("fashion_mnist_rect_l1").paper == ()


def test_specs_follow_the_protocol():
    spec = zoo.get_spec("mnist_rect_l1_dae", tuned=False)
    assert spec.l1 == 0.001 and spec.recipe.batch_size == 10 and spec.recipe.momentum == 0.0
    assert spec.recipe.pretrain.corruption == "masking" and spec.recipe.pretrain.corruption_level == 0.25
    assert spec.recipe.pretrain.l1 == 0.001  # the L1 penalty applies during pre-training too
    with pytest.raises(Exception):
        spec.l1 = 0.5  # frozen


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownModelError, match="unknown zoo entry 'mnist_rect_l2'; did you mean 'mnist_rect_l1'"):
        zoo.get_spec("mnist_rect_l2")


@pytest.mark.parametrize("pattern", ["", None, 3])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(ConfigError, match="pattern"):
        zoo.list_models(pattern)


def test_build_model_overrides():
    model = zoo.build_model("mnist_rect_l1", hidden=(16, 8), l1=0.0)
    assert model.count_params() == 785 * 16 + 17 * 8 + 9 * 10
    assert "hidden_1_l1" not in [layer.name for layer in model.layers]
    with pytest.raises(ConfigError, match=r"unknown override\(s\) \['width'\]"):
        zoo.build_model("mnist_rect_l1", width=3)


def test_adopted_values_drive_the_recipe():
    spec, base = zoo.get_spec("mnist_rect_l1_dae"), zoo.get_spec("mnist_rect_l1_dae", tuned=False)
    assert (spec.recipe.learning_rate, spec.l1) == (0.03, 0.0001)  # mnist_rect_l1 search
    assert (base.recipe.learning_rate, base.l1) == (0.01, 0.001)  # the declaration before it
    assert spec.recipe.pretrain == base.recipe.pretrain  # pre-training keeps the paper's recipe
    assert spec.tuned.inherited_from == "mnist_rect_l1" and base.tuned is None
    assert zoo.get_spec("norb_tanh").tuned is None  # never searched: its declaration as it is
    assert zoo.get_spec("norb_tanh", tuned=False) is zoo.get_spec("norb_tanh")
    assert zoo.get_spec("shapeset_rect").recipe.learning_rate == 0.003  # its search's choice


def test_get_spec_reads_no_file(tmp_path, monkeypatch):
    """A search's record left in tuning/results/ changes nothing until it is adopted in zoo.TUNED."""
    import builtins
    import pathlib

    monkeypatch.setattr(zoo, "TUNED_DIR", tmp_path)
    (tmp_path / "mnist_tanh.json").write_text(json.dumps({"hyperparameters": {"learning_rate": 0.5}}))

    def refuse(*args, **kwargs):
        raise AssertionError("get_spec read a file")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(pathlib.Path, "read_text", refuse)
    assert zoo.get_spec("mnist_tanh").recipe.learning_rate == 0.03
    assert zoo.tuned_hyperparameters("mnist_tanh") == {"learning_rate": 0.03}


def test_every_adopted_value_matches_its_searchs_record():
    from rectifier_zoo._internal.paths import REPO_ROOT

    for name, tuned in zoo.TUNED.items():
        record = json.loads((REPO_ROOT / tuned.record).read_text())
        assert record["name"] == (tuned.inherited_from or name), name
        assert record["hyperparameters"] == tuned.values(), f"{name}: zoo.TUNED differs from {tuned.record}"


def test_every_recorded_search_is_adopted_or_removed():
    adopted = {tuned.record for tuned in zoo.TUNED.values()}
    for path in sorted(zoo.TUNED_DIR.glob("*.json")):
        record = f"tuning/results/{path.name}"
        assert record in adopted, f"{record} is not in zoo.TUNED: copy its values there to adopt them, or delete it"


def test_catalog_says_what_each_entry_trains_with_and_where_that_comes_from(empty_zoo):
    import rectifier_zoo as rz
    from rectifier_zoo.hub import locate as hub

    entries = {e.name: e for e in rz.catalog("mnist_*")}
    assert len(entries) == 8 and list(entries) == zoo.list_models("mnist_*")
    tuned_l1, tuned_lr, inherited = entries["mnist_rect_l1"], entries["mnist_tanh"], entries["mnist_rect_l1_dae"]
    assert (tuned_l1.l1, tuned_l1.l1_source, tuned_l1.learning_rate, tuned_l1.learning_rate_source) == (
        0.0001, "tuned", 0.03, "tuned")
    assert (tuned_lr.l1, tuned_lr.l1_source, tuned_lr.learning_rate, tuned_lr.learning_rate_source) == (
        0.0, "none", 0.03, "tuned")
    assert (inherited.l1, inherited.l1_source, inherited.learning_rate_source) == (0.0001, "inherited", "inherited")
    plain = rz.catalog("norb_rect_l1_dae")[0]
    assert (plain.l1, plain.l1_source, plain.learning_rate, plain.learning_rate_source) == (0.001, "paper", 0.01, "recipe")
    assert tuned_l1.l1 == rz.get_spec("mnist_rect_l1").l1  # what rz.train really uses
    assert tuned_l1.paper.test_error == 1.56 and tuned_l1.trained is None
    rz.export(rz.build_model("mnist_tanh", hidden=(4,)), hub.EXPORTS_DIR, result={"test_error": 0.02}, verbose=0)
    found = rz.catalog("mnist_tanh")[0].trained
    assert (found.where, found.version, found.test_error) == ("shipped", 1, 0.02)


def test_adopted_pre_training_values_reach_a_dae_entrys_recipe_only():
    spec = zoo.get_spec("mnist_tanh_dae", tuned=False)
    chosen = zoo.apply_tuned(spec, {"learning_rate": 0.03, "pretrain_learning_rate": 0.003, "pretrain_epochs": 10})
    assert (chosen.recipe.learning_rate, chosen.recipe.pretrain.learning_rate, chosen.recipe.pretrain.epochs) == (0.03, 0.003, 10)
    assert chosen.recipe.pretrain.l1 == spec.recipe.pretrain.l1  # what was not chosen stays
    plain = zoo.apply_tuned(zoo.get_spec("mnist_tanh", tuned=False), {"learning_rate": 0.03})
    assert plain.recipe.pretrain is None and plain.recipe.learning_rate == 0.03
    assert zoo.Tuned(learning_rate=0.03, pretrain_epochs=10).values() == {"learning_rate": 0.03, "pretrain_epochs": 10}

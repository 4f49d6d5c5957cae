"""The report's parts (``results``, ``cells``, ``paper``, ``targets``, ``reproduction_summary``) and their layering."""

import importlib.util
import math
import pathlib

import pytest

from rectifier_zoo import datasets, paper
from rectifier_zoo.nn import neurons
from rectifier_zoo.reproduction import cells, dae as report_pretraining, tables as report_tables, summary as reproduction_summary, results, targets
from rectifier_zoo.datasets import shapeset
from test_reproduction import fake

ROOT = pathlib.Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- results: what a run is


def test_one_mode_names_the_flags_and_the_results_alike():
    assert [results.mode_of(), results.mode_of(quick=True), results.mode_of(quick=True, tiny=True)] == list(results.MODES)
    for quick, tiny in ((False, False), (True, False), (False, True), (True, True)):
        recorded = {"hyperparameters": {"quick": quick, "tiny": tiny}}
        assert results.mode(recorded) == results.mode_of(quick, tiny)
    assert results.mode({}) == "full"


def test_the_data_version_is_read_under_the_descriptors_key():
    today = fake("shapeset_rect", 0, 0.3, (0.5, 0.5, 0.5))
    before = fake("shapeset_rect", 0, 0.3, (0.5, 0.5, 0.5), generator=None)  # recorded nothing: generator 1
    files = fake("mnist_rect", 0, 0.02, (0.5, 0.5, 0.5))
    assert datasets.descriptor("shapeset").version_key in today["hyperparameters"]
    assert [results.data_version(r) for r in (today, before, files)] == [shapeset.GENERATOR, 1, None]
    assert [results.on_current_data(r) for r in (today, before, files)] == [True, False, True]


def test_runs_are_sorted_once_into_what_they_are():
    table = fake("shapeset_rect", 0, 0.3, (0.5, 0.5, 0.5), l1=0.0)
    earlier = fake("shapeset_rect", 1, 0.3, (0.5, 0.5, 0.5), l1=0.0, generator=1)
    sweep = fake("shapeset_rect_l1", 0, 0.3, (0.5, 0.5, 0.5), l1=0.01, sweep=True)
    variant = fake("shapeset_rect", 0, 0.3, (0.5, 0.5, 0.5), l1=0.0, options={"swap": False})
    alpha = fake("shapeset_softplus", 0, 0.3, (0.5, 0.5, 0.5), l1=0.0)
    alpha["hyperparameters"]["softplus_alpha"] = "inf"
    runs = results.Runs.of([table, earlier, sweep, variant, alpha])
    assert runs.table_runs == [table] and runs.by_name == {"shapeset_rect": [table]}
    assert runs.earlier == [earlier] and runs.sweep_runs == [sweep] and runs.variant_runs == [variant]
    assert results.alpha_of(alpha) == math.inf and results.is_sweep(alpha) and results.is_sweep(variant)
    assert runs.datasets() == {"shapeset"}


def test_a_run_pre_trained_with_another_l1_is_another_recipe():
    entry = fake("mnist_rect_l1_dae", 0, 0.015, (0.8, 0.9, 0.9))
    apart = fake("mnist_rect_l1_dae", 0, 0.012, (0.8, 0.9, 0.9), pretrain_l1=1e-4)
    assert entry["hyperparameters"]["pretrain"]["l1"] == paper.PAPER_L1
    assert apart["hyperparameters"]["pretrain"]["l1"] == 1e-4
    assert results.on_current_recipe(entry) and not results.superseded(entry)
    assert not results.on_recipe_shape(apart) and results.superseded(apart)
    assert "DAE pre-training 5 epochs per layer at rate 0.01, L1 0.0001" in report_tables.recipe_text(apart["hyperparameters"])


def dae_run(seed, error, dead, pretrain_l1=None):
    """A pre-trained MNIST run whose dead fractions per layer go from ``dead[0]`` to ``dead[1]``."""
    run = fake("mnist_rect_l1_dae", seed, error, (0.8, 0.9, 0.9), pretrain_l1=pretrain_l1, epochs=3)
    for i, (first, last) in enumerate(zip(*dead), start=1):
        run["history"][f"hidden_{i}_dead"] = [first, (first + last) / 2, last]
    return run


def test_the_pretraining_section_sets_dead_units_beside_the_error_by_pretraining_l1(tmp_path):
    runs = [dae_run(0, 0.0142, ((0.0, 0.60, 0.21), (0.0, 0.36, 0.19))),
            dae_run(1, 0.0166, ((0.0, 0.70, 0.55), (0.0, 0.48, 0.53))),
            dae_run(0, 0.0125, ((0.0, 0.02, 0.01), (0.0, 0.01, 0.0)), pretrain_l1=1e-4),
            fake("mnist_rect_l1", 0, 0.015, (0.87, 0.75, 0.70)),  # not pre-trained: not in the section
            fake("mnist_tanh_dae", 0, 0.016, (0.0, 0.0, 0.0))]  # a tanh unit is never dead: nor is it
    assert report_pretraining.pretrain_l1(runs[0]) == paper.PAPER_L1
    text = "\n".join(report_pretraining.pretraining_section(runs, tmp_path))
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == ["| `mnist_rect_l1_dae` | rate 0.01, 5 epochs, L1 0.0001 | rate 0.03 (constant), L1 0.0001 | 1 | 1.25% | 1.25% | — | 0 / 2 / 1 | 0 / 1 / 0 | — |",
                    "| `mnist_rect_l1_dae` | rate 0.01, 5 epochs, L1 0.001 | rate 0.03 (constant), L1 0.0001 | 2 | 1.54 ± 0.17% | 1.54 ± 0.17% | — | 0 / 65 / 38 "
                    "| 0 / 42 / 36 | — |"]
    assert "(figures/mnist_pretraining_dead.png)" in text
    for run, dead in zip(runs[:2], ((0.0, 0.7, 0.3), (0.0, 0.8, 0.5))):  # recorded by today's pre-training
        run["pretraining"] = [{"layer": f"hidden_{i}", "codes": {"dead": d}, "reconstruction_after": 2.0 * i + results.seed_of(run),
                               "reconstruction_valid": 3.0 * i} for i, d in enumerate(dead, start=1)]
    rows = report_pretraining.table_lines(report_pretraining.groups(report_pretraining.pretrained_runs(runs)))
    assert "| 1.54 ± 0.17% | 0 / 75 / 40 | 0 / 65 / 38 |" in rows[-1] and "| 1.25% | 1.25% | — |" in rows[-2]
    assert rows[-1].endswith("| 2.5 / 4.5 / 6.5 (valid 3.0 / 6.0 / 9.0) |")
    del runs[1]["pretraining"][0]["reconstruction_valid"]  # one run from before validation was measured
    rows = report_pretraining.table_lines(report_pretraining.groups(report_pretraining.pretrained_runs(runs)))
    assert rows[-1].endswith("| 2.5 / 4.5 / 6.5 |")
    assert (tmp_path / "mnist_pretraining_dead.png").stat().st_size > 10_000
    assert report_pretraining.pretraining_section(runs[3:], tmp_path) == []


def test_a_run_whose_fine_tuning_rate_decays_is_a_group_of_its_own():
    constant = dae_run(0, 0.0142, ((0.0, 0.60, 0.21), (0.0, 0.36, 0.19)))
    decaying = dae_run(1, 0.0130, ((0.0, 0.60, 0.21), (0.0, 0.36, 0.19)))
    decaying["hyperparameters"]["lr_decay_patience"] = 3
    assert not results.on_current_recipe(decaying)  # never the entry's own cell
    rows = report_pretraining.table_lines(report_pretraining.groups([constant, decaying]))[2:]
    assert [row.split(" | ")[2] for row in rows] == [
        "rate 0.03 (constant), L1 0.0001", "rate 0.03, ×0.1 after 3 epochs without a validation gain, L1 0.0001"]
    assert ["1.42%" in rows[0], "1.30%" in rows[1]] == [True, True]


def test_options_slug_is_sorted_and_lower_case():
    assert results.options_slug({"swap": False, "antialias": True}) == "--antialias-true--swap-false"
    assert results.options_slug({}) == ""


# ---------------------------------------------------------------- cells: labels from the descriptors


def test_row_labels_come_from_the_neurons():
    rows = {row for table in paper.TABLES for row in table.rows}
    expected = {
        "rect_l1": "rectifier + L1", "rect": "rectifier", "softplus": "softplus", "tanh": "tanh",
        "rect_l1_dae": "rectifier + L1, pre-trained", "tanh_dae": "tanh, pre-trained",
        "softplus_dae": "softplus, pre-trained",
    }
    assert {row: cells.row_label(row) for row in rows} == expected
    assert cells.row_label("rect") == neurons.get("rect").label


def test_data_labels_say_whose_data_a_row_is_on():
    assert cells.data_label("mnist") == "MNIST (paper’s data)"
    assert cells.data_label("fashion_mnist") == "Fashion-MNIST (substitute for MNIST)"
    assert cells.data_label("shapeset") == "Shapeset (substitute: generated here)"
    assert cells.data_label("norb") == "smallNORB (substitute)"
    assert cells.data_label("unknown") == "unknown (substitute)" and cells.label("unknown") == "unknown"
    assert cells.earlier_data_text("shapeset", 1).startswith("Shapeset generator 1, before the issue-17 audit")


def test_paper_cells_in_words():
    figure = paper.figure("mnist_rect_l1", "AISTATS")
    assert (cells.paper_error(figure), cells.paper_zeros(figure)) == ("1.43%", "83.4% (average)")
    assert cells.paper_error(paper.figure("mnist_rect_l1_dae")) == "1.16 ± 0.07%"
    assert cells.paper_zeros(paper.figure("mnist_rect_l1")) == "93.94 / 80.92 / 76.66%"
    assert (cells.paper_error(None), cells.alpha_text(math.inf), cells.alpha_text(1.3)) == ("—", "∞", "1.3")


# ---------------------------------------------------------------- paper and targets


def test_the_papers_tables_and_their_datasets():
    assert paper.table_datasets() == ("shapeset", "mnist", "fashion_mnist", "cifar10", "norb")
    assert paper.table_figure("mnist_rect_l1", "AISTATS Table 1").test_error == 1.43
    assert paper.table_figure("fashion_mnist_rect_l1", "workshop Table 1") is None
    assert paper.ALPHA_DATASET in {d.name for d in datasets.descriptors()}


def test_the_claims_sides_are_the_neuron_families_of_table_1():
    assert set(targets.CLAIM_ROWS) == set(paper.TABLE1_ROWS)
    assert targets.RECTIFIERS == ("rect_l1", "rect") and targets.SATURATING == ("tanh", "softplus")
    assert all(targets.family(row) == neurons.RECTIFYING for row in targets.RECTIFIERS)
    assert all(targets.family(row) == neurons.SATURATING for row in targets.SATURATING)
    assert targets.CLAIM == "rect_l1 and rect each ahead of tanh and of softplus"


def test_a_stand_in_dataset_gets_the_papers_figure_named_so():
    assert reproduction_summary.paper_cells("fashion_mnist_rect_l1") == (
        "1.56%", "93.94 / 80.92 / 76.66%", "workshop Table 1, MNIST (Fashion-MNIST is not in the paper)")
    assert reproduction_summary.paper_cells("mnist_tanh") == ("1.66%", "not in the paper", "workshop Table 1")
    assert reproduction_summary.summary_paper("shapeset_rect", None, math.inf)[1][0] == "16.40% (NORB)"


# ---------------------------------------------------------------- one-way imports

# The report's stack, lowest first: each module imports only modules before it (function-level imports
# count; ``tests/test_architecture.py`` checks the whole package for cycles).
REPORT_STACK = ("paper", "reproduction.results", "reproduction.cells", "reproduction.targets", "reproduction.plots",
                "reproduction.tables", "reproduction.figures", "reproduction.variants", "reproduction.dae",
                "reproduction.report", "reproduction.runs", "reproduction.summary")


@pytest.mark.parametrize("index", range(len(REPORT_STACK)))
def test_the_report_modules_import_only_downwards(index):
    spec = importlib.util.spec_from_file_location("module_map", ROOT / "tools" / "module_map.py")
    module_map = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module_map)
    name = f"rectifier_zoo.{REPORT_STACK[index]}"
    above = {f"rectifier_zoo.{m}" for m in REPORT_STACK[index:]}
    assert module_map.imports()[name] & above == set(), f"{name} imports a module at or above it in REPORT_STACK"


def test_a_quick_run_is_set_beside_the_full_runs(tmp_path):
    from test_reproduction import write
    from rectifier_zoo.training.fit import TrainResult

    for seed, error in ((0, 0.30), (1, 0.32)):
        write(tmp_path, f"shapeset_rect--seed{seed}.json", fake("shapeset_rect", seed, error, (0.5,) * 3, l1=0.0))
    quick = fake("shapeset_rect", 0, 0.45, (0.4,) * 3, l1=0.0, quick=True)
    write(tmp_path, "shapeset_rect--seed0--quick.json", quick)
    write(tmp_path, "shapeset_tanh--seed0.json", fake("shapeset_tanh", 0, 0.4, (0.0,) * 3, l1=0.0, generator=1))

    full = reproduction_summary.full_run_cells(tmp_path)
    assert reproduction_summary.full_run_text(full["shapeset_rect"]) == "31.00 ± 1.41% (2 seeds)"  # the quick run is not one
    assert "shapeset_tanh" not in full  # on an earlier generator: not a full run of today's entry
    table = reproduction_summary.summary_table([TrainResult(**quick)], full_runs=full).splitlines()
    assert table[0].startswith(f"| entry | runs | test error (ours) | {reproduction_summary.FULL_RUNS_HEADER} | paper |")
    row = [c.strip() for c in table[2].strip("|").split("|")]
    assert row[:4] == ["shapeset_rect", "1 (quick)", "45.00%", "31.00 ± 1.41% (2 seeds)"] and len(row) == 8
    tanh = fake("shapeset_tanh", 0, 0.5, (0.0,) * 3, l1=0.0, quick=True)
    row = reproduction_summary.summary_table([TrainResult(**tanh)], full_runs=full).splitlines()[2]
    assert "| 50.00% | none yet |" in row
    assert reproduction_summary.full_run_cells(tmp_path / "absent") == {}  # an installed package, no repository


def test_runs_on_the_cifar10_jpeg_copy_are_labelled_as_the_copy_never_as_the_papers_data():
    copy = {"source": "CIFAR-10 (JPEG q75 copy)", "fingerprint": "cifar10-jpeg.zip md5 6cf65a711875d1f74bbe6ac6f6f966e3"}
    runs = [dict(fake("cifar10_rect_l1", seed, 0.50 + seed / 100, (0.8, 0.7, 0.6)), data=copy) for seed in (0, 1)]
    rows = "\n".join(report_tables.table_rows(paper.TABLES[2], {"cifar10_rect_l1": runs}))
    assert "| CIFAR-10 (JPEG q75 copy) | rectifier + L1 (`cifar10_rect_l1`) | 2 | 50.50 ± 0.71% | 50.86% |" in rows
    assert "CIFAR-10 (paper’s data) | rectifier + L1 (`cifar10_rect_l1`)" not in rows
    data = "\n".join(report_tables.provenance_lines(["mnist", "cifar10"], runs))
    assert ("| CIFAR-10 | CIFAR-10 (JPEG q75 copy), not the original files | "
            "cifar10-jpeg.zip md5 6cf65a711875d1f74bbe6ac6f6f966e3;") in data
    assert "| MNIST | the paper’s own |" in data

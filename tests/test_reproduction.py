"""``reproduce`` (plans, skip-if-done, crash safety, a tiny real run) and ``report`` (Markdown + PNG)."""

import json
import re
import statistics

import pytest

from rectifier_zoo import cli, datasets, zoo
from rectifier_zoo.reproduction import report, runs as reproduction
from rectifier_zoo.training import recipes
from rectifier_zoo.reproduction.cells import Cell
from rectifier_zoo.datasets import shapeset
from rectifier_zoo.reproduction.figures import knee_sentence
from rectifier_zoo.errors import ArtifactError, ConfigError, DataError, TrainingError
from rectifier_zoo.training.fit import TrainResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _quiet_zoo_home(zoo_home, monkeypatch):
    """The zoo home of conftest.py, and no TensorFlow start-up lines from child processes."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")


def fake(name, seed, error, zeros, dead=(0.0, 0.0, 0.0), quick=False, l1=None, sweep=False, epochs=3,
         generator=shapeset.GENERATOR, options=None, pretrain_l1=None):
    """A valid ``TrainResult.to_dict()`` with the given figures (errors and zeros as fractions), by the
    entry's current rate and (unless ``l1`` says otherwise) L1.

    Results on generated data (Shapeset) record the generator they were made with (today's unless
    ``generator`` says otherwise; None: not recorded, as before the audit); ``options`` are data
    options (a variant's run). A ``_dae`` entry's run is pre-trained by its recipe, with
    ``pretrain_l1`` in place of the recipe's pre-training L1 when given.
    """
    layers = {f"hidden_{i + 1}": {"zeros": z, "dead": d, "mean": 0.1} for i, (z, d) in enumerate(zip(zeros, dead))}
    history = {"loss": [1.0 - 0.1 * e for e in range(epochs)], "val_accuracy": [0.5 + 0.05 * e for e in range(epochs)]}
    history.update({f"{layer}_zeros": [v["zeros"]] * epochs for layer, v in layers.items()})
    spec = zoo.get_spec(name)
    dataset = spec.dataset
    l1 = spec.l1 if l1 is None else l1
    hp = {"learning_rate": spec.recipe.learning_rate, "seed": seed, "l1": l1, "neuron": spec.neuron, "quick": quick, "hidden": [1000] * 3, "l1_sweep": sweep}
    version_key = datasets.descriptor(dataset).version_key
    if version_key and generator is not None:
        hp[version_key] = generator
    if options:
        hp["dataset_options"] = dict(options)
    hp["pretrain"] = recipes.with_pretraining(spec.recipe, {"pretrain_l1": pretrain_l1}, name).to_dict()["pretrain"]
    return TrainResult(
        name=name,
        dataset=dataset,
        test_error=error,
        valid_error=error,
        sparsity=layers,
        epochs=epochs,
        best_epoch=epochs,
        seconds=1.0,
        hyperparameters=hp,
        versions={"keras": "3"},
        history=history,
    ).to_dict()


def write(directory, filename, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / filename).write_text(json.dumps(data))


# ---------------------------------------------------------------- report


SEEDS_ERRORS = [0.30, 0.32, 0.35]
SEEDS_ZEROS = [(0.90, 0.80, 0.70), (0.92, 0.81, 0.72), (0.94, 0.85, 0.71)]


@pytest.fixture()
def results_dir(tmp_path):
    d = tmp_path / "results"
    for seed, (err, zeros) in enumerate(zip(SEEDS_ERRORS, SEEDS_ZEROS)):
        write(d, f"shapeset_rect_l1--seed{seed}.json", fake("shapeset_rect_l1", seed, err, zeros, dead=(0.002, 0.0, 0.01)))
    for seed, err in enumerate([0.40, 0.44]):
        write(d, f"shapeset_tanh--seed{seed}--quick.json", fake("shapeset_tanh", seed, err, (0, 0, 0), quick=True, l1=0.0))
    # a Figure 3 sweep: flat below 85% zeros, rising above
    # (the third point at the entry's own L1: the table's seed-0 run is that point)
    tuned = zoo.get_spec("shapeset_rect_l1").l1
    sweep = [(0.0, 0.75, 0.30), (1e-4, 0.80, 0.31), (tuned, 0.84, 0.30), (3e-3, 0.90, 0.36), (1e-2, 0.97, 0.45)]
    for l1, z, err in sweep:
        write(d / "sweep", f"shapeset_rect_l1--l1-{l1:g}--seed0.json", fake("shapeset_rect_l1", 0, err, (z, z, z), l1=l1, sweep=True))
    write(d, "tuning_record.json", {"hyperparameters": {"learning_rate": 0.1}})  # not a result: skipped
    return d


def test_report_has_hand_computed_cells_paper_figures_and_missing_datasets(results_dir, tmp_path):
    path = report.write_report([results_dir], tmp_path / "report")
    text = path.read_text()
    assert path.name == "REPRODUCTION.md"

    mean, std = statistics.fmean(SEEDS_ERRORS) * 100, statistics.stdev(SEEDS_ERRORS) * 100
    assert f"{mean:.2f} ± {std:.2f}%" == "32.33 ± 2.52%"
    layer1 = [z[0] * 100 for z in SEEDS_ZEROS]
    layer2 = [z[1] * 100 for z in SEEDS_ZEROS]
    zeros = f"{statistics.fmean(layer1):.1f} ± {statistics.stdev(layer1):.1f} / {statistics.fmean(layer2):.1f} ± {statistics.stdev(layer2):.1f}"
    row = next(line for line in text.splitlines() if "(`shapeset_rect_l1`)" in line)
    assert "| 3 | 32.33 ± 2.52% | 28.62% |" in row and zeros in row
    assert "Shapeset (substitute: generated here)" in row

    tanh = next(line for line in text.splitlines() if "(`shapeset_tanh`)" in line)
    assert "| 2 (quick) | 42.00 ± 2.83% | 36.64% |" in tanh
    assert "**Quick runs**" in text

    mnist = next(line for line in text.splitlines() if "(`mnist_rect_l1`)" in line)
    assert "MNIST (paper’s data)" in mnist and mnist.count("not yet run here") == 2
    assert "| 1.56% |" in mnist and "93.94 / 80.92 / 76.66%" in mnist
    for name in ("cifar10_tanh", "norb_rect_l1_dae", "fashion_mnist_rect"):
        assert "not yet run here" in next(line for line in text.splitlines() if f"(`{name}`)" in line)
    assert "smallNORB (substitute)" in text and "Fashion-MNIST (substitute for MNIST)" in text
    assert "1.16 ± 0.07%" in text  # workshop Table 2 with the paper's spread
    assert "10 runs from" in text and "tuning_record.json` " not in text
    assert text.rstrip().endswith("results/tuning_record.json`")  # named as skipped, not counted

    for name in ("shapeset_sparsity.png", "shapeset_curves.png", "shapeset_l1_sweep.png"):
        assert (path.parent / "figures" / name).read_bytes()[:8] == PNG_SIGNATURE
        assert f"](figures/{name})" in text


def test_report_checks_the_knee_on_the_sweep_points(results_dir, tmp_path):
    text = report.write_report([results_dir], tmp_path / "report").read_text()
    # The table's shapeset_rect_l1 runs of seeds 1 and 2 (0.32, 0.35) are points too; its seed 0
    # is the sweep's seed-0 run at the entry's L1, drawn once.
    # below 85%: 0.30, 0.31, 0.30 + 0.32, 0.35 -> 31.60%; above: 0.36, 0.45 -> 40.50%
    assert "Below 85% zeros: 5 runs, mean test error 31.60%" in text
    assert "at or above: 2 runs, mean 40.50%" in text
    assert "Error rises by 8.90 points past 85% zeros: the paper's finding holds here." in text
    assert "| 0.003 | 1 | 36.00% | 90.0% |" in text
    assert "Figure 3, shapeset" in text


def test_a_sweep_run_that_learned_nothing_is_named_not_averaged(tmp_path):
    from rectifier_zoo.reproduction.figures import sweep_section

    runs = [fake("mnist_rect_l1", 0, e, (z,) * 3, l1=l1, sweep=True)
            for e, z, l1 in ((0.015, 0.5, 1e-4), (0.016, 0.8, 3e-4), (0.019, 0.9, 1e-3), (0.899, 0.999, 1e-2))]
    text = "\n".join(sweep_section("mnist", runs, tmp_path))
    # the knee compares 1.9% with the 1.55% below it, not with a mean dragged to 45% by the dead net
    assert "at or above: 1 runs, mean 1.90%" in text and "Error rises by 0.35 points" in text
    assert "Left out of these means: 1 run(s) no better than chance (L1 0.01: 89.90% test error, 99.9% zeros)" in text
    assert "| 0.01 | 1 | 89.90% (no better than chance) | 99.9% |" in text
    assert (tmp_path / "mnist_l1_sweep.png").read_bytes().startswith(PNG_SIGNATURE)


def test_knee_sentence_says_when_the_finding_is_not_seen_or_not_reached():
    flat = [(0.70, 0.30), (0.80, 0.32), (0.90, 0.30), (0.95, 0.31)]
    assert "the paper's finding is not seen here" in knee_sentence(flat)
    assert "does not reach the paper's knee" in knee_sentence([(0.5, 0.3), (0.6, 0.3)])
    assert "at most 60.0%" in knee_sentence([(0.5, 0.3), (0.6, 0.3)])
    assert "flat part of the paper's curve is not sampled" in knee_sentence([(0.9, 0.3)])


def test_a_cell_prefers_full_runs_to_quick_ones():
    full = fake("shapeset_rect", 0, 0.30, (0.5, 0.5, 0.5))
    quick = fake("shapeset_rect", 1, 0.60, (0.5, 0.5, 0.5), quick=True)
    cell = Cell.of([quick, full])
    assert (cell.n, cell.mode, cell.error_text(), cell.runs_label()) == (1, "full", "30.00%", "1")
    assert Cell.of([]).error_text() == "not yet run here"


def test_report_errors_name_the_problem_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="does not exist; run `rectifier-zoo reproduce"):
        report.write_report([tmp_path / "nowhere"], tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no result JSONs under .*reproduce --quick"):
        report.write_report([tmp_path / "empty"], tmp_path / "out")
    write(tmp_path / "bad", "x.json", {"name": "shapeset_rect", "test_error": "high", "sparsity": {}})
    with pytest.raises(ArtifactError, match="x.json looks like a result JSON but .* malformed"):
        report.write_report([tmp_path / "bad"], tmp_path / "out")
    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "y.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="y.json does not parse as JSON"):
        report.write_report([tmp_path / "garbled"], tmp_path / "out")


def test_report_command_writes_the_named_file(results_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    assert cli.main(["report", "--results", str(results_dir), "--out", str(out), "--name", "R.md"]) == 0
    assert "# Reproduction of Glorot, Bordes & Bengio (2011)" in (out / "R.md").read_text()
    printed = capsys.readouterr().out
    assert f"wrote {out / 'R.md'}" in printed
    # The verdicts are printed too, not left for the reader to find in the file.
    assert "Targets and the paper's ordering:\n- `mnist_rect_l1`: not yet run here." in printed
    assert "\n- `fashion_mnist_rect_l1`: not yet run here." in printed
    assert "- Shapeset: not checked: no runs of `shapeset_rect`, `shapeset_softplus`." in printed
    assert cli.main(["report", "--results", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "error: results directory" in capsys.readouterr().err
    assert cli.main(["report", "--results", str(results_dir), "--name", "../x.md"]) == 2
    assert "--name must be a plain file name ending in .md" in capsys.readouterr().err


# ---------------------------------------------------------------- reproduce: plans


def test_plans_cover_the_table_rows_all_entries_seeds_and_the_sweep():
    assert [r.name for r in reproduction.plan()] == reproduction.table1_entries("shapeset")
    everything = reproduction.plan(["shapeset"], entries="*")
    assert len(everything) == 8 and sum(r.name.endswith("_dae") for r in everything) == 4
    runs = reproduction.plan(["shapeset", "mnist"], seeds=3, first_seed=5, entries="rect_l1")
    assert [(r.name, r.seed) for r in runs] == [("shapeset_rect_l1", s) for s in (5, 6, 7)] + [("mnist_rect_l1", s) for s in (5, 6, 7)]
    sweep = reproduction.plan(["shapeset"], seeds=2, l1_sweep=[0, 0.01])
    assert [r.run_id("quick") for r in sweep] == [
        "shapeset_rect_l1--l1-0--seed0--quick",
        "shapeset_rect_l1--l1-0--seed1--quick",
        "shapeset_rect_l1--l1-0.01--seed0--quick",
        "shapeset_rect_l1--l1-0.01--seed1--quick",
    ]


def test_plan_refuses_unknown_datasets_patterns_and_sweeps():
    with pytest.raises(ConfigError, match="unknown dataset 'shapset'; did you mean 'shapeset'"):
        reproduction.plan(["shapset"])
    with pytest.raises(ConfigError, match="--entries 'relu' matches no shapeset entry"):
        reproduction.plan(["shapeset"], entries="relu")
    with pytest.raises(ConfigError, match="seeds must lie in"):
        reproduction.plan(["shapeset"], seeds=0)
    with pytest.raises(ConfigError, match="L1 sweep value must lie in"):
        reproduction.plan(["shapeset"], l1_sweep=[2.0])


def test_a_plan_on_a_data_variant_names_its_runs_apart_and_checks_the_options_first():
    runs = reproduction.plan(["shapeset"], entries="rect", dataset_options={"antialias": True, "swap": False})
    assert [r.options for r in runs] == [(("antialias", True), ("swap", False))]
    assert runs[0].run_id("quick") == "shapeset_rect--antialias-true--swap-false--seed0--quick"
    # Options equal to the defaults are the data as it is: the same run as no options at all.
    assert reproduction.plan(["shapeset"], entries="rect", dataset_options={"swap": True}) == reproduction.plan(
        ["shapeset"], entries="rect")
    with pytest.raises(ConfigError, match="dataset 'mnist' has no option swap"):
        reproduction.plan(["shapeset", "mnist"], dataset_options={"swap": False})
    with pytest.raises(ConfigError, match="unknown Shapeset option\\(s\\) 'swp'"):
        reproduction.plan(["shapeset"], dataset_options={"swp": False})


# ---------------------------------------------------------------- reproduce: skip-if-done, crash safety


@pytest.fixture()
def fake_train(monkeypatch):
    """Replace ``api.train`` with a recorder returning fabricated results."""
    calls = []

    def train(name, **kwargs):
        calls.append((name, kwargs))
        if kwargs.get("seed") == 99:
            raise KeyboardInterrupt  # a run killed half-way
        if kwargs.get("seed") == 98:
            raise TrainingError(f"{name} diverged in epoch 1: its loss became NaN at learning rate 1; lower it")
        result = TrainResult(**fake(name, kwargs["seed"], 0.25, (0.6, 0.5, 0.4), quick=kwargs["quick"],
                                    l1=kwargs.get("l1", zoo.get_spec(name).l1), options=kwargs.get("dataset_options")))
        result.model = None
        return result

    monkeypatch.setattr("rectifier_zoo.api.train", train)
    return calls


def test_reproduce_skips_runs_whose_result_exists(fake_train, tmp_path, capsys):
    out = tmp_path / "runs"
    done = fake("shapeset_rect", 0, 0.11, (0.5, 0.5, 0.5), quick=True, l1=0.0)
    write(out, "shapeset_rect--seed0--quick.json", done)
    assert cli.main(["reproduce", "--quick", "--entries", "rect*", "--out", str(out)]) == 0
    trained = [name for name, _ in fake_train]
    assert trained == ["shapeset_rect_dae", "shapeset_rect_l1", "shapeset_rect_l1_dae"]
    assert all(kw["quick"] and kw["seed"] == 0 for _, kw in fake_train)
    assert sorted(p.name for p in out.glob("*.json")) == sorted(
        f"{n}--seed0--quick.json" for n in ("shapeset_rect", "shapeset_rect_dae", "shapeset_rect_l1", "shapeset_rect_l1_dae")
    )
    printed = capsys.readouterr().out
    assert "shapeset_rect--seed0--quick: done before, loaded" in printed
    # the loaded run is in the table (the column after ours: the entry's full runs in reproduction/results)
    assert re.search(r"\| shapeset_rect \| 1 \(quick\) \| 11\.00% \| [^|]+ \| 29\.86% \|", printed)
    assert json.loads((out / "shapeset_rect--seed0--quick.json").read_text()) == done  # untouched

    fake_train.clear()
    assert cli.main(["reproduce", "--quick", "--entries", "rect*", "--out", str(out)]) == 0
    assert fake_train == []  # everything finished: nothing retrains


def test_a_diverged_run_is_reported_and_the_runs_after_it_still_train(fake_train, tmp_path, capsys):
    out = tmp_path / "runs"
    runs = [reproduction.Run("shapeset_rect", 98), reproduction.Run("shapeset_tanh", 0)]
    with pytest.raises(TrainingError, match=r"^1 of 2 runs diverged and wrote no result: shapeset_rect--seed98--quick "
                                            r"\(shapeset_rect diverged in epoch 1: .*\)\. The others finished"):
        reproduction.run_plan(runs, out, quick=True)
    assert [name for name, _ in fake_train] == ["shapeset_rect", "shapeset_tanh"]
    assert sorted(p.name for p in out.glob("*.json")) == ["shapeset_tanh--seed0--quick.json"]
    assert "[1/2] shapeset_rect--seed98--quick: failed, no result written: shapeset_rect diverged" in capsys.readouterr().out


def test_reproduce_moves_aside_a_finished_run_of_an_earlier_generator_or_rate_and_trains_it_again(
        fake_train, tmp_path):
    out = tmp_path / "runs"
    old_generator = fake("shapeset_rect", 0, 0.42, (0.5, 0.5, 0.5), l1=0.0, generator=1)
    write(out, "shapeset_rect--seed0.json", old_generator)
    (out / "shapeset_rect--seed0.keras").write_bytes(b"model")
    write(out / "superseded", "shapeset_rect--seed0.json", {"an": "earlier move"})  # a name taken: not overwritten
    old_rate = fake("shapeset_tanh", 0, 0.44, (0.5, 0.5, 0.5), l1=0.0)
    old_rate["hyperparameters"]["learning_rate"] = 0.5
    write(out, "shapeset_tanh--seed0.json", old_rate)
    current = fake("shapeset_softplus", 0, 0.48, (0.5, 0.5, 0.5), l1=0.0)
    write(out, "shapeset_softplus--seed0.json", current)
    said = []
    reproduction.run_plan([reproduction.Run(n, 0) for n in ("shapeset_softplus", "shapeset_rect", "shapeset_tanh")],
                          out, say=said.append)
    assert [name for name, _ in fake_train] == ["shapeset_rect", "shapeset_tanh"]  # the current run is kept
    moved = out / "superseded"
    assert json.loads((moved / "shapeset_rect--seed0-2.json").read_text()) == old_generator
    assert (moved / "shapeset_rect--seed0-2.keras").read_bytes() == b"model"
    assert json.loads((moved / "shapeset_rect--seed0.json").read_text()) == {"an": "earlier move"}
    assert json.loads((moved / "shapeset_tanh--seed0.json").read_text()) == old_rate
    assert json.loads((out / "shapeset_softplus--seed0.json").read_text()) == current
    assert any(line.startswith("shapeset_tanh--seed0.json: trained by a recipe or data its entry no longer uses; "
                               f"moved to {moved / 'shapeset_tanh--seed0.json'} (kept)") for line in said)


def test_a_crash_loses_no_finished_run(fake_train, tmp_path):
    out = tmp_path / "runs"
    runs = [reproduction.Run("shapeset_rect", 0), reproduction.Run("shapeset_tanh", 99)]
    with pytest.raises(KeyboardInterrupt):
        reproduction.run_plan(runs, out, say=lambda line: None)
    assert [p.name for p in out.iterdir()] == ["shapeset_rect--seed0.json"]
    assert reproduction.load_result(out / "shapeset_rect--seed0.json").hyperparameters["run_id"] == "shapeset_rect--seed0"


def test_each_run_checkpoints_in_its_own_folder(fake_train, tmp_path):
    argv = ["reproduce", "--quick", "--entries", "rect", "--seeds", "2", "--out", str(tmp_path / "out")]
    assert cli.main([*argv, "--checkpoint-dir", str(tmp_path / "ckpt")]) == 0
    assert [kw["checkpoint_dir"] for _, kw in fake_train] == [
        tmp_path / "ckpt" / "shapeset_rect--seed0--quick", tmp_path / "ckpt" / "shapeset_rect--seed1--quick"]


def test_sweep_passes_l1_and_tags_its_results(fake_train, tmp_path):
    assert cli.main(["reproduce", "--l1-sweep", "0", "0.01", "--seeds", "2", "--out", str(tmp_path)]) == 0
    assert [(n, kw["l1"], kw["seed"]) for n, kw in fake_train] == [
        ("shapeset_rect_l1", 0.0, 0), ("shapeset_rect_l1", 0.0, 1), ("shapeset_rect_l1", 0.01, 0), ("shapeset_rect_l1", 0.01, 1)
    ]
    saved = json.loads((tmp_path / "shapeset_rect_l1--l1-0.01--seed1.json").read_text())
    assert saved["hyperparameters"]["l1_sweep"] is True and saved["hyperparameters"]["tiny"] is False


def test_reproduce_passes_dataset_options_and_writes_the_variant_apart(fake_train, tmp_path, capsys):
    out = tmp_path / "runs"
    argv = ["reproduce", "--quick", "--entries", "rect", "--out", str(out), "--dataset-option", "swap=false"]
    assert cli.main(argv) == 0
    assert [(n, kw["dataset_options"]) for n, kw in fake_train] == [("shapeset_rect", {"swap": False})]
    saved = json.loads((out / "shapeset_rect--swap-false--seed0--quick.json").read_text())
    assert saved["hyperparameters"]["dataset_options"] == {"swap": False}
    printed = capsys.readouterr().out
    assert "1 run(s) on shapeset, swap=False, quick mode" in printed
    assert "| shapeset_rect [swap=False] | 1 (quick) | 25.00% | — | 29.86% |" in printed  # a variant: no full runs of its own
    assert cli.main(argv[:-2]) == 0  # the faithful run is another run, not "done before"
    assert len(fake_train) == 2 and fake_train[1][1]["dataset_options"] == {}


def test_train_command_passes_dataset_options(monkeypatch, tmp_path, capsys):
    calls = []

    def train(name, **kwargs):
        calls.append(kwargs)
        return TrainResult(**fake(name, 0, 0.4, (0.5, 0.5, 0.5), quick=True, options=kwargs["dataset_options"]))

    monkeypatch.setattr("rectifier_zoo.api.train", train)
    argv = ["train", "shapeset_rect", "--quick", "--out", str(tmp_path), "--dataset-option", "antialias=yes",
            "--dataset-option", "signed=on"]
    assert cli.main(argv) == 0
    assert calls[0]["dataset_options"] == {"antialias": True, "signed": True}
    assert "shapeset_rect [antialias=True, signed=True]" in capsys.readouterr().out
    assert cli.main(["train", "shapeset_rect", "--dataset-option", "swap=no", "--dataset-option", "swap=yes"]) == 2
    assert "--dataset-option swap given more than once; give each option once" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "shapeset_rect", "--dataset-option", "swap"])
    assert "expected NAME=VALUE, e.g. swap=false" in capsys.readouterr().err


def test_the_trainer_records_the_data_and_refuses_options_with_given_splits():
    from rectifier_zoo import api, zoo
    from rectifier_zoo.training import entry_data

    spec = zoo.get_spec("shapeset_rect")
    assert entry_data.data_hyperparameters(spec) == {"shapeset_generator": shapeset.GENERATOR}
    assert entry_data.data_hyperparameters(spec, {"swap": False, "signed": False}) == {
        "shapeset_generator": shapeset.GENERATOR, "dataset_options": {"swap": False}}
    assert entry_data.data_hyperparameters(zoo.get_spec("fashion_mnist_rect")) == {}
    splits = entry_data.load_splits(spec, quick=True, seed=1, dataset_options={"swap": False})
    assert splits.source == "generated(seed=1, generator=2, swap=False)" and len(splits.train[1]) == 10000
    with pytest.raises(ConfigError, match="with splits=, pass no dataset_options"):
        api.train("shapeset_rect", splits=splits, dataset_options={"swap": False})
    with pytest.raises(ConfigError, match="unknown Shapeset option"):
        api.train("shapeset_rect", dataset_options={"swop": False})  # before any data loads


def test_reproduce_usage_errors_are_one_line(capsys, tmp_path):
    assert cli.main(["reproduce", "--dataset", "mnsit", "--out", str(tmp_path)]) == 2
    assert "error: unknown dataset 'mnsit'; did you mean 'mnist'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--l1-sweep", "-1"])
    assert "must be a finite number >= 0" in capsys.readouterr().err


# ---------------------------------------------------------------- a tiny real run, end to end


def test_tiny_reproduce_then_report_end_to_end(tmp_path, capsys):
    out, rep = tmp_path / "runs", tmp_path / "report"
    argv = ["reproduce", "--tiny", "--entries", "rect_l1", "--seeds", "2", "--out", str(out), "--verbose", "0"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 run(s) on shapeset, tiny mode" in printed and "[2/2] shapeset_rect_l1--seed1--tiny: training (tiny)" in printed
    runs = [json.loads((out / f"shapeset_rect_l1--seed{s}--tiny.json").read_text()) for s in (0, 1)]
    assert [r["hyperparameters"]["seed"] for r in runs] == [0, 1]
    assert all(r["epochs"] == 1 and r["hyperparameters"]["tiny"] for r in runs)
    assert all(set(r["sparsity"]) == {"hidden_1", "hidden_2", "hidden_3"} for r in runs)
    # Tiny runs are handed their splits, yet record today's generator: they are the entry's own data.
    assert all(r["hyperparameters"]["shapeset_generator"] == shapeset.GENERATOR for r in runs)
    assert all("dataset_options" not in r["hyperparameters"] for r in runs)
    errors = [r["test_error"] for r in runs]
    cell = f"{statistics.fmean(errors) * 100:.2f} ± {statistics.stdev(errors) * 100:.2f}%"
    assert re.search(rf"\| shapeset_rect_l1 \| 2 \(tiny\) \| {re.escape(cell)} \| [^|]+ \| 28\.62% \|", printed)

    assert cli.main(["report", "--results", str(out), "--out", str(rep)]) == 0
    text = (rep / "REPRODUCTION.md").read_text()
    assert f"| 2 (tiny) | {cell} | 28.62% |" in text
    assert (rep / "figures" / "shapeset_curves.png").read_bytes()[:8] == PNG_SIGNATURE

    assert cli.main(argv) == 0  # a rerun trains nothing
    assert capsys.readouterr().out.count("done before") == 2

import json
import os
import shlex
import subprocess
import sys

import pytest

import rectifier_zoo as rz
from rectifier_zoo import zoo
from rectifier_zoo.cli import build_parser, main


def list_rows(capsys, *argv):
    assert main(["list", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    return out, {line.split()[0]: line for line in out[2:] if line and not line.startswith(" ")}


def test_list_prints_a_table(capsys):
    out, rows = list_rows(capsys, "mnist_rect_l1*")
    assert out[0].split() == ["name", "L1", "from", "rate", "from", "pre-train", "parameters", "trained",
                              "weights", "paper", "test", "error"]
    spec, tuned = rz.get_spec("mnist_rect_l1"), zoo.tuned_hyperparameters("mnist_rect_l1") or {}
    sources = ["tuned" if "l1" in tuned else "paper", "tuned" if "learning_rate" in tuned else "recipe"]
    cells = rows["mnist_rect_l1"].split()
    assert cells[:6] == ["mnist_rect_l1", f"{spec.l1:g}", sources[0], f"{spec.recipe.learning_rate:g}", sources[1], "no"]
    assert "2,797,010" in rows["mnist_rect_l1"] and "1.56% (workshop Table 1)" in rows["mnist_rect_l1"]
    dae = rows["mnist_rect_l1_dae"].split()  # fine-tunes with mnist_rect_l1's search
    assert "DAE" in dae and dae[1:5] == [f"{spec.l1:g}", "inherited", f"{spec.recipe.learning_rate:g}", "inherited"]
    assert any(line.startswith("tuned: a search's best on the validation split") for line in out)
    assert any(line.startswith("inherited: the search of the entry without pre-training") for line in out)
    assert out[-1].endswith("'—': `rectifier-zoo train NAME` trains it")  # the CLI's words, not Python's


def test_list_shows_the_settings_training_really_uses_and_the_weights_at_hand(capsys):
    from rectifier_zoo.hub import locate as hub, model_card

    _, rows = list_rows(capsys, "fashion_mnist_rect*")
    spec = rz.get_spec("fashion_mnist_rect_l1")
    assert spec.l1 == 0.0003  # a search chose it (tuning/results/), not the paper's 0.001
    assert rows["fashion_mnist_rect_l1"].split()[1:5] == ["0.0003", "tuned", f"{spec.recipe.learning_rate:g}", "tuned"]
    card = model_card.read(hub.EXPORTS_DIR / "fashion_mnist_rect_l1" / "1")
    assert f"shipped v1, {card['metrics']['test_error']:.2%}" in rows["fashion_mnist_rect_l1"]
    assert rows["fashion_mnist_rect_dae"].split()[8] == "—"  # nothing trained at hand


def test_list_shows_cached_weights_before_shipped_ones(capsys, zoo_home):
    result = {"dataset": "shapeset", "test_error": 0.3125}
    rz.export(rz.build_model("shapeset_rect_l1", hidden=(8,)), zoo_home / "models", result=result, verbose=0)
    _, rows = list_rows(capsys, "shapeset_rect_l1")
    assert "cached v1, 31.25%" in rows["shapeset_rect_l1"]
    entry = rz.catalog("shapeset_rect_l1")[0]  # the Python equivalent
    assert (entry.trained.where, entry.trained.version, entry.trained.test_error) == ("cached", 1, 0.3125)


def test_list_never_imports_keras():
    """`list` stays light (about 0.1 s on an idle core): it never imports Keras or TensorFlow."""
    code = (
        "import sys; from rectifier_zoo.cli import main; main(['list']); "
        "print('HEAVY', [m for m in ('keras', 'tensorflow') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines()[-1] == "HEAVY []"
    assert sum(1 for line in done.stdout.splitlines() if line[:1].isalpha() and "_" in line.split()[0]) >= 40


def test_list_without_match_says_so(capsys):
    assert main(["list", "imagenet_*"]) == 1
    assert "no entry matches 'imagenet_*'" in capsys.readouterr().out


def test_unknown_entry_is_one_line_with_suggestions(capsys):
    assert main(["train", "mnist_rect_l2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rectifier-zoo train: error: unknown zoo entry 'mnist_rect_l2'; did you mean 'mnist_rect_l1' or 'mnist_rect' or 'mnist_rect_dae'?"]


def test_pretrain_l1_of_an_entry_never_pre_trained_is_one_line(capsys):
    assert main(["train", "mnist_rect", "--pretrain-l1", "0.0001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rectifier-zoo train: error: mnist_rect is not pre-trained, so pretrain_l1 cannot apply; use its _dae entry"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mnist_rect", "--epochs", "-1"], "argument --epochs: must be >= 0, got -1"),
        (["train", "mnist_rect", "--learning-rate", "nan"], "argument --learning-rate: must be a finite number > 0"),
        (["train", "mnist_rect", "--bogus"], "unrecognized arguments: --bogus"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_options_exit_non_zero_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.usefixtures("zoo_home")
def test_train_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["train", "shapeset_rect_l1", "--quick", "--epochs", "1", "--patience", "7", "--lr-decay-patience", "2",
            "--out", str(out), "--verbose", "0"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "shapeset_rect_l1: test error" in printed and "28.62%" in printed  # beside the paper's
    result = json.loads((out / "shapeset_rect_l1.json").read_text())
    assert result["epochs"] == 1 and result["dataset"] == "shapeset" and result["hyperparameters"]["quick"]
    assert result["hyperparameters"]["patience"] == 7  # --patience replaces the quick recipe's
    assert result["hyperparameters"]["lr_decay_patience"] == 2  # --lr-decay-patience too
    assert 0.0 <= result["test_error"] <= 1.0 and set(result["sparsity"]) == {"hidden_1", "hidden_2", "hidden_3"}
    assert (out / "shapeset_rect_l1.keras").stat().st_size > 1_000_000


def test_help_of_every_command_runs_without_keras():
    for argv in (["--help"], ["list", "--help"], ["train", "--help"], ["reproduce", "--help"]):
        done = subprocess.run([sys.executable, "-m", "rectifier_zoo", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage: rectifier-zoo" in done.stdout
    assert "--quick" in done.stdout
    probe = "import sys, rectifier_zoo.cli as c; c.build_parser(); print('keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------- errors name the CLI's own flags


def backticked(text):
    import re

    return re.findall(r"`(rectifier-zoo [^`]*)`", text)


def parses(command):
    """A suggested command parses with the real parser (its flags exist, spelled as written)."""
    argv = shlex.split(command)
    assert argv[0] == "rectifier-zoo"
    return build_parser().parse_args(argv[1:])


@pytest.mark.usefixtures("no_datasets")
def test_missing_data_in_the_cli_names_flags_that_work(capsys, tmp_path):
    assert main(["train", "mnist_tanh", "--epochs", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--data-dir DIR" in err and "(no --data-dir given)" in err
    assert "data_dir=" not in err and "download=True" not in err
    suggested = f"rectifier-zoo train mnist_tanh --epochs 1 --out {tmp_path} --download"
    assert suggested in err
    args = parses(suggested)
    assert args.download and args.name == "mnist_tanh" and args.epochs == 1


def test_missing_model_in_the_cli_suggests_commands_not_python(capsys, tmp_path, empty_zoo):
    assert main(["export", "mnist_tanh", "--export-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "rz.load(" not in err and "train_if_missing" not in err and "data_dir=" not in err
    commands = backticked(err)
    assert commands[:2] == [
        "rectifier-zoo train mnist_tanh --download",
        f"rectifier-zoo export mnist_tanh --model runs/mnist_tanh.keras --export-dir {empty_zoo / 'models'}",
    ]
    assert parses(commands[0]).download and parses(commands[1]).model.name == "mnist_tanh.keras"


def test_a_cli_command_prints_no_tensorflow_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "rectifier_zoo", "export", "--serving-config", "--export-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0 and done.stdout.startswith("wrote ") and done.stderr == ""


# ---------------------------------------------------------------- the main job's screen


def quick_results(out):
    """Finished quick-run result JSONs for the Shapeset Table 1 rows (so reproduce loads, not trains)."""
    import pathlib

    results = pathlib.Path(__file__).resolve().parents[1] / "reproduction" / "results"
    out.mkdir(parents=True)
    for row in ("rect_l1", "rect", "softplus", "tanh"):
        data = json.loads((results / f"shapeset_{row}--seed0.json").read_text())
        data["hyperparameters"].update(quick=True, run_id=f"shapeset_{row}--seed0--quick")
        (out / f"shapeset_{row}--seed0--quick.json").write_text(json.dumps(data))


def test_reproduce_leads_with_what_the_zoo_achieves(capsys, tmp_path):
    quick_results(tmp_path / "runs")
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "runs"), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "What the zoo achieves: the shipped models (exports/), from their model cards"
    assert lines[1].startswith("| entry | test error (zoo) | paper | zeros per layer (zoo, test) | paper zeros |")
    fashion = next(line for line in lines if line.startswith("| fashion_mnist_rect_l1 |"))
    cells = [c.strip() for c in fashion.strip("|").split("|")]
    assert cells[2] == "1.56%" and cells[4] == "93.94 / 80.92 / 76.66%"  # the paper's MNIST figures, named
    assert "MNIST (Fashion-MNIST is not in the paper)" in cells[5] and cells[3].count("/") == 2
    end = out[out.rindex("What the zoo achieves"):]  # the final screen: shipped models first, then this run
    assert end.index("| shapeset_rect_l1 |") < end.index("This run: Workshop Table 1 rows")
    assert "QUICK run: 10,000 training examples, at most 8 epoch(s), 1 seed(s)" in end
    assert "not the zoo's figures" in end
    assert "| test error (ours) | full runs (reproduction/results) | paper |" in end  # quick beside full
    run_rows = [line for line in end[end.index("This run"):].splitlines() if line.startswith("| shapeset_")]
    assert len(run_rows) == 4 and all(" | not in the paper | workshop Table 1 |" in row for row in run_rows)

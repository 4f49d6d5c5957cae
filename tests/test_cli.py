import json
import subprocess
import sys

import pytest

from rectifier_zoo.cli import main


def test_list_prints_a_table(capsys):
    assert main(["list", "mnist_rect_l1*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["name", "dataset", "neuron", "L1"]
    assert out[2].split()[:5] == ["mnist_rect_l1", "mnist", "rect", "0.001", "no"]
    assert "2,797,010" in out[2] and "1.56% (workshop Table 1)" in out[2]
    assert out[3].startswith("mnist_rect_l1_dae") and "DAE" in out[3]


def test_list_without_match_says_so(capsys):
    assert main(["list", "imagenet_*"]) == 1
    assert "no entry matches 'imagenet_*'" in capsys.readouterr().out


def test_unknown_entry_is_one_line_with_suggestions(capsys):
    assert main(["train", "mnist_rect_l2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rectifier-zoo train: error: unknown zoo entry 'mnist_rect_l2'; did you mean 'mnist_rect_l1' or 'mnist_rect' or 'mnist_rect_dae'?"]


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


def test_train_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RECTIFIER_ZOO_HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    argv = ["train", "shapeset_rect_l1", "--quick", "--epochs", "1", "--out", str(out), "--verbose", "0"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "shapeset_rect_l1: test error" in printed and "28.62%" in printed  # beside the paper's
    result = json.loads((out / "shapeset_rect_l1.json").read_text())
    assert result["epochs"] == 1 and result["dataset"] == "shapeset" and result["hyperparameters"]["quick"]
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

"""The README's Python examples run as written.

Each example is cut out of README.md and executed, unchanged, in a fresh namespace.
Only the environment is made small: the quick mode's splits and epochs shrink (the
code is what is checked here: names, signatures, attributes; its timings are
the README's), and the zoo home and working directory are temporary.
"""

import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")


def section(title) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def code_blocks(title) -> list:
    """The indented (4-space) code blocks of a README section, dedented."""
    blocks, current = [], []
    for line in section(title).splitlines() + [""]:
        if line.startswith("    ") and not line.lstrip().startswith("- "):
            current.append(line[4:])
        elif current and line.strip() == "":
            current.append("")
        else:
            if any(s.strip() for s in current):
                blocks.append("\n".join(current).strip("\n"))
            current = []
    if any(s.strip() for s in current):
        blocks.append("\n".join(current).strip("\n"))
    return blocks


@pytest.fixture
def small(zoo_home, tmp_path, monkeypatch):
    from rectifier_zoo.training import entry_data, recipes

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(entry_data, "QUICK_SIZES", {"n_train": 300, "n_valid": 100, "n_test": 100})
    monkeypatch.setattr(recipes, "QUICK_EPOCHS", 1)
    return tmp_path


def test_use_it_from_python_runs_as_written(small, capsys):
    (block,) = code_blocks("Use it from Python")
    assert "rz.sparsity(result.model, x)" in block
    namespace = {}
    exec(compile(block, "README.md: Use it from Python", "exec"), namespace)  # noqa: S102
    rz = namespace["rz"]
    assert namespace["model"].count_params() == 2_797_010
    assert namespace["spec"].name == "mnist_rect_l1"
    assert namespace["x"].shape == (2000, 1024)
    stats = rz.sparsity(namespace["result"].model, namespace["x"])
    assert set(stats) == {"hidden_1", "hidden_2", "hidden_3"} and all(0 <= s["zeros"] <= 1 for s in stats.values())
    assert "shapeset_rect_l1: test error" in capsys.readouterr().out


def test_datasets_examples_run_as_written(small):
    if not FASHION_DIR.is_dir():  # .ci/run installs Debian's dataset-fashion-mnist
        pytest.fail(f"{FASHION_DIR} is missing: apt-get install dataset-fashion-mnist (the README's example reads it)")
    (block,) = code_blocks("Datasets")[:1]
    namespace = {"rz": __import__("rectifier_zoo")}
    exec(compile(block, "README.md: Datasets", "exec"), namespace)  # noqa: S102
    splits = namespace["splits"]
    assert [len(part[1]) for part in (splits.train, splits.valid, splits.test)] == [50_000, 10_000, 10_000]
    assert splits.train[0].dtype == np.float32 and splits.train[0].shape[1] == 784
    listed = re.search(r"rz\.datasets\.names\(\)\s+# (\[.*\])", block).group(1)
    assert listed == str(namespace["rz"].datasets.names())


def test_shapeset_grid_example_runs_as_written(small):
    (snippet,) = re.findall(r"`(from rectifier_zoo\.datasets import shapeset; [^`]+)`", section("Datasets"))
    exec(snippet, {})  # noqa: S102
    assert (small / "grid.png").read_bytes()[:4] == b"\x89PNG"

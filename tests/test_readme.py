"""The README's first five minutes hold: its example runs as written, its table is the model
cards', its links lead somewhere, and it stays short. The examples moved to ``docs/`` run too.

Each example is cut out of its page and executed, unchanged, in a fresh namespace. Only the
environment is made small: ``keras.datasets.mnist.load_data()`` answers from the real IDX
files (``tests/realdata.py``: nothing is downloaded), the quick mode's splits and epochs shrink,
and the zoo home and working directory are temporary.
"""

import ast
import pathlib
import re

import numpy as np
import pytest

from realdata import FASHION_MNIST, IDX_FILES, MNIST, keras_test_split, require

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_LINES = 200
TWO_COMMANDS = (
    "python3 -m pip install -r requirements.txt && python3 -m pip install --no-deps -e . && rectifier-zoo reproduce --quick",
    "python3 -m pip install -r requirements-test.txt && python3 -m pip install --no-deps -e . && python3 -m pytest -n 2 -q",
)


def section(title, page=README) -> str:
    text = page.read_text()
    start = text.index(f"\n## {title}\n") if f"\n## {title}\n" in text else text.index(f"# {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def code_blocks(title, page=README) -> list:
    """The indented (4-space) code blocks of a page's section, dedented."""
    blocks, current = [], []
    for line in section(title, page).splitlines() + [""]:
        if line.startswith("    ") and not line.lstrip().startswith("- "):
            current.append(line[4:])
        elif current and line.strip() == "":
            current.append("")
        else:
            if any(s.strip() for s in current):
                blocks.append("\n".join(current).strip("\n"))
            current = []
    return blocks


def run(block, name, namespace):
    """Execute ``block``; its last line, when an expression, is evaluated and returned."""
    tree = ast.parse(block)
    last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)  # noqa: S102
    return None if last is None else eval(compile(ast.Expression(last.value), name, "eval"), namespace)  # noqa: S307


@pytest.fixture
def small(zoo_home, tmp_path, monkeypatch):
    from rectifier_zoo.training import entry_data, recipes

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(entry_data, "QUICK_SIZES", {"n_train": 300, "n_valid": 100, "n_test": 100})
    monkeypatch.setattr(recipes, "QUICK_EPOCHS", 1)
    return tmp_path


# ---------------------------------------------------------------- the README


def test_the_readme_is_the_first_five_minutes():
    text = README.read_text()
    assert len(text.splitlines()) <= MAX_LINES
    assert text.index('rz.load("mnist_rect_l1")') < text.index("## The two commands")  # the example comes first
    for command in TWO_COMMANDS:
        assert f"\n    {command}\n" in text
    assert "@inproceedings{glorot2011deep," in text and "title  = {Sparse Rectifier Neural Networks}" in text
    assert "Apache License 2.0" in text and 'license = { text = "Apache-2.0" }' in (ROOT / "pyproject.toml").read_text()


def test_the_first_example_scores_the_model_card_on_keras_own_mnist(zoo_home, monkeypatch):
    import keras

    from rectifier_zoo.hub import locate as hub, model_card, store

    x_test, y_test = keras_test_split(MNIST)  # what keras.datasets.mnist.load_data() gives, from the IDX files
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x_test[:0], y_test[:0]), (x_test, y_test)))
    (block,) = code_blocks("Load a model, evaluate it on Keras's MNIST")
    namespace = {}
    predicted = run(block, "README.md: first example", namespace)
    folder = hub.EXPORTS_DIR / "mnist_rect_l1"
    card_error = model_card.read(folder / str(max(store.versions(folder))))["metrics"]["test_error"]
    assert 1 - namespace["accuracy"] == pytest.approx(card_error, abs=5e-5)  # the same 158 images wrong
    claimed = re.search(r"accuracy ([\d.]+): the model card's ([\d.]+)% test error", block)
    assert float(claimed.group(1)) == pytest.approx(namespace["accuracy"], abs=5e-5)
    assert float(claimed.group(2)) == round(100 * card_error, 2)
    assert f"# {predicted!r}" in block and predicted.tolist() == [y_test[0]]


def test_the_shipped_table_is_the_model_cards():
    from rectifier_zoo.reproduction import summary

    text = README.read_text()
    table = text[text.index("<!-- shipped-table") : text.index("<!-- /shipped-table -->")].split("\n", 1)[1]
    paste = "python3 -c 'from rectifier_zoo.reproduction import summary; print(summary.shipped_table())'"
    assert table.strip() == summary.shipped_table(), f"the README's shipped table is stale: paste the output of {paste}"


def test_the_readmes_links_lead_to_files():  # the docs' own links are checked by their strict build (test_docs)
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    assert "docs/inputs.md" in targets and "docs/serving.md" in targets
    for target in targets:
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


# ---------------------------------------------------------------- the examples moved to docs/


def test_the_python_page_runs_as_written(small, capsys):
    (block,) = code_blocks("Python", DOCS / "python.md")[:1]
    assert "rz.sparsity(result.model, x)" in block
    namespace = {}
    run(block, "docs/python.md", namespace)
    rz = namespace["rz"]
    assert namespace["model"].count_params() == 2_797_010
    assert namespace["spec"].name == "mnist_rect_l1"
    assert namespace["x"].shape == (2000, 1024)
    stats = rz.sparsity(namespace["result"].model, namespace["x"])
    assert set(stats) == {"hidden_1", "hidden_2", "hidden_3"} and all(0 <= s["zeros"] <= 1 for s in stats.values())
    assert "shapeset_rect_l1: test error" in capsys.readouterr().out


def test_the_datasets_page_runs_as_written(small):
    require(FASHION_MNIST, IDX_FILES)  # the page's example reads Debian's copy
    (block,) = code_blocks("Datasets", DOCS / "datasets.md")[:1]
    namespace = {"rz": __import__("rectifier_zoo")}
    run(block, "docs/datasets.md", namespace)
    splits = namespace["splits"]
    assert [len(part[1]) for part in (splits.train, splits.valid, splits.test)] == [50_000, 10_000, 10_000]
    assert splits.train[0].dtype == np.float32 and splits.train[0].shape[1] == 784
    listed = re.search(r"rz\.datasets\.names\(\)\s+# (\[.*\])", block).group(1)
    assert listed == str(namespace["rz"].datasets.names())


def test_the_shapeset_grid_example_runs_as_written(small):
    (snippet,) = re.findall(r"`(from rectifier_zoo\.datasets import shapeset; [^`]+)`", section("Datasets", DOCS / "datasets.md"))
    exec(snippet, {})  # noqa: S102
    assert (small / "grid.png").read_bytes()[:4] == b"\x89PNG"

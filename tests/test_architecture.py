"""The package's shape: one-way imports, modules of one size, no branches on a dataset's or neuron's name."""

import ast
import importlib.util
import pathlib

import pytest

from rectifier_zoo import datasets
from rectifier_zoo.nn import neurons

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("module_map", ROOT / "tools" / "module_map.py")
module_map = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module_map)

MAX_LINES = 500


def test_nothing_imports_in_a_circle():
    assert module_map.cycles(module_map.imports()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert module_map.cycles(graph) == [["a", "b", "c", "a"]]
    assert module_map.layers({"a": {"b"}, "b": set()}) == {"a": 1, "b": 0}


@pytest.mark.parametrize("name", sorted(module_map.modules()))
def test_no_module_is_over_500_lines(name):
    lines = len(module_map.modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by concept"


def _prefix_branches(path):
    names = {d.name for d in datasets.descriptors()} | {n.name for n in neurons.NEURONS}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("startswith", "removeprefix"):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and str(arg.value).rstrip("_") in names:
                    yield f"{path.name}:{node.lineno}: .{node.func.attr}({arg.value!r})"


def test_no_code_branches_on_a_dataset_or_neuron_name():
    found = [hit for path in module_map.modules().values() for hit in _prefix_branches(path)]
    assert found == [], "use the dataset / neuron descriptors instead: " + "; ".join(found)


def test_the_readme_shows_the_module_map_as_the_imports_make_it():
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- module-map -->\n```text\n", "```\n<!-- /module-map -->"
    assert start in readme and end in readme, "the README's code map lost its markers"
    shown = readme.split(start, 1)[1].split(end, 1)[0].rstrip("\n")
    assert shown == module_map.render(), "the README's module map is stale: paste `python tools/module_map.py` into it"

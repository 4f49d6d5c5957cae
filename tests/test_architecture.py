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


def test_imports_between_rooms_run_down_the_floors():
    assert module_map.upward(module_map.imports()) == []


def test_the_floor_check_finds_an_import_that_runs_up_and_a_room_on_no_floor():
    graph = {"rectifier_zoo.nn.layers": {"rectifier_zoo.hub.store", "rectifier_zoo.errors"},
             "rectifier_zoo.hub.store": {"rectifier_zoo.nn.layers"},
             "rectifier_zoo.attic": set()}
    assert module_map.upward(graph) == [
        "attic: its room 'attic' is on no floor of FLOORS",
        "nn.layers (floor 2) imports hub.store (floor 5)",
    ]


def test_the_top_level_keeps_the_public_face_only():
    top = [p.name for p in (ROOT / "rectifier_zoo").glob("*.py")]
    assert len(top) <= 12, f"{len(top)} modules directly in rectifier_zoo/: give the new one its subpackage"


def _code_lines(node):
    """A function's lines without its docstring."""
    first = node.body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    start = node.body[1].lineno if docstring and len(node.body) > 1 else first.lineno
    return node.end_lineno - start + 1


def test_no_function_is_over_60_lines():
    long = [f"{name}.{node.name}: {_code_lines(node)} lines"
            for name, path in module_map.modules().items()
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _code_lines(node) > 60]
    assert long == [], "split by step: " + "; ".join(long)


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


def _between(text, marker):
    start, end = f"<!-- {marker} -->\n```text\n", f"```\n<!-- /{marker} -->"
    assert start in text and end in text, f"docs/architecture.md lost its {marker} markers"
    return text.split(start, 1)[1].split(end, 1)[0].rstrip("\n")


def test_the_architecture_page_shows_the_floors_and_the_module_map_as_the_imports_make_them():
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert _between(page, "floors") == module_map.render_floors(), "paste `python tools/module_map.py --floors`"
    assert _between(page, "module-map") == module_map.render(), "the module map is stale: paste `python tools/module_map.py`"
    for rooms in module_map.FLOORS:
        for room in rooms:
            assert f"`{room}" in page, f"docs/architecture.md does not say what the room {room!r} holds"

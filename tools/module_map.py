"""The package's module map, read from its imports: `python tools/module_map.py`.

Every import of a ``rectifier_zoo`` module counts, function-level ones included
(they are a dependency all the same, only later). Modules are printed by layer:
layer 0 imports no other module of the package, and each module sits one layer
above the highest module it imports, so reading down the list follows the
imports from the commands to the foundations. ``tests/test_architecture.py``
uses it to check that nothing imports in a circle, that imports between the
package's rooms (its subpackages and top-level modules) run one way, down
``FLOORS``, and that no module is too long. ``docs/architecture.md`` shows the
map this prints.
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "rectifier_zoo"

# The package's rooms, from the ground up: a room may import rooms on its own floor or
# below, never above. A room is a subpackage or a top-level module. The package's
# ``__init__`` (the lazy public face) stands outside the floors.
FLOORS = (
    ("errors", "_internal"),        # plumbing
    ("paper", "datasets"),          # the published figures; the data
    ("nn",),                        # layers, regularizers, callbacks, models, neurons
    ("sparse", "training"),         # sparse inference; the fit loop, recipes, checkpoints
    ("spec", "entries", "zoo"),     # what an entry is, the declarations, the registry
    ("hub",),                       # models on disk and on the wire
    ("api", "listing"),             # the public verbs; the catalogue
    ("reproduction", "tuning"),     # the paper's tables; KerasTuner searches
    ("cli", "__main__"),            # the command line
)


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    """Module name -> its file, for every module of the package."""
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _targets(node, known) -> set:
    """The package modules one import statement names (``from a import b``: ``a.b`` if a module, else ``a``)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in known}
    if not isinstance(node, ast.ImportFrom) or not node.module or not node.module.startswith(PACKAGE):
        return set()
    found = set()
    for alias in node.names:
        full = f"{node.module}.{alias.name}"
        found.add(full if full in known else node.module)
    return {m for m in found if m in known}


def imports() -> dict:
    """Module -> the package modules it imports (a package's ``__init__`` excluded as a target of
    its own submodules' relative names)."""
    known = modules()
    graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        found = set().union(*(_targets(node, known) for node in ast.walk(tree)))
        graph[name] = found - {name}
    return graph


def cycles(graph) -> list:
    """Every import cycle, as a list of modules (empty when the graph is one-way)."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == PACKAGE:  # the package's lazy front door imports nothing at import time
                continue
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def layers(graph) -> dict:
    """Module -> layer (0: imports no package module). Assumes no cycles."""
    layer = {}

    def depth(node):
        if node not in layer:
            below = [depth(m) for m in graph[node] if m != PACKAGE]
            layer[node] = 1 + max(below) if below else 0
        return layer[node]

    for node in graph:
        depth(node)
    return layer


def room(module) -> str:
    """The room a module stands in: its subpackage, or itself at the top level."""
    return module.removeprefix(PACKAGE + ".").split(".")[0]


def floor_of(module, floors=FLOORS) -> int | None:
    """The floor of a module's room (None: the package's face, or a room on no floor)."""
    return next((i for i, rooms in enumerate(floors) if room(module) in rooms), None)


def upward(graph, floors=FLOORS) -> list:
    """Every import that runs up the floors, or from a room that is on no floor, as text."""
    found = []
    for name in sorted(graph):
        if name == PACKAGE:
            continue
        here = floor_of(name, floors)
        if here is None:
            found.append(f"{short(name)}: its room {room(name)!r} is on no floor of FLOORS")
            continue
        for target in sorted(graph[name] - {PACKAGE}):
            there = floor_of(target, floors)
            if there is None or there > here:
                found.append(f"{short(name)} (floor {here}) imports {short(target)} (floor {there})")
    return found


def render_floors() -> str:
    """FLOORS, top floor first, one line each."""
    return "\n".join(f"floor {i}: {', '.join(rooms)}" for i, rooms in reversed(list(enumerate(FLOORS))))


def summary(path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def short(name) -> str:
    return name.removeprefix(PACKAGE + ".") or PACKAGE


def render() -> str:
    graph, files = imports(), modules()
    layer = layers(graph)
    lines = []
    for level in sorted(set(layer.values()), reverse=True):
        lines.append(f"layer {level}")
        for name in sorted(n for n in layer if layer[n] == level):
            uses = ", ".join(sorted(short(m) for m in graph[name] if m != PACKAGE)) or "-"
            lines.append(f"  {short(name):<28} {summary(files[name])}")
            lines.append(f"  {'':<28}   imports: {uses}")
    return "\n".join(lines)


if __name__ == "__main__":
    found = cycles(imports())
    if found:
        print("import cycles:", *(" -> ".join(map(short, c)) for c in found), sep="\n  ")
        sys.exit(1)
    wrong = upward(imports())
    if wrong:
        print("imports that run up the floors:", *wrong, sep="\n  ")
        sys.exit(1)
    print(render_floors() if sys.argv[1:] == ["--floors"] else render())

"""Model cards: what an exported version is, how well it did, and its files' sha256.

Each exported version folder holds ``model_card.json`` (machine-readable; the
loaders check hashes against it) and ``README.md`` (the same facts for people).
The card lists the sha256 of every file in the folder but itself. ``read`` refuses
a card that lacks a field the loaders and the manifest rely on (``REQUIRED``),
naming the card and the field.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib

from rectifier_zoo._internal import atomic
from rectifier_zoo.hub import integrity
from rectifier_zoo.errors import ArtifactError

CARD = "model_card.json"
README = "README.md"
FORMAT = "rectifier_zoo.hub.model_card/1"
# What loading, the manifest and a re-export read from every card: (field, its type, in words).
REQUIRED = (
    ("name", str, "a string"),
    ("version", int, "an integer"),
    ("keras_file", str, "a string"),
    ("files", dict, "an object"),
)


def result_dict(result) -> dict:
    """A training result as a plain dict: a ``TrainResult``, a dict, or None (-> {})."""
    if result is None:
        return {}
    if dataclasses.is_dataclass(result):
        return result.to_dict()
    if isinstance(result, dict):
        return dict(result)
    raise ArtifactError(
        f"result must be a TrainResult or its dict (TrainResult.to_dict()), got {type(result).__name__}"
    )


def paper_figures(name) -> list:
    """The paper's figures for zoo entry ``name`` (empty for a name outside the zoo)."""
    from rectifier_zoo import zoo

    if name not in zoo.list_models():
        return []
    return [dataclasses.asdict(fig) for fig in zoo.get_spec(name, tuned=False).paper]


def architecture(model) -> dict:
    """Input width, hidden sizes, classes and parameter count of a zoo classifier."""
    from rectifier_zoo.nn.models import hidden_layers, input_width

    return {
        "input_dim": input_width(model),
        "hidden": [int(layer.units) for layer in hidden_layers(model)],
        "num_classes": int(model.outputs[0].shape[-1]),
        "parameters": int(model.count_params()),
    }


def build(model, name, version, result=None, keras_file=None, saved_model=True) -> dict:
    """The card of ``model`` exported as ``name``/``version`` (files are added on write).

    Args:
        model: the exported Keras model.
        name: the model folder name (a zoo entry name when it is one).
        version: the integer version.
        result: a ``TrainResult`` or its dict (metrics, hyper-parameters), or None.
        keras_file: the ``.keras`` file's name inside the version folder.
        saved_model: whether the folder holds a SavedModel for TF Serving.
    """
    from rectifier_zoo._internal.environment import library_versions

    res = result_dict(result)
    arch = architecture(model)
    return {
        "format": FORMAT,
        "name": name,
        "version": int(version),
        "dataset": res.get("dataset"),
        "data": res.get("data") or {},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "keras_file": keras_file or f"{name}.keras",
        "saved_model": bool(saved_model),
        "architecture": arch,
        "signature": {
            "name": "serving_default",
            "inputs": {"features": {"dtype": "float32", "shape": [None, arch["input_dim"]]}},
            "outputs": {
                "probabilities": {"dtype": "float32", "shape": [None, arch["num_classes"]]},
                "class": {"dtype": "int64", "shape": [None]},
            },
        },
        "metrics": {
            key: res.get(key) for key in ("test_error", "valid_error", "sparsity", "epochs", "best_epoch")
        },
        "paper": paper_figures(name),
        "hyperparameters": res.get("hyperparameters") or {},
        "versions": library_versions(),
        "files": {},
    }


def write(folder, card: dict) -> dict:
    """Write ``README.md`` then ``model_card.json`` into ``folder``, hashing every other file.

    Returns the card as written (with its ``files``).
    """
    folder = pathlib.Path(folder)
    atomic.write_text(folder / README, render(card))
    card = {**card, "files": integrity.hash_tree(folder, exclude=(CARD,))}
    atomic.write_json(folder / CARD, card)
    return card


def read(folder) -> dict:
    """The card of a version folder; ArtifactError naming the card and the fix if it is missing,
    unreadable or lacks a field of ``REQUIRED``."""
    path = pathlib.Path(folder) / CARD
    again = f"delete {folder} and export or fetch it again"
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise integrity.artifact_error(f"{path} is not a regular file", again)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise integrity.artifact_error(f"{path} is missing", f"{folder} is not a complete exported version") from None
    except (OSError, ValueError) as err:
        raise integrity.artifact_error(f"{path} does not parse ({err})", again) from None
    if not isinstance(card, dict):
        raise integrity.artifact_error(f"{path} is not a rectifier_zoo model card (not an object)", again)
    for field, kind, words in REQUIRED:
        value = card.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            shown = "no" if field not in card else f"a bad ({type(value).__name__})"
            raise integrity.artifact_error(
                f"{path} is not a whole rectifier_zoo model card: it has {shown} '{field}' field ({words} expected)", again
            )
    return card


def _percent(value):
    return "—" if value is None else f"{100 * value:.2f}%"


def _sparsity_rows(sparsity) -> list:
    rows = ["| layer | zeros | dead units | mean activation |", "|---|---|---|---|"]
    for layer, stats in (sparsity or {}).items():
        rows.append(
            f"| {layer} | {stats.get('zeros', 0):.2%} | {stats.get('dead', 0):.2%} | {stats.get('mean', 0):.4g} |"
        )
    return rows if sparsity else ["not measured (export was given no training result)"]


def _paper_rows(paper) -> list:
    if not paper:
        return ["no published figure for this cell"]
    rows = ["| source | test error | sparsity (zeros per layer) | note |", "|---|---|---|---|"]
    for fig in paper:
        spread = f" ± {fig['spread']:.2f}" if fig.get("spread") else ""
        sparsity = " / ".join(f"{s:.2f}%" for s in fig.get("sparsity") or ()) or "—"
        rows.append(f"| {fig['source']} | {fig['test_error']:.2f}%{spread} | {sparsity} | {fig.get('note') or ''} |")
    return rows


def _serving_line(card, arch) -> str:
    signature = (
        f"signature `serving_default`, input `features` (float32, batch × {arch['input_dim']}), "
        "outputs `probabilities` (float32, batch × classes) and `class` (int64)"
    )
    if card.get("saved_model", True):
        return f"TF Serving: this folder is a SavedModel; {signature}."
    return (
        "TF Serving: this folder holds the Keras file only (one copy of the weights). Write the servable "
        f"SavedModel with `rectifier-zoo export {card['name']} --export-dir serving --serving-config "
        f"--base-path /models`; {signature}."
    )


def _data_text(card) -> str:
    """The dataset's name, and whose copy it was when the result recorded one (e.g. the CIFAR-10 JPEG copy)."""
    data = card.get("data") or {}
    name = card.get("dataset") or "unknown"
    return f"{name}, {data['source']} ({data['fingerprint']})" if data.get("source") else name


def render(card: dict) -> str:
    """The human-readable README.md of a card."""
    m, arch = card["metrics"], card["architecture"]
    lines = [
        f"# {card['name']} — version {card['version']}",
        "",
        f"Dataset: {_data_text(card)}. Exported {card['created']}.",
        (
            f"Architecture: {arch['input_dim']} inputs → hidden {arch['hidden']} → {arch['num_classes']} classes "
            f"({arch['parameters']:,} parameters)."
        ),
        "",
        "## Measured",
        "",
        f"Test error {_percent(m.get('test_error'))}, validation error {_percent(m.get('valid_error'))}.",
        "",
        *_sparsity_rows(m.get("sparsity")),
        "",
        "## The paper's figure for this cell",
        "",
        *_paper_rows(card.get("paper")),
        "",
        "## Use",
        "",
        "```python",
        "import rectifier_zoo as rz",
        f'model = rz.load("{card["name"]}", version={card["version"]})',
        "```",
        "",
        _serving_line(card, arch),
        "",
        "## Hyper-parameters",
        "",
        "```json",
        json.dumps(card.get("hyperparameters") or {}, indent=2, sort_keys=True, default=str),
        "```",
        "",
        "## Library versions",
        "",
        ", ".join(f"{k} {v}" for k, v in sorted(card["versions"].items())),
        "",
        f"File hashes (sha256) are in `{CARD}`.",
        "",
    ]
    return "\n".join(lines)

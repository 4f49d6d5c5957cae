"""Export to TF Serving's layout: ``<export dir>/<name>/<version>/`` folders with cards.

A version folder holds the Keras file (``<name>.keras``, what ``rz.load`` reads),
``model_card.json`` and ``README.md``, and, unless ``saved_model=False``, the
SavedModel TF Serving loads (``saved_model.pb``, ``variables/``). The shipped zoo
in the repository keeps the Keras file only (one copy of the weights per entry);
``rectifier-zoo export NAME --export-dir DIR`` writes the servable folder from it.
A version is assembled in a dot-prefixed staging folder (TF Serving only loads
all-digit folder names) and renamed into place whole, so a reader or a server
never sees half a version, and a killed export leaves nothing it would load.

``<export dir>/manifest.json`` lists every model, version, file and sha256 with key
metrics; it is rebuilt from the cards under a file lock after each export, so two
exports at once never lose an entry. Remote stores are export dirs served over
http(s) or file:// (see ``rectifier_zoo.hub``).
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import pathlib

from rectifier_zoo import atomic, integrity, locking, model_card
from rectifier_zoo.errors import ArtifactError, ConfigError

MANIFEST = "manifest.json"
SERVING_CONFIG = "models.config"
SIGNATURE = "serving_default"
SAVED_MODEL = "saved_model.pb"
_LOCK = ".manifest.lock"
MAX_VERSION = 2**63 - 1  # TF Serving's version numbers are int64


# ---------------------------------------------------------------- reading layouts


def is_whole(version_dir) -> bool:
    """Whether a version folder is complete: a readable card and every file it lists.

    The card is written last, so a folder whose card lists files that are not
    there was tampered with or half copied; it is skipped, never loaded.
    """
    version_dir = pathlib.Path(version_dir)
    try:
        card = model_card.read(version_dir)
    except ArtifactError:
        return False
    keras_file = card.get("keras_file")
    if not isinstance(keras_file, str) or keras_file not in card["files"]:
        return False
    return all((version_dir / rel).is_file() for rel in card["files"])


def is_servable(version_dir) -> bool:
    """Whether TF Serving can load a version folder: whole, with its SavedModel."""
    version_dir = pathlib.Path(version_dir)
    return is_whole(version_dir) and (version_dir / SAVED_MODEL).is_file() and (version_dir / "variables").is_dir()


def versions(model_dir, servable=False) -> list:
    """Sorted version numbers of the whole (or, with ``servable``, servable) versions of a model folder."""
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    check = is_servable if servable else is_whole
    return sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit() and check(p))


def _taken(model_dir) -> list:
    """Every all-digit name in a model folder, whole or not: none may be reused."""
    return sorted(int(p.name) for p in pathlib.Path(model_dir).iterdir() if p.name.isdigit())


# ---------------------------------------------------------------------- export


def export(
    model_or_name, export_dir, version=None, name=None, result=None, verbose=1, saved_model=True
) -> pathlib.Path:
    """Export a model as ``export_dir/<name>/<version>/`` for TF Serving, with its card.

    The SavedModel's ``serving_default`` signature takes ``features`` (float32,
    batch x input width) and returns ``probabilities`` (float32, batch x classes)
    and ``class`` (int64). The ``.keras`` file, ``model_card.json`` (metrics,
    paper figures, hyper-parameters, library versions, sha256 of every file) and
    ``README.md`` sit beside it. ``export_dir/manifest.json`` is updated.

    Args:
        model_or_name: a Keras model (a zoo model carries its entry name), a path
            to a ``.keras`` file (its ``<stem>.json`` training result is read when
            present), or a zoo name (loaded with ``rz.load``).
        export_dir: the TF Serving model base folder (created if needed).
        version: an integer > 0; default: one more than the highest existing.
            An explicit version that exists already is refused.
        name: the model folder name; default: the model's name.
        result: a ``TrainResult`` or its dict, for the card's metrics.
        verbose: 0 silent, 1 one line saying where it went.
        saved_model: write the SavedModel (False: the ``.keras`` file and card only,
            what ``rz.load`` needs and the repository ships: one copy of the weights).

    Returns:
        The version folder.

    Example:

    >>> result = rz.train("shapeset_rect_l1", quick=True)
    >>> rz.export(result.model, "exports", result=result)
    PosixPath('exports/shapeset_rect_l1/1')
    """
    from rectifier_zoo import validation

    export_dir = validation.folder("export_dir", export_dir)  # before any slow loading
    if version is not None:
        version = _check_version(version)
    if name is not None:
        integrity.safe_name(name)
    model, result = _resolve(model_or_name, result)
    name = integrity.safe_name(model.name if name is None else name)
    model_dir = pathlib.Path(export_dir) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    integrity.clean_stale_staging(model_dir)
    if version is not None and str(version) in os.listdir(model_dir):
        raise ArtifactError(f"{model_dir / str(version)} already exists; omit version= to export as the next version")

    staging = integrity.staging_dir(model_dir, "export")
    try:
        guess = version or max(_taken(model_dir), default=0) + 1
        if saved_model:
            _write_saved_model(model, staging)
        keras_file = _save_keras(model, name, staging)
        card = model_card.build(model, name, guess, result, keras_file=keras_file, saved_model=saved_model)
        card = model_card.write(staging, card)
        integrity.pause_before_rename()
        target = _publish(staging, model_dir, card, fixed=version is not None)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    update_manifest(export_dir)
    if verbose:
        error = card["metrics"].get("test_error")
        shown = f", test error {error:.2%}" if error is not None else ""
        print(f"exported {name} version {target.name} to {target}{shown}")
    return target


def _check_version(version) -> int:
    from rectifier_zoo import validation

    # TF Serving parses version folders as int64: a larger number would never be served.
    return validation.number("version", version, low=1, high=MAX_VERSION, integer=True)


def _resolve(model_or_name, result):
    """The Keras model to export and its training result (dict or None)."""
    if isinstance(model_or_name, (str, os.PathLike)):
        from rectifier_zoo import hub

        located = hub.locate(model_or_name)
        # A re-export keeps the card's facts (or the result JSON beside a bare .keras file).
        return hub.load_keras(located), result if result is not None else hub.result_of(located)
    import keras

    if not isinstance(model_or_name, keras.Model):
        raise ConfigError(
            f"export takes a keras.Model, a .keras path or a zoo name, got {type(model_or_name).__name__}"
        )
    if len(model_or_name.inputs or ()) != 1 or len(model_or_name.inputs[0].shape) != 2:
        raise ConfigError(f"model {model_or_name.name!r} must take one (batch, features) input to be exported")
    if result is None:  # a model from rz.load, weights unchanged: its card's facts, as the CLI writes them
        from rectifier_zoo import hub

        found = hub.provenance(model_or_name)
        result = found.result if found is not None else None
    return model_or_name, result


def read_result_beside(keras_path):
    """The training result ``<stem>.json`` that ``rectifier-zoo train`` writes beside a .keras file, or None."""
    path = pathlib.Path(keras_path).with_suffix(".json")
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ArtifactError(f"{path} does not parse as a training result ({err}); fix or delete it") from None
    if not isinstance(found, dict):
        raise ArtifactError(f"{path} is not a training result (a JSON object); fix or delete it")
    return found


def _write_saved_model(model, folder) -> None:
    """The SavedModel with the named ``serving_default`` signature, each weight stored once."""
    import keras
    import tensorflow as tf

    spec = tf.TensorSpec((None, int(model.inputs[0].shape[-1])), tf.float32, name="features")
    archive = keras.export.ExportArchive()
    forward = _forward(archive, model, spec)

    @tf.function(input_signature=[spec], autograph=False)
    def serve(features):
        probabilities = forward(features)
        # argmax in TensorFlow: a JAX-side cast to int64 is truncated to int32 unless x64 is on.
        classes = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        return {"probabilities": probabilities, "class": classes}

    serve.get_concrete_function()  # a traced tf.function is added as is, never through jax2tf
    archive.add_endpoint(SIGNATURE, serve)
    archive.write_out(str(folder), verbose=False)


def _forward(archive, model, spec):
    """The model's inference pass as a function TensorFlow can trace into ``serve``.

    On TensorFlow the archive saves the variables the endpoint captures; also
    calling ``archive.track(model)`` would save each weight a second time, through
    the Keras wrapper of the same ``tf.Variable`` (keras-team/keras#23553). On JAX
    the pass must be converted by the archive (jax2tf), which needs the model
    tracked (one ``tf.Variable`` copy per weight) and leaves an extra ``predict``
    signature in the SavedModel.
    """
    import keras

    def forward(features):
        return model(features, training=False)

    if keras.backend.backend() == "tensorflow":
        return forward
    archive.track(model)
    return archive.add_endpoint("predict", forward, input_signature=[spec])


def _save_keras(model, name, folder) -> str:
    """Save ``<name>.keras``: the weights of an uncompiled copy named ``name``.

    Keras 3 ignores ``include_optimizer=False`` for ``.keras`` files, so a copy
    without an optimizer is what keeps SGD momentum (as large as the weights) out
    of the file; ``rz.load`` compiles a model that loads uncompiled.
    """
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.name = name  # so rz.load of this file gives back a model that knows its entry
    filename = f"{name}.keras"
    copy.save(pathlib.Path(folder) / filename)
    return filename


def _publish(staging, model_dir, card, fixed) -> pathlib.Path:
    """Rename ``staging`` to the next free version; on a collision re-number and retry.

    The version number is part of the card, so a re-numbered version gets its card
    rewritten before the next try. ``os.rename`` refuses to replace a non-empty
    folder, which is what keeps two exports racing for one number apart.
    """
    while True:
        target = model_dir / str(card["version"])
        if not target.exists():
            try:
                os.rename(staging, target)
                atomic._fsync_dir(model_dir)
                return target
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        if fixed:
            raise ArtifactError(f"{target} already exists; omit version= to export as the next version")
        card = model_card.write(staging, {**card, "version": max(_taken(model_dir), default=0) + 1})


# ------------------------------------------------------------ manifest, config


def model_dirs(export_dir, servable=False) -> list:
    """The model folders of an export dir holding at least one whole (or servable) version."""
    export_dir = pathlib.Path(export_dir)
    if not export_dir.is_dir():
        return []
    found = []
    for path in sorted(export_dir.iterdir()):
        if path.is_dir() and not path.name.startswith(".") and versions(path, servable):
            found.append(path)
    return found


def _manifest_entry(version_dir) -> dict:
    card = model_card.read(version_dir)
    files = {**card["files"], model_card.CARD: integrity.sha256_file(version_dir / model_card.CARD)}
    metrics = card.get("metrics") or {}
    zeros = {layer: stats.get("zeros") for layer, stats in (metrics.get("sparsity") or {}).items()}
    return {
        "files": files,
        "keras_file": card.get("keras_file"),
        "dataset": card.get("dataset"),
        "created": card.get("created"),
        "test_error": metrics.get("test_error"),
        "valid_error": metrics.get("valid_error"),
        "zeros": zeros,
    }


def build_manifest(export_dir) -> dict:
    """The manifest of an export dir, read from the cards of its whole versions."""
    models = {}
    for model_dir in model_dirs(export_dir):
        entries = {str(v): _manifest_entry(model_dir / str(v)) for v in versions(model_dir)}
        models[model_dir.name] = {"latest": max(map(int, entries)), "versions": entries}
    return {
        "format": "rectifier_zoo.manifest/1",
        "updated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "models": models,
    }


def update_manifest(export_dir) -> pathlib.Path:
    """Rewrite ``export_dir/manifest.json`` from the cards, atomically, under a file lock.

    Rebuilding from the cards (rather than appending) means a version whose
    exporter died after its rename but before this step is picked up by the next
    export, and a concurrent export can never drop another's entry.
    """
    export_dir = pathlib.Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    with locking.locked(export_dir / _LOCK):
        atomic.write_json(export_dir / MANIFEST, build_manifest(export_dir))
    return export_dir / MANIFEST


def serving_config(export_dir, base_path=None) -> str:
    """TF Serving's ``models.config`` text (a model_config_list) for every servable model folder.

    Folders holding only ``.keras`` versions (the shipped zoo's layout) are left
    out: TF Serving would fail on them. Export them with a SavedModel first.

    Args:
        export_dir: the export dir.
        base_path: the export dir's path as the server sees it (e.g. ``/models``
            inside the tensorflow/serving container); default: its absolute path.
    """
    export_dir = pathlib.Path(export_dir)
    root = str(base_path).rstrip("/") if base_path else str(export_dir.resolve())
    blocks = []
    for model_dir in model_dirs(export_dir, servable=True):
        blocks.append(
            "  config {\n"
            f'    name: "{model_dir.name}"\n'
            f'    base_path: "{root}/{model_dir.name}"\n'
            '    model_platform: "tensorflow"\n'
            "  }\n"
        )
    return "model_config_list {\n" + "".join(blocks) + "}\n"


def write_serving_config(export_dir, base_path=None) -> pathlib.Path:
    """Write ``export_dir/models.config`` (see ``serving_config``), atomically.

    Example:

    >>> write_serving_config("exports", base_path="/models")
    PosixPath('exports/models.config')
    """
    export_dir = pathlib.Path(export_dir)
    if export_dir.exists() and not export_dir.is_dir():
        raise ConfigError(f"export dir {export_dir} is a file, not a folder; pass the folder models were exported into")
    if not export_dir.is_dir():
        raise ArtifactError(f"export dir {export_dir} does not exist; export a model into it first")
    target = export_dir / SERVING_CONFIG
    atomic.write_text(target, serving_config(export_dir, base_path))
    return target

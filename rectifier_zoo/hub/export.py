"""Writing a version: a keras.Model as ``<export dir>/<name>/<version>/`` in TF Serving's layout.

A version folder holds the Keras file (``<name>.keras``, what ``rz.load`` reads),
``model_card.json`` and ``README.md``, and, unless ``saved_model=False``, the
SavedModel TF Serving loads (``saved_model.pb``, ``variables/``) whose
``serving_default`` signature takes ``features`` (float32, batch x features) and,
for an image dataset, whose ``images`` signature takes raw pixels (uint8, batch x
the dataset's image shape, e.g. 28 x 28 or 32 x 32 x 3); both return
``probabilities`` and ``class``. The ``.keras`` file holds the network alone
(``rz.load`` puts the dataset's images in front of it again). The shipped zoo
keeps the Keras file only (one copy of the weights per entry); ``rectifier-zoo
export NAME --export-dir DIR`` writes the servable folder from it. Staging,
publishing and the manifest are ``store``'s; TF Serving's ``models.config`` for
an export dir is written here too.

This module takes a model in hand: resolving a zoo name or a path into one, with
its card's facts, is ``rz.export``'s (``rectifier_zoo.api``). Imports store,
model_card, integrity, inputs, validation, atomic and errors: never locate.
"""

from __future__ import annotations

import pathlib

from rectifier_zoo._internal import atomic, validation
from rectifier_zoo.hub import inputs, integrity, model_card, store
from rectifier_zoo.errors import ArtifactError, ConfigError

SERVING_CONFIG = "models.config"
SIGNATURE = "serving_default"  # input FEATURES: float32, batch x features (what clients sent before)
IMAGES_SIGNATURE = "images"  # input IMAGES: uint8, batch x the dataset's image shape
FEATURES, IMAGES = "features", "images"


def export_version(model, export_dir, name=None, version=None, result=None, verbose=1, saved_model=True) -> pathlib.Path:
    """Write ``model`` as the next (or the given) version of ``export_dir/<name>/``, with its card.

    Args:
        model: a Keras model with one (batch, features) input; a zoo model carries its entry name.
        export_dir: the TF Serving model base folder (created if needed).
        name: the model folder name; default: the model's name.
        version: an integer > 0; default: one more than the highest existing.
            An explicit version that exists already is refused.
        result: a ``TrainResult`` or its dict, for the card's metrics.
        verbose: 0 silent, 1 one line saying where it went.
        saved_model: write the SavedModel (False: the ``.keras`` file and card only).

    Returns:
        The version folder.
    """
    export_dir, version = check_target(export_dir, version, name)
    check_model(model)
    name = integrity.safe_name(model.name if name is None else name)
    model_dir = export_dir / name
    model_dir.mkdir(parents=True, exist_ok=True)
    if version is not None:
        store.check_free(model_dir, version)  # before the slow writes
    with store.staged(model_dir, "export") as staging:
        card = _write_version(model, name, version or store.next_version(model_dir), result, staging, saved_model)
        target = store.publish_new(staging, model_dir, card, fixed=version is not None)
    store.update_manifest(export_dir)
    if verbose:
        error = card["metrics"].get("test_error")
        shown = f", test error {error:.2%}" if error is not None else ""
        print(f"exported {name} version {target.name} to {target}{shown}")
    return target


def check_target(export_dir, version=None, name=None) -> tuple:
    """``(export_dir as a Path, version as an int or None)``, or ConfigError before any work.

    ``rz.export`` calls it before loading a model, so a bad target fails fast.
    """
    export_dir = validation.folder("export_dir", export_dir)
    if version is not None:
        version = store.check_version(version)
    if name is not None:
        integrity.safe_name(name)
    return export_dir, version


def check_model(model) -> None:
    """ConfigError unless ``model`` is a keras.Model TF Serving's signature fits: one (batch, features) input."""
    import keras

    if not isinstance(model, keras.Model):
        raise ConfigError(f"export takes a keras.Model, a .keras path or a zoo name, got {type(model).__name__}")
    if len(model.inputs or ()) != 1 or len(model.inputs[0].shape) != 2:
        raise ConfigError(f"model {model.name!r} must take one (batch, features) input to be exported")


def _write_version(model, name, version, result, folder, saved_model) -> dict:
    """Every file of a version into ``folder``, the card last (it hashes the others); the card."""
    if saved_model:
        _write_saved_model(model, folder, inputs.preprocessor_for(model, result))
    keras_file = _save_keras(model, name, folder)
    card = model_card.build(model, name, version, result, keras_file=keras_file, saved_model=saved_model)
    return model_card.write(folder, card)


def _write_saved_model(model, folder, preprocessor=None) -> None:
    """The SavedModel: ``serving_default`` on features and, for an image dataset, ``images`` on raw
    pixels (uint8, batch x the dataset's image shape); each weight stored once.

    Both run the network behind the dataset's preprocessor when there is one, so a features row
    out of range comes back as NaN probabilities and class -1, never a plausible answer.
    """
    import keras
    import tensorflow as tf

    from rectifier_zoo.nn import preprocessing

    network = preprocessing.classifier(model)
    archive = keras.export.ExportArchive()
    if keras.backend.backend() != "tensorflow":
        archive.track(network)  # converted endpoints need the variables tracked (see _forward)

    def forward(x):
        if preprocessor is None:
            return network(x, training=False)
        return preprocessing.classify(lambda features: network(features, training=False), preprocessor, x)

    specs = {SIGNATURE: tf.TensorSpec((None, int(network.inputs[0].shape[-1])), tf.float32, name=FEATURES)}
    if preprocessor is not None:
        specs[IMAGES_SIGNATURE] = tf.TensorSpec((None, *preprocessor.image_shape), tf.uint8, name=IMAGES)
    for signature, spec in specs.items():
        archive.add_endpoint(signature, _serving_function(archive, forward, spec))
    archive.write_out(str(folder), verbose=False)


def _serving_function(archive, forward, spec):
    """``forward`` as a traced tf.function of ``spec`` returning ``probabilities`` and ``class``."""
    import tensorflow as tf

    run = _forward(archive, forward, spec)

    @tf.function(input_signature=[spec], autograph=False)
    def serve(x):
        probabilities = run(x)
        # argmax in TensorFlow: a JAX-side cast to int64 is truncated to int32 unless x64 is on.
        classes = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        refused = tf.reduce_any(tf.math.is_nan(probabilities), axis=-1)  # input out of range
        return {"probabilities": probabilities, "class": tf.where(refused, tf.constant(-1, tf.int64), classes)}

    serve.get_concrete_function()  # a traced tf.function is added as is, never through jax2tf
    return serve


def _forward(archive, forward, spec):
    """The inference pass as a function TensorFlow can trace into a serving function.

    On TensorFlow the archive saves the variables the endpoint captures; also
    calling ``archive.track(model)`` would save each weight a second time, through
    the Keras wrapper of the same ``tf.Variable`` (keras-team/keras#23553). On JAX
    the pass must be converted by the archive (jax2tf), which needs the model
    tracked (one ``tf.Variable`` copy per weight) and leaves an extra signature per
    input in the SavedModel (``predict`` on features, ``predict_images``).
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        return forward
    name = "predict" if spec.name == FEATURES else f"predict_{spec.name}"
    return archive.add_endpoint(name, forward, input_signature=[spec])


def _save_keras(model, name, folder) -> str:
    """Save ``<name>.keras``: the weights of an uncompiled copy named ``name``.

    Keras 3 ignores ``include_optimizer=False`` for ``.keras`` files, so a copy
    without an optimizer is what keeps SGD momentum (as large as the weights) out
    of the file; ``rz.load`` compiles a model that loads uncompiled.
    """
    from rectifier_zoo.nn import preprocessing

    model = preprocessing.classifier(model)  # the network alone: the loader adds the dataset's images
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.name = name  # so rz.load of this file gives back a model that knows its entry
    filename = f"{name}.keras"
    copy.save(pathlib.Path(folder) / filename)
    return filename


# ---------------------------------------------------------------- TF Serving's models.config


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
    blocks = [
        "  config {\n"
        f'    name: "{model_dir.name}"\n'
        f'    base_path: "{root}/{model_dir.name}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n"
        for model_dir in store.model_dirs(export_dir, servable=True)
    ]
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

"""Finding and loading an exported model: the local roots, ``locate``, ``load_keras``, provenance.

A zoo name resolves, in order, to the newest whole version (or ``version=``) in

1. the local cache, ``paths.models_home()/<name>/<version>/``;
2. the repository's ``exports/<name>/<version>/``;
3. the remote store at ``$RECTIFIER_ZOO_URL`` (``rectifier_zoo.hub.remote``),
   downloaded into the cache with every file's sha256 checked.

A path resolves to a ``.keras`` file, a version folder or a model folder. Nothing
found is one ArtifactError that says how to get the model. Loading never trains
(``rz.load(name, train_if_missing=True)``, in ``rectifier_zoo.api``, does) and
never runs code from an artifact: ``.keras`` files load with ``safe_mode=True``
after their sha256 is checked against the version's card.

Imports store, remote, model_card, integrity (and, for names and compiling, the
zoo and training below them): never exporting or api.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import zipfile

from rectifier_zoo._internal import advice, paths
from rectifier_zoo.hub import integrity, model_card, remote, store
from rectifier_zoo.errors import ArtifactError, ConfigError

EXPORTS_DIR = paths.REPO_ROOT / "exports"


@dataclasses.dataclass
class Located:
    """A ``.keras`` file found for loading, and what is known about it."""

    keras_path: pathlib.Path
    card: dict | None
    source: str
    version: int | None = None
    result: dict | None = None

    @property
    def test_error(self):
        metrics = (self.card or {}).get("metrics") or self.result or {}
        error = metrics.get("test_error") if isinstance(metrics, dict) else None
        # A card or result edited by hand may hold anything: only a number is shown.
        return error if isinstance(error, (int, float)) and not isinstance(error, bool) else None


def load_located(located: Located, sparse_inference=False, verbose=True):
    """``load_keras(located)``, announced in one line, sparsified if asked (see ``rz.load``)."""
    model = load_keras(located)
    if verbose:
        error = located.test_error
        shown = f"test error {error:.2%}" if error is not None else "test error not recorded"
        at = f" version {located.version}" if located.version is not None else ""
        import logging  # the line is the caller's to show: logger rectifier_zoo, level INFO

        logging.getLogger(__name__).info("loaded %s%s from %s (%s)", model.name, at, located.source, shown)
    if sparse_inference:
        from rectifier_zoo.sparse.inference import sparsify

        return sparsify(model)
    return model


# ---------------------------------------------------------------------- locate


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.endswith(".keras") or text.startswith((".", "~"))


def locate(name_or_path, version=None) -> Located:
    """Find what ``load`` would load, without loading it; ArtifactError, naming the fix, if nothing is found."""
    located = find(name_or_path, version)
    if located is None:
        raise ArtifactError(missing_message(name_or_path, version))
    return located


def find(name_or_path, version=None) -> Located | None:
    """Like ``locate``, but None for a zoo entry with no trained copy anywhere (so a caller may train it)."""
    if isinstance(name_or_path, os.PathLike) or (isinstance(name_or_path, str) and _looks_like_path(name_or_path)):
        return locate_path(_expand(name_or_path), version)
    if not isinstance(name_or_path, str):
        raise ConfigError(f"load takes a zoo name or a path, got {type(name_or_path).__name__}")
    return find_name(name_or_path, version)


def _expand(path) -> pathlib.Path:
    """``~`` and ``~user`` expanded; an unknown user is an ArtifactError, not a RuntimeError."""
    try:
        return pathlib.Path(path).expanduser()
    except RuntimeError:
        raise ArtifactError(f"no such file or folder: {path} (no such user's home); pass a path or a zoo name") from None


def locate_path(path: pathlib.Path, version=None) -> Located:
    """A ``.keras`` file, a version folder or a model folder (newest or ``version``)."""
    try:
        path.stat()
    except (FileNotFoundError, ValueError):  # ValueError: a NUL byte; both reported below
        pass
    except OSError as err:  # name too long, permission denied, a loop of links...
        raise ArtifactError(f"cannot read {path}: {err.strerror}; pass a .keras file, a version folder or a model folder") from None
    if path.exists() and not (path.is_file() or path.is_dir()):  # a FIFO or device: reading it could block
        raise ArtifactError(f"{path} is not a regular file or folder; pass a .keras file, a version folder or a model folder")
    if path.is_file():
        if path.suffix != ".keras":
            raise ArtifactError(f"{path} is not a model: expected a .keras file, a version folder or a model folder")
        return _locate_file(path)
    if path.is_dir():
        if (path / model_card.CARD).exists():  # a card that is not a file is named by model_card.read
            return locate_version(path)
        found = store.versions(path)
        if found:
            return locate_version(path / str(_pick(found, version, path)))
        raise ArtifactError(
            f"{path} is not a model: expected a .keras file, an exported version folder "
            "(with model_card.json) or a model folder (with numbered versions)"
        )
    raise ArtifactError(
        f"no such file or folder: {path}; pass a .keras file, an exported version folder, "
        "a model folder or a zoo name (see `rectifier-zoo list`)"
    )


def _locate_file(path: pathlib.Path) -> Located:
    card_path = path.parent / model_card.CARD
    if card_path.is_file():
        card = model_card.read(path.parent)
        if card.get("keras_file") == path.name:
            return locate_version(path.parent, str(path))
    return Located(path, None, str(path), result=store.read_result_beside(path))


def locate_version(folder: pathlib.Path, source=None) -> Located:
    """The ``.keras`` file of an exported version folder, its sha256 checked against the card.

    ``source``: how a loader names where it came from (default: the folder).
    """
    card = model_card.read(folder)
    keras_file = card.get("keras_file")
    if not isinstance(keras_file, str) or keras_file not in card["files"]:
        raise ArtifactError(f"{folder / model_card.CARD} names no .keras file with a sha256; export the model again")
    keras_path = folder / integrity.safe_relpath(keras_file)
    integrity.check_file(keras_path, card["files"][keras_file])
    return Located(keras_path, card, str(folder) if source is None else source, version=card.get("version"))


def _pick(found, version, where) -> int:
    if version is None:
        return max(found)
    if version not in found:
        raise ArtifactError(f"{where} has no version {version}; it has {', '.join(map(str, found))}")
    return version


def local_roots() -> list:
    """The folders searched for exported models, in order: the cache, then the repo's exports/."""
    return [paths.models_home(), EXPORTS_DIR]


def find_name(name: str, version=None) -> Located | None:
    """The version of ``name`` found first in the cache, the repo's exports or the remote store.

    Returns None for a zoo entry found nowhere; a name that is not an entry and
    not an exported model anywhere is an UnknownModelError naming the closest entries.
    """
    from rectifier_zoo import zoo

    in_zoo = name in zoo.list_models()
    if not in_zoo:
        try:
            integrity.safe_name(name)
        except ConfigError:
            zoo.get_spec(name)  # not even a folder name: UnknownModelError with the closest entries
    for root in local_roots():
        model_dir = root / name
        found = store.versions(model_dir)
        if found and (version is None or version in found):
            return locate_version(model_dir / str(_pick(found, version, model_dir)))
    url = remote.configured_url()
    folder = remote.fetch(url, name, version) if url else None
    if folder is not None:
        return locate_version(folder, remote.join(url, name, folder.name))
    if not in_zoo:
        zoo.get_spec(name)  # raises UnknownModelError with the closest names
    return None


def missing_message(name, version=None) -> str:
    """What was searched for ``name``, and fixes that work as written: in Python, or as the CLI's commands."""
    from rectifier_zoo import zoo

    url = remote.configured_url()
    what = f"version {version} of {name}" if version else f"trained {name}"
    looked = ", ".join(str(root / name) for root in local_roots())
    searched = f"{remote.URL_ENV}={url} has no such model" if url else f"{remote.URL_ENV} is not set"
    from rectifier_zoo import datasets

    generated = datasets.descriptor(zoo.get_spec(name).dataset).generated  # nothing to download
    fetch = "" if generated else " --download"
    commands = (
        f"`rectifier-zoo train {name}{fetch}` then `rectifier-zoo export {name} --model runs/{name}.keras "
        f"--export-dir {paths.models_home()}`"
    )
    if advice.in_cli():
        train = f"train and export it: {commands}"
    else:
        extra = {} if generated else {"download": True}
        call = advice.retry(train_if_missing=True, **extra)
        if call is None:  # not inside rz.load (e.g. rz.export of a name): the load that gets it
            with advice.calling("rz.load", name):
                call = advice.retry(train_if_missing=True, **extra)
        train = f"train it by its recipe and cache it: {call}; or from a shell: {commands}"
    data = (
        ""
        if generated
        else f" ({advice.option('download')} lets tensorflow-datasets fetch the data, or pass {advice.option('data_dir', 'DIR')})"
    )
    return (
        f"no {what} found (looked in {looked}; {searched}). To get it, {train}{data}; "
        f"or, where an export dir holding it exists, set {remote.URL_ENV} to its URL "
        "(http, https or file, e.g. file:///path/to/exports)"
    )


# ------------------------------------------------------------------------ load


def load_keras(located: Located):
    """Load a located ``.keras`` file safely and compile it if it was saved uncompiled."""
    import keras

    import rectifier_zoo.nn.models  # noqa: F401  registers the zoo's layers for deserialisation

    if not zipfile.is_zipfile(located.keras_path):  # Keras would call it "File not found"
        raise ArtifactError(
            f"{located.keras_path} could not be loaded as a Keras model: it is not a .keras file "
            "(not a zip archive: truncated, damaged or another format); "
            "delete it and export or fetch it again"
        )
    try:
        model = keras.saving.load_model(located.keras_path, safe_mode=True)
    except Exception as err:  # noqa: BLE001  zip, JSON, h5, Keras errors: all mean "not a usable model"
        raise ArtifactError(
            f"{located.keras_path} could not be loaded as a Keras model ({type(err).__name__}: {str(err)[:200]}); "
            "delete it and export or fetch it again"
        ) from None
    name = (located.card or {}).get("name")
    if name and model.name != name:
        model.name = name
    if not getattr(model, "compiled", False):
        _compile(model)
    remember(model, located)
    return model


# ------------------------------------------------------------------ provenance

_PROVENANCE_ATTR = "_rectifier_zoo_provenance"


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where a loaded model came from, and the training facts its card records.

    Attributes:
        source: the folder or file it was loaded from.
        version: its exported version (None for a bare ``.keras`` file).
        result: what an export of it writes into the new card (``result_of``).
        weights_sha256: the digest of its weights as loaded.
    """

    source: str
    version: int | None
    result: dict | None
    weights_sha256: str


def result_of(located: Located) -> dict | None:
    """The training facts a re-export of ``located`` carries: its card's metrics, dataset and
    hyper-parameters, or the result JSON beside a bare ``.keras`` file (None if neither)."""
    if located.card is not None:
        card = located.card
        facts = {"dataset": card.get("dataset"), "hyperparameters": card.get("hyperparameters")}
        return {**(card.get("metrics") or {}), **facts}
    return located.result


def weights_sha256(model) -> str:
    """A digest of every weight of ``model`` (values, shapes and order)."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in model.get_weights():
        weight = np.ascontiguousarray(weight)
        digest.update(f"{weight.dtype}{weight.shape}".encode())
        digest.update(weight.tobytes())
    return digest.hexdigest()


def remember(model, located: Located) -> None:
    """Attach ``located``'s provenance to a model just loaded from it."""
    found = Provenance(located.source, located.version, result_of(located), weights_sha256(model))
    object.__setattr__(model, _PROVENANCE_ATTR, found)


def provenance(model) -> Provenance | None:
    """The provenance ``rz.load`` attached to ``model``, while its weights are the ones loaded.

    Returns None for a model not from ``rz.load`` and for one trained further
    since (its card's metrics would no longer describe it).

    Example:

    >>> model = rz.load("fashion_mnist_rect_l1", verbose=False)
    >>> provenance(model).result["test_error"]
    0.1042
    """
    found = getattr(model, _PROVENANCE_ATTR, None)
    if found is None or weights_sha256(model) != found.weights_sha256:
        return None
    return found


def _compile(model):
    """Compile like training does, with the entry's recipe when the name is a zoo entry."""
    from rectifier_zoo import zoo
    from rectifier_zoo.training.recipes import Recipe
    from rectifier_zoo.training.fit import compile_model

    recipe = zoo.get_spec(model.name).recipe if model.name in zoo.list_models() else Recipe()
    compile_model(model, recipe, n_train=recipe.batch_size)

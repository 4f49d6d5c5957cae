"""Finding and loading an exported model: the local roots, ``locate``, ``load_keras``, provenance.

A zoo name resolves, in order, to the newest whole version (or ``version=``) in

1. the local cache, ``paths.models_home()/<name>/<version>/``;
2. the repository's ``exports/<name>/<version>/``;
3. the remote store at ``$RECTIFIER_ZOO_URL`` (``rectifier_zoo.hub.remote``),
   downloaded into the cache with every file's sha256 checked.

The cache heals itself: a copy found by name that fails its checks (a sha256
mismatch, a file missing, a card with a field missing) or refuses to load
(unsafe content) is set aside with a warning, and the next copy is tried (an
older cached version, ``exports/``, the remote store). A cached one is moved into
``paths.quarantine_home()`` with its reason beside it (``store.quarantine``), so
no later load meets it again; a remote version refused for its content is not
downloaded again; an explicit ``version=`` set aside fails with the reason.

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
from rectifier_zoo.hub import integrity, model_card, quarantine, remote, store
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
    origin: quarantine.Origin | None = None  # set for a version found by name

    @property
    def test_error(self):
        metrics = (self.card or {}).get("metrics") or self.result or {}
        error = metrics.get("test_error") if isinstance(metrics, dict) else None
        # A card or result edited by hand may hold anything: only a number is shown.
        return error if isinstance(error, (int, float)) and not isinstance(error, bool) else None


def load_located(located: Located, sparse_inference=False, verbose=True):
    """``load_keras(located)``, announced in one line, sparsified if asked (see ``rz.load``)."""
    model = load_healing(located)
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
    shown = _shown(path)
    try:
        path.stat()
    except (FileNotFoundError, ValueError):  # ValueError: a NUL byte; both reported below
        pass
    except OSError as err:  # name too long, permission denied, a loop of links...
        raise ArtifactError(f"cannot read {shown}: {err.strerror}; pass a .keras file, a version folder or a model folder") from None
    if path.exists() and not (path.is_file() or path.is_dir()):  # a FIFO or device: reading it could block
        raise ArtifactError(f"{shown} is not a regular file or folder; pass a .keras file, a version folder or a model folder")
    if path.is_file():
        if path.suffix != ".keras":
            raise ArtifactError(f"{shown} is not a model: expected a .keras file, a version folder or a model folder")
        return _locate_file(path)
    if path.is_dir():
        if (path / model_card.CARD).exists():  # a card that is not a file is named by model_card.read
            return locate_version(path)
        found = store.versions(path)
        if found:
            return locate_version(path / str(_pick(found, version, path)))
        raise ArtifactError(
            f"{shown} is not a model: expected a .keras file, an exported version folder "
            "(with model_card.json) or a model folder (with numbered versions)"
        )
    raise ArtifactError(
        f"no such file or folder: {shown}; pass a .keras file, an exported version folder, "
        "a model folder or a zoo name (see `rectifier-zoo list`)"
    )


def _shown(path) -> str:
    """A path as one line of a message: quoted when it holds a newline or another control character."""
    text = str(path)
    return text if text.isprintable() else repr(text)


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


def find_name(name: str, version=None, refused=None) -> Located | None:
    """The version of ``name`` found first in the cache, the repo's exports or the remote store.

    Each copy is checked before it is returned; one that fails is set aside
    (``refuse``, with a warning) and the next one tried.

    Args:
        refused: the copies set aside so far in this load (appended to), not tried again.

    Returns:
        The copy found, or None for a zoo entry found nowhere that the cache could
        take once trained. A name that is neither an entry nor an exported model
        anywhere is an UnknownModelError naming the closest entries; an ArtifactError
        names every copy refused when no copy is left; a ConfigError names
        ``$RECTIFIER_ZOO_HOME`` when nothing is found and the cache is read-only.
    """
    from rectifier_zoo import zoo

    in_zoo = name in zoo.list_models()
    if not in_zoo:
        try:
            integrity.safe_name(name)
        except ConfigError:
            zoo.get_spec(name)  # not even a folder name: UnknownModelError with the closest entries
    refused = [] if refused is None else refused
    try:
        located = next(_local_copies(name, version, refused), None) or _remote_copy(name, version, refused)
    except ArtifactError as err:
        if not refused:
            raise
        raise ArtifactError(f"{quarantine.refused_message(name, version, refused)}; and {err}") from None
    if located is not None:
        return located
    if refused:
        raise ArtifactError(quarantine.refused_message(name, version, refused))
    if not in_zoo:
        zoo.get_spec(name)  # raises UnknownModelError with the closest names
    _nothing_left(name, version)
    return None


def _local_copies(name, version, refused):
    """Each local copy of ``name`` (or of its ``version``) that passes its checks: the cache's
    versions newest first, then the repository's exports/; those that fail are refused."""
    skip = {r.folder for r in refused}
    for root in local_roots():
        for folder in store.version_dirs(root / name, version):
            if folder in skip:
                continue
            origin = quarantine.Origin(name, version, folder, _inode(folder))
            try:
                yield dataclasses.replace(locate_version(folder), origin=origin)
            except ArtifactError as err:
                refused.append(quarantine.refuse(origin, err, "damaged"))


def _remote_copy(name, version, refused) -> Located | None:
    """The remote store's copy of ``name``, downloaded into the cache (None without a store or a copy)."""
    url = remote.configured_url()
    if not url:
        return None
    folder = remote.fetch(url, name, version, exclude={r.version for r in refused if not r.refetch})
    if folder is None:
        return None
    origin = quarantine.Origin(name, version, folder, _inode(folder), remote=True)
    try:
        return dataclasses.replace(locate_version(folder, remote.join(url, name, folder.name)), origin=origin)
    except ArtifactError as err:  # checked as it came: changed on disk since
        refused.append(quarantine.refuse(origin, err, "damaged"))
        return None


def _inode(folder):
    try:
        return os.stat(folder).st_ino
    except OSError:
        return None


def _nothing_left(name, version) -> None:
    """Before ``find_name`` says "train it": an explicit version set aside earlier fails with its
    reason, and a read-only cache, which could take no trained copy, names the variable to set."""
    if version is not None:
        quarantine.check_not_set_aside(name, version)
    blocked = paths.unwritable(paths.models_home())
    if blocked is not None:
        raise ConfigError(
            f"no trained {name} found ({_searched(name)}), and none can be trained or downloaded into the cache: "
            f"{blocked} is read-only; {paths.writable_fix(paths.models_home())}, then load it again"
        )


def load_healing(located: Located):
    """``load_keras(located)``; for a version found by name, a copy that refuses to load is set
    aside (``quarantine.refuse``) and the next copy ``find_name`` finds is loaded instead.

    ``located`` is then updated in place to the copy loaded, so a caller holding it
    (``rz.load`` remembers it as the model's provenance) describes what it got.
    """
    refused, current = [], located
    while True:
        try:
            model = load_keras(current)
            break
        except ArtifactError as err:
            if current.origin is None:
                raise
            card = current.card or {}
            digest = (card.get("files") or {}).get(card.get("keras_file"))
            refused.append(quarantine.refuse(current.origin, err, "refused", digest))
            current = find_name(current.origin.name, current.origin.requested, refused)
    for field in dataclasses.fields(Located):
        setattr(located, field.name, getattr(current, field.name))
    return model


def _searched(name) -> str:
    """Where ``find_name`` looked for ``name``, in words."""
    url = remote.configured_url()
    looked = ", ".join(str(root / name) for root in local_roots())
    return f"looked in {looked}; " + (f"{remote.URL_ENV}={url} has no such model" if url else f"{remote.URL_ENV} is not set")


def missing_message(name, version=None) -> str:
    """What was searched for ``name``, and fixes that work as written: in Python, or as the CLI's commands."""
    from rectifier_zoo import datasets, zoo

    what = f"version {version} of {name}" if version else f"trained {name}"

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
        f"no {what} found ({_searched(name)}). To get it, {train}{data}; "
        f"or, where an export dir holding it exists, set {remote.URL_ENV} to its URL "
        "(http, https or file, e.g. file:///path/to/exports)"
    )


# ------------------------------------------------------------------------ load


def load_keras(located: Located):
    """Load a located ``.keras`` file safely and compile it if it was saved uncompiled."""
    import keras

    import rectifier_zoo.nn.models  # noqa: F401  registers the zoo's layers for deserialisation

    again = "delete it and export or fetch it again"
    if not zipfile.is_zipfile(located.keras_path):  # Keras would call it "File not found"
        raise integrity.artifact_error(
            f"{located.keras_path} could not be loaded as a Keras model: it is not a .keras file "
            "(not a zip archive: truncated, damaged or another format)",
            again,
        )
    try:
        model = keras.saving.load_model(located.keras_path, safe_mode=True)
    except Exception as err:  # noqa: BLE001  zip, JSON, h5, Keras errors: all mean "not a usable model"
        said = str(err)[:200].split(". ")[0]  # Keras's first sentence says what it refused
        raise integrity.artifact_error(
            f"{located.keras_path} could not be loaded as a Keras model ({type(err).__name__}: {said})", again
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

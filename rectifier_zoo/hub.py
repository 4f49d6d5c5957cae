"""``rz.load``: a trained zoo model from a path, the local cache, the repo or a remote store.

A zoo name resolves, in order, to the newest whole version (or ``version=``) in

1. the local cache, ``paths.models_home()/<name>/<version>/``;
2. the repository's ``exports/<name>/<version>/``;
3. the remote store at ``$RECTIFIER_ZOO_URL`` (http, https or file URL of an export
   dir with its ``manifest.json``), downloaded into the cache with every file's
   sha256 checked;
4. with ``train_if_missing=True``, a training run by the entry's recipe, exported
   into the cache.

Loading never runs code from an artifact: ``.keras`` files load with
``safe_mode=True`` after their sha256 is checked against the version's card.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from rectifier_zoo import advice, integrity, model_card, paths, serving, validation
from rectifier_zoo.errors import ArtifactError, ConfigError

URL_ENV = "RECTIFIER_ZOO_URL"
TIMEOUT_ENV = "RECTIFIER_ZOO_TIMEOUT"
EXPORTS_DIR = paths.REPO_ROOT / "exports"
SCHEMES = ("http", "https", "file")


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


def load(
    name_or_path,
    *,
    train_if_missing=False,
    download=False,
    data_dir=None,
    version=None,
    sparse_inference=False,
    verbose=True,
):
    """A trained zoo model, ready to predict, evaluate and fine-tune.

    Args:
        name_or_path: a zoo name (``"mnist_rect_l1"``), a ``.keras`` file, an
            exported version folder or a model folder (its newest version).
        train_if_missing: train the entry by its recipe (progress bars) and cache
            it when no trained copy is found anywhere.
        download: with ``train_if_missing``, let tensorflow-datasets download the
            entry's dataset if it is not on disk (see ``rz.datasets.load``).
        data_dir: with ``train_if_missing``, the folder holding the dataset's files.
        version: an exported version number; default: the newest.
        sparse_inference: return ``rectifier_zoo.sparse_inference.sparsify(model)``.
        verbose: print one line: where it loaded from, version, test error.

    Returns:
        A compiled ``keras.Model`` named after its entry. It remembers its model
        card (``provenance(model)``), so ``rz.export(model, dir)`` writes the same
        card again as long as its weights are unchanged.

    Raises:
        UnknownModelError: a name that is neither a zoo entry nor an exported model.
        ArtifactError: nothing found (the message says how to get it), or a file
            missing, truncated or modified (sha256 mismatch, naming the file).
        ConfigError: ``download`` or ``data_dir`` without ``train_if_missing``.

    Example:

    >>> model = rz.load("mnist_rect_l1")
    loaded mnist_rect_l1 version 1 from ~/.keras/rectifier_zoo/models/mnist_rect_l1/1 (test error 1.43%)
    >>> model.predict(x_test).argmax(axis=1)
    >>> model = rz.load("mnist_rect_l1", train_if_missing=True, download=True)  # nothing shipped: train it
    """
    given = {"train_if_missing": train_if_missing, "download": download, "data_dir": data_dir, "version": version}
    with advice.calling("rz.load", name_or_path, **{k: v for k, v in given.items() if v not in (None, False)}):
        if (download or data_dir is not None) and not train_if_missing:
            raise ConfigError(
                "download= and data_dir= say where the data comes from when a model is trained; "
                f"add train_if_missing=True: {advice.retry(train_if_missing=True)}"
            )
        if version is not None:
            version = validation.number("version", version, low=1, high=serving.MAX_VERSION, integer=True)
        training = {"download": download, "data_dir": data_dir}
        located = locate(name_or_path, version=version, train_if_missing=train_if_missing, training=training)
        model = load_keras(located)
    if verbose:
        error = located.test_error
        shown = f"test error {error:.2%}" if error is not None else "test error not recorded"
        at = f" version {located.version}" if located.version is not None else ""
        print(f"loaded {model.name}{at} from {located.source} ({shown})")
    if sparse_inference:
        from rectifier_zoo.sparse_inference import sparsify

        return sparsify(model)
    return model


# ---------------------------------------------------------------------- locate


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.endswith(".keras") or text.startswith((".", "~"))


def locate(name_or_path, version=None, train_if_missing=False, training=None) -> Located:
    """Find what ``load`` would load, without loading it (see ``load``).

    ``training``: keyword arguments for ``rz.train`` when ``train_if_missing`` trains.
    """
    if isinstance(name_or_path, os.PathLike) or (isinstance(name_or_path, str) and _looks_like_path(name_or_path)):
        return locate_path(_expand(name_or_path), version)
    if not isinstance(name_or_path, str):
        raise ConfigError(f"load takes a zoo name or a path, got {type(name_or_path).__name__}")
    return locate_name(name_or_path, version, train_if_missing, training)


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
            return _locate_version_dir(path, str(path))
        found = serving.versions(path)
        if found:
            chosen = _pick(found, version, path)
            return _locate_version_dir(path / str(chosen), str(path / str(chosen)))
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
            return _locate_version_dir(path.parent, str(path))
    return Located(path, None, str(path), result=serving.read_result_beside(path))


def _locate_version_dir(folder: pathlib.Path, source: str) -> Located:
    card = model_card.read(folder)
    keras_file = card.get("keras_file")
    if not isinstance(keras_file, str) or keras_file not in card["files"]:
        raise ArtifactError(f"{folder / model_card.CARD} names no .keras file with a sha256; export the model again")
    keras_path = folder / integrity.safe_relpath(keras_file)
    integrity.check_file(keras_path, card["files"][keras_file])
    return Located(keras_path, card, source, version=card.get("version"))


def _pick(found, version, where) -> int:
    if version is None:
        return max(found)
    if version not in found:
        raise ArtifactError(f"{where} has no version {version}; it has {', '.join(map(str, found))}")
    return version


def local_roots() -> list:
    """The folders searched for exported models, in order: the cache, then the repo's exports/."""
    return [paths.models_home(), EXPORTS_DIR]


def locate_name(name: str, version=None, train_if_missing=False, training=None) -> Located:
    """Resolve a zoo name: cache, repo exports, remote store, then (optionally) training."""
    from rectifier_zoo import zoo

    in_zoo = name in zoo.list_models()
    if not in_zoo:
        try:
            integrity.safe_name(name)
        except ConfigError:
            zoo.get_spec(name)  # not even a folder name: UnknownModelError with the closest entries
    for root in local_roots():
        model_dir = root / name
        found = serving.versions(model_dir)
        if found and (version is None or version in found):
            chosen = _pick(found, version, model_dir)
            return _locate_version_dir(model_dir / str(chosen), str(model_dir / str(chosen)))
    url = os.environ.get(URL_ENV)
    if url:
        folder = fetch(url, name, version)
        if folder is not None:
            located = _locate_version_dir(folder, _join(url, name, folder.name))
            return located
    if not in_zoo:
        zoo.get_spec(name)  # raises UnknownModelError with the closest names
    if train_if_missing:
        return _train_and_cache(name, **(training or {}))
    raise ArtifactError(_missing_message(name, version, url))


def _missing_message(name, version, url) -> str:
    """What was searched, and fixes that work as written: in Python, or as the CLI's commands."""
    from rectifier_zoo import zoo

    what = f"version {version} of {name}" if version else f"trained {name}"
    looked = ", ".join(str(root / name) for root in local_roots())
    remote = f"{URL_ENV}={url} has no such model" if url else f"{URL_ENV} is not set"
    generated = zoo.get_spec(name, tuned=False).dataset.startswith("shapeset")  # nothing to download
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
        f"no {what} found (looked in {looked}; {remote}). To get it, {train}{data}; "
        f"or, where an export dir holding it exists, set {URL_ENV} to its URL "
        "(http, https or file, e.g. file:///path/to/exports)"
    )


def _train_and_cache(name, download=False, data_dir=None) -> Located:
    from rectifier_zoo import trainer

    print(f"no trained {name} found: training it by its recipe (this can take a while)")
    result = trainer.train(name, verbose=1, download=download, data_dir=data_dir)
    folder = serving.export(result.model, paths.models_home(), name=name, result=result, verbose=0)
    return _locate_version_dir(folder, f"{folder} (trained just now)")


# ---------------------------------------------------------------------- remote


def _timeout() -> float:
    return float(os.environ.get(TIMEOUT_ENV) or 60)


def _join(base, *parts) -> str:
    return base.rstrip("/") + "/" + "/".join(urllib.parse.quote(str(p)) for p in parts)


def _open(url):
    """urlopen with the zoo's timeout; errors become one-line ArtifactErrors."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise ConfigError(f"{URL_ENV} must be an http, https or file URL, got {url!r}")
    try:
        return urllib.request.urlopen(url, timeout=_timeout())
    except urllib.error.HTTPError as err:
        raise ArtifactError(f"could not fetch {url}: HTTP {err.code} {err.reason}; check {URL_ENV}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ArtifactError(f"could not fetch {url}: {reason}; check {URL_ENV} and the network") from None


def read_manifest(base_url) -> dict:
    """The ``manifest.json`` of a remote export dir."""
    url = _join(base_url, serving.MANIFEST)
    with _open(url) as response:
        try:
            manifest = json.loads(response.read())
        except ValueError as err:
            raise ArtifactError(f"{url} does not parse as a manifest ({err}); check {URL_ENV}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise ArtifactError(f"{url} is not a rectifier_zoo manifest (no 'models'); check {URL_ENV}")
    return manifest


def fetch(base_url, name, version=None) -> pathlib.Path | None:
    """Download ``name`` (newest or ``version``) from a remote export dir into the cache.

    Each file is streamed into a staging folder and its sha256 checked against the
    manifest (a mismatch names the file, which is deleted); the card's hashes are
    checked again, then the folder is renamed into ``models_home()/<name>/<v>``.

    Returns:
        The cached version folder, or None when the store does not have it.
    """
    integrity.safe_name(name)
    entry = read_manifest(base_url)["models"].get(name)
    if not entry or not entry.get("versions"):
        return None
    available = sorted(int(v) for v in entry["versions"] if str(v).isdigit())
    if version is not None and version not in available:
        return None
    chosen = version or max(available)
    files = entry["versions"][str(chosen)].get("files") or {}
    model_dir = paths.models_home() / name
    target = model_dir / str(chosen)
    if serving.is_whole(target):
        return target
    integrity.clean_stale_staging(model_dir)
    staging = integrity.staging_dir(model_dir, "download")
    try:
        for rel, sha in sorted(files.items()):
            _download(_join(base_url, name, chosen, rel), staging / integrity.safe_relpath(rel), sha)
        integrity.check_tree(staging, model_card.read(staging)["files"])
        integrity.pause_before_rename()
        try:
            os.rename(staging, target)
        except OSError:
            if not serving.is_whole(target):  # else another process won the race with the same files
                msg = f"{target} exists but is not a complete version; delete it and load again"
                raise ArtifactError(msg) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download(url, dest: pathlib.Path, expected: str) -> None:
    """Stream ``url`` into ``dest`` (via a ``.part`` file), checking its sha256."""
    import hashlib

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    try:
        with _open(url) as response, open(part, "wb") as out:
            for block in iter(lambda: response.read(integrity.CHUNK), b""):
                digest.update(block)
                out.write(block)
    except (OSError, TimeoutError) as err:
        part.unlink(missing_ok=True)
        raise ArtifactError(f"download of {url} failed ({err}); try again") from None
    if digest.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise ArtifactError(
            f"sha256 mismatch for {url}: expected {expected[:16]}…, got {digest.hexdigest()[:16]}…; "
            "the downloaded file was deleted and nothing was cached (the store is damaged or changed while downloading)"
        )
    os.replace(part, dest)


# ------------------------------------------------------------------------ load


def load_keras(located: Located):
    """Load a located ``.keras`` file safely and compile it if it was saved uncompiled."""
    import keras

    import rectifier_zoo.models  # noqa: F401  registers the zoo's layers for deserialisation

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
    from rectifier_zoo.recipes import Recipe
    from rectifier_zoo.training import compile_model

    recipe = zoo.get_spec(model.name).recipe if model.name in zoo.list_models() else Recipe()
    compile_model(model, recipe, n_train=recipe.batch_size)

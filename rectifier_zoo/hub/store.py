"""The export folder's layout: the one place that knows what exporting writes and loading reads.

    <export dir>/manifest.json           every model, version, file and sha256, with key metrics
    <export dir>/<name>/<version>/       a whole version: model_card.json lists every other file
    <export dir>/<name>/.staging-*/      a version being exported or downloaded: never read

Version folders are all-digit int64 names (TF Serving's layout). A version is
assembled in a dot-prefixed staging folder beside its final place and renamed
into place whole (``publish_new``, ``publish_fetched``, both through
``rename_staged``), so a reader, a server or a crash never sees half a version;
a killed writer's staging folder is removed by the next writer on the same host.
A full disk while staging is one ArtifactError naming the disk and the space the
version needs, with the staging folder removed. The manifest is rebuilt from the
cards under a file lock after each export, so two exports at once never lose an
entry.

In the cache, ``<models>/.<name>.lock`` (``writing``) lets one process at a time
download a version of ``name`` or set one aside: a version that fails its checks
is moved whole into the quarantine folder (``quarantine``), with a JSON record of
why beside it, so no later load trips over it again.

The local cache, the repository's ``exports/`` and a remote store all have this
layout. Imports integrity, model_card, atomic, locking, paths, validation and
errors only: never hub, remote or exporting, which both build on it.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import pathlib
import re
import shutil

from rectifier_zoo._internal import atomic, locking, paths, validation
from rectifier_zoo.hub import integrity, model_card
from rectifier_zoo.errors import ArtifactError

MANIFEST = "manifest.json"
_LOCK = ".manifest.lock"
MAX_VERSION = 2**63 - 1  # TF Serving's version numbers are int64
# What makes a version servable: Keras' ExportArchive writes this beside ``variables/``.
SAVED_MODEL = "saved_model.pb"
# Dot-prefixed, so TF Serving and the loaders (all-digit names only) never read it.
STAGING_PREFIX = ".staging-"
REASON_SUFFIX = ".reason.json"


# ---------------------------------------------------------------- versions


def check_version(version) -> int:
    """``version`` if it is a version number TF Serving can serve, else ConfigError."""
    # TF Serving parses version folders as int64: a larger number would never be served.
    return validation.number("version", version, low=1, high=MAX_VERSION, integer=True)


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


def version_dirs(model_dir, version=None) -> list:
    """Every all-digit folder of a model folder, whole or not, newest first (only ``version``'s if given).

    What a loader that checks each one itself goes through; ``versions`` lists the whole ones only.
    """
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    found = sorted((p for p in model_dir.iterdir() if p.name.isdigit() and p.is_dir()), key=lambda p: -int(p.name))
    return [p for p in found if version is None or int(p.name) == version]


def _taken(model_dir) -> list:
    """Every all-digit name in a model folder, whole or not: none may be reused."""
    return sorted(int(p.name) for p in pathlib.Path(model_dir).iterdir() if p.name.isdigit())


def next_version(model_dir) -> int:
    """One more than the highest version number ever used in ``model_dir``."""
    return max(_taken(model_dir), default=0) + 1


def check_free(model_dir, version) -> None:
    """Refuse an explicit ``version`` that ``model_dir`` holds already, whole or not."""
    if str(version) in os.listdir(model_dir):
        raise ArtifactError(_taken_message(pathlib.Path(model_dir) / str(version)))


def _taken_message(target) -> str:
    return f"{target} already exists; omit version= to export as the next version"


# ---------------------------------------------------------------- staging


def _host() -> str:
    import socket

    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def staging_dir(parent, kind) -> pathlib.Path:
    """A new empty staging folder in ``parent``, named after this host and process.

    Args:
        parent: the folder the finished version will be renamed into.
        kind: what is being staged (``export``, ``download``), for people reading ``ls -a``.
    """
    import tempfile

    parent = pathlib.Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{STAGING_PREFIX}{kind}-{_host()}-{os.getpid()}-"
    return pathlib.Path(tempfile.mkdtemp(dir=parent, prefix=prefix))


def clean_stale_staging(parent) -> list:
    """Remove staging folders in ``parent`` left by dead processes of this host.

    A writer killed mid-way leaves its staging folder; readers ignore it, and the
    next writer on the same host removes it once its process is gone. Folders of
    other hosts (shared file systems) are left alone: their processes cannot be checked.

    Returns the removed paths.
    """
    host, removed = _host(), []
    for path in pathlib.Path(parent).glob(STAGING_PREFIX + "*"):
        parts = path.name[len(STAGING_PREFIX) :].split("-")
        if len(parts) < 4 or parts[1] != host or not parts[2].isdigit():
            continue
        if not _alive(int(parts[2])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def staged(parent, kind, needed=None):
    """A fresh staging folder in ``parent`` for the block (dead writers' ones removed first).

    Whatever is left of it when the block ends, by error or because it was never
    published, is removed; a published folder has been renamed away already. A
    folder that cannot be written is a ConfigError before any work; a full disk
    in the block (whoever wrote: Keras, TensorFlow, a download) is one
    ArtifactError naming the disk and the space needed.

    Args:
        parent: the model folder the version will be renamed into.
        kind: ``export`` or ``download`` (in the staging folder's name and the errors).
        needed: the bytes the version takes, when the caller knows them.
    """
    parent = pathlib.Path(parent)
    paths.check_writable(parent, f"{kind} {parent.name} into {parent.parent}")
    free = atomic.free_bytes(parent)
    if needed and free is not None and free < needed:  # known too big: refused before writing a byte
        raise _disk_full(parent, kind, needed, None)
    folder = None
    try:
        clean_stale_staging(parent)
        folder = staging_dir(parent, kind)
        yield folder
    except Exception as err:
        if not atomic.is_disk_full(err):
            raise
        raise _disk_full(parent, kind, needed, folder) from None
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _disk_full(parent, kind, needed, staging):
    """The full-disk error of staging a version of ``parent``: the disk, free and needed space, the fix."""
    elsewhere = (
        f"set {paths.HOME_ENV} to a folder on another disk"
        if paths.in_zoo_home(parent)
        else f"{kind} to a folder on another disk"
    )
    doing = f"{'exporting' if kind == 'export' else 'downloading'} {parent.name} into {parent.parent}"
    return atomic.disk_full_error(parent, doing, _space_needed(parent, needed, staging), f"free space on it, or {elsewhere}")


def _space_needed(parent, needed, staging):
    """``(bytes, "about" | "more than")`` a version of ``parent`` needs, or None: the caller's
    figure, else the size of its newest whole version, else what was written before the disk filled."""
    if needed:
        return needed, "about"
    found = versions(parent)
    if found:
        return tree_bytes(parent / str(max(found))), "about"
    written = tree_bytes(staging) if staging is not None else 0
    return (written, "more than") if written else None


def tree_bytes(folder) -> int:
    """The bytes of every file under ``folder`` (0 if it is gone)."""
    return sum(p.stat().st_size for p in pathlib.Path(folder).rglob("*") if p.is_file())


# ---------------------------------------------------------------- publishing


def rename_staged(staging, target) -> bool:
    """Rename a whole staging folder to ``target``: the one step that makes a version visible.

    Every publish goes through here (tests block it to kill a writer at the worst
    moment: every file written, nothing visible). Returns False when ``target``
    exists already: ``os.rename`` refuses to replace a non-empty folder, which is
    what keeps two writers racing for one number apart.
    """
    target = pathlib.Path(target)
    try:
        os.rename(staging, target)
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return False
        raise
    atomic._fsync_dir(target.parent)
    return True


def publish_new(staging, model_dir, card, fixed) -> pathlib.Path:
    """Publish an exported ``staging`` folder as its card's version; on a collision re-number and retry.

    The version number is part of the card, so a re-numbered version gets its card
    rewritten before the next try. With ``fixed`` (an explicit version) a
    collision is an ArtifactError instead.
    """
    model_dir = pathlib.Path(model_dir)
    while True:
        target = model_dir / str(card["version"])
        if not target.exists() and rename_staged(staging, target):
            return target
        if fixed:
            raise ArtifactError(_taken_message(target))
        card = model_card.write(staging, {**card, "version": next_version(model_dir)})


def publish_fetched(staging, target) -> pathlib.Path:
    """Publish a downloaded, checked ``staging`` folder as ``target`` (a copy of a remote version).

    Another process fetching the same version may have won the race: its whole
    folder holds the same files, so that is a success too.
    """
    target = pathlib.Path(target)
    try:
        placed = rename_staged(staging, target)
    except OSError:
        placed = False
    if not placed and not is_whole(target):
        raise ArtifactError(f"{target} exists but is not a complete version; delete it and load again")
    return target


# ---------------------------------------------------------------- the cache's lock and quarantine


@contextlib.contextmanager
def writing(model_dir):
    """Hold ``model_dir``'s lock (``<parent>/.<name>.lock``, outside the model folder TF Serving
    scans): one process at a time downloads a version of it or sets one aside."""
    model_dir = pathlib.Path(model_dir)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    with locking.locked(model_dir.parent / f".{model_dir.name}.lock"):
        yield


def quarantine(version_dir, into, record: dict, expect_inode=None) -> pathlib.Path | None:
    """``set_aside`` under the model folder's lock, unless another process got there first.

    Returns:
        The new place; None when another process moved it first, or replaced it
        since it failed (its inode is no longer ``expect_inode``).
    """
    version_dir = pathlib.Path(version_dir)
    with writing(version_dir.parent):
        try:
            if expect_inode is not None and version_dir.stat().st_ino != expect_inode:
                return None
        except FileNotFoundError:
            return None
        return set_aside(version_dir, into, record)


def set_aside(version_dir, into, record: dict) -> pathlib.Path:
    """Move ``version_dir`` whole into ``into/<name>/<version>-<UTC time>-<pid>/``, ``record`` beside it.

    The caller holds the model folder's lock (``writing``). The record
    (``<that folder>.reason.json``, with ``folder`` added) is written first, so a
    moved folder always has its reason. OSError if it cannot be moved (a read-only cache).
    """
    version_dir = pathlib.Path(version_dir)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    dest = pathlib.Path(into) / version_dir.parent.name / f"{version_dir.name}-{stamp}-{os.getpid()}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(reason_path(dest), {**record, "folder": str(dest), "was": str(version_dir), "quarantined": stamp})
    os.rename(version_dir, dest)
    return dest


def reason_path(quarantined_dir) -> pathlib.Path:
    quarantined_dir = pathlib.Path(quarantined_dir)
    return quarantined_dir.with_name(quarantined_dir.name + REASON_SUFFIX)


def quarantined(into, name) -> list:
    """The records of ``name``'s versions set aside in ``into``, oldest first, each with its
    ``record`` path (unreadable records are left out: they name nothing to act on)."""
    found = []
    for path in sorted((pathlib.Path(into) / name).glob("*" + REASON_SUFFIX)):
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(path.read_text())
            if isinstance(record, dict):
                found.append({**record, "record": str(path)})
    return found


# ---------------------------------------------------------------- manifest


def model_dirs(export_dir, servable=False) -> list:
    """The model folders of an export dir holding at least one whole (or servable) version."""
    export_dir = pathlib.Path(export_dir)
    if not export_dir.is_dir():
        return []
    return [
        path
        for path in sorted(export_dir.iterdir())
        if path.is_dir() and not path.name.startswith(".") and versions(path, servable)
    ]


def _manifest_entry(version_dir) -> dict:
    card = model_card.read(version_dir)
    files = {**card["files"], model_card.CARD: integrity.sha256_file(version_dir / model_card.CARD)}
    metrics = card.get("metrics") or {}
    zeros = {layer: stats.get("zeros") for layer, stats in (metrics.get("sparsity") or {}).items()}
    return {
        "files": files,
        # What a download needs on disk, checked before it starts.
        "sizes": {rel: (version_dir / rel).stat().st_size for rel in files},
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
    try:
        with locking.locked(export_dir / _LOCK):
            atomic.write_json(export_dir / MANIFEST, build_manifest(export_dir))
    except OSError as err:
        if not atomic.is_disk_full(err):
            raise
        fix = "every version is whole and loads, and the next export rebuilds the manifest from the cards: free space on it"
        raise atomic.disk_full_error(export_dir, f"updating {export_dir / MANIFEST}", None, fix) from None
    return export_dir / MANIFEST


# ---------------------------------------------------------------- beside a .keras file


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

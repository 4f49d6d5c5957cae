"""The remote store client: an export dir served over http(s) or file://, copied into the cache.

``$RECTIFIER_ZOO_URL`` names the store: any folder with ``store``'s layout (its
``manifest.json`` and version folders), e.g. an ``exports/`` served by a web
server. ``fetch`` downloads one version into ``paths.models_home()``, streaming
every file through a staging folder and checking its sha256 against the manifest
and then the card, so the cache only ever holds whole, checked versions. One
process at a time downloads a version of a name (``store.writing``): others
wait, then find it cached. A version the loaders refused before (its ``.keras``
digest is in a quarantine record) is not downloaded again. A damaged manifest,
or a damaged entry in it, is refused naming the URL and how to rebuild it; the
other entries still load. ``$RECTIFIER_ZOO_TIMEOUT`` is the network timeout in
seconds (default 60).

Not ``keras.utils.get_file(file_hash=...)``: it writes into the final path (a
reader can see half a file), keeps a file whose hash failed, prints a progress
bar and takes no timeout.

Imports store, model_card, integrity, atomic, paths and errors: never hub, which uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import urllib.error
import urllib.parse
import urllib.request
import warnings

from rectifier_zoo._internal import atomic, paths
from rectifier_zoo.hub import integrity, model_card, store
from rectifier_zoo.errors import ArtifactError, ConfigError

URL_ENV = "RECTIFIER_ZOO_URL"
TIMEOUT_ENV = "RECTIFIER_ZOO_TIMEOUT"
SCHEMES = ("http", "https", "file")


def configured_url() -> str | None:
    """The remote store's URL from ``$RECTIFIER_ZOO_URL``, or None when it is not set."""
    return os.environ.get(URL_ENV) or None


def join(base, *parts) -> str:
    """``base`` with each of ``parts`` appended as one quoted path segment."""
    return base.rstrip("/") + "/" + "/".join(urllib.parse.quote(str(p)) for p in parts)


def _timeout() -> float:
    return float(os.environ.get(TIMEOUT_ENV) or 60)


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
    """The ``manifest.json`` of a remote export dir; ArtifactError naming it and the fix if it is damaged."""
    url = join(base_url, store.MANIFEST)
    with _open(url) as response:
        try:
            manifest = json.loads(response.read())
        except ValueError as err:
            raise ArtifactError(f"{url} does not parse as a manifest ({err}); {manifest_fix(base_url)}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise ArtifactError(f"{url} is not a rectifier_zoo manifest (no 'models'); {manifest_fix(base_url)}")
    return manifest


def manifest_fix(base_url) -> str:
    """How to mend a store's damaged manifest: rebuild it from the cards (they hold every hash)."""
    parts = urllib.parse.urlsplit(base_url)
    where = urllib.request.url2pathname(parts.path) if parts.scheme == "file" else "EXPORT_DIR"
    return (
        "rebuild it from the model cards where the store is written: python -c \"from rectifier_zoo.hub "
        f"import store; store.update_manifest('{where}')\" (every export into it does the same), "
        f"or set {URL_ENV} to another store"
    )


def fetch(base_url, name, version=None, exclude=()) -> pathlib.Path | None:
    """Download ``name`` (newest or ``version``) from a remote export dir into the cache.

    Each file is streamed into a staging folder and its sha256 checked against the
    manifest (a mismatch names the file, which is deleted); the card's hashes are
    checked again, then the folder is published as ``models_home()/<name>/<v>``.

    Args:
        exclude: versions refused during this load, not to be tried again.

    Returns:
        The cached version folder, or None when the store does not have it.
    """
    integrity.safe_name(name)
    entry = _entry(read_manifest(base_url), name, base_url)
    chosen = _choose(entry, name, version, exclude, base_url) if entry else None
    if chosen is None:
        return None
    model_dir = paths.models_home() / name
    target = model_dir / str(chosen)
    if store.is_whole(target):
        return target
    paths.check_writable(model_dir, f"download {name} version {chosen} into the cache")
    with store.writing(model_dir):
        if not store.is_whole(target):  # another process may have fetched it while this one waited
            _download_version(base_url, name, chosen, _listing(entry, name, chosen, base_url), target)
    return target


def _entry(manifest, name, base_url) -> dict | None:
    """``name``'s entry of the manifest, or None when the store has no version of it."""
    entry = manifest["models"].get(name)
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("versions"), dict):
        url = join(base_url, store.MANIFEST)
        raise ArtifactError(f"{url}: the entry of {name} is damaged (no 'versions' object); {manifest_fix(base_url)}")
    return entry if entry["versions"] else None


def _listing(entry, name, version, base_url) -> dict:
    """The manifest's listing of one version: its files and their sha256 (and sizes), checked."""
    listing = entry["versions"][str(version)]
    files = listing.get("files") if isinstance(listing, dict) else None
    if not isinstance(files, dict) or not files or not all(isinstance(v, str) for v in files.values()):
        url = join(base_url, store.MANIFEST)
        raise ArtifactError(
            f"{url}: version {version} of {name} lists no files with their sha256; {manifest_fix(base_url)}"
        )
    return listing


def _choose(entry, name, version, exclude, base_url) -> int | None:
    """``version``, or the newest version not refused before; None if the store has no such one.

    A version whose ``.keras`` digest was refused before (unsafe or not a model) is
    never downloaded again: asked for by number it is an ArtifactError saying why;
    otherwise the next older one is taken, with a warning.
    """
    listed = entry["versions"]
    available = sorted((int(v) for v in listed if str(v).isdigit()), reverse=True)
    refused = _refused_digests(name)
    for number in (v for v in available if (version is None or v == version) and v not in exclude):
        record = refused.get(_keras_digest(listed[str(number)]))
        if record is None:
            return number
        said = (
            f"version {number} of {name} at {base_url} was refused before ({record.get('reason')}) and set aside "
            f"in {record.get('folder')}"
        )
        if version is not None:
            raise ArtifactError(
                f"{said}, so it is not downloaded again; load another version, or delete {record['record']} "
                "to try it once more (e.g. after the store's owner exported it again)"
            )
        warnings.warn(f"{said}: taking the next older version instead", UserWarning, stacklevel=2)
    return None


def _keras_digest(listing):
    if not isinstance(listing, dict) or not isinstance(listing.get("files"), dict):
        return None
    return listing["files"].get(listing.get("keras_file"))


def _refused_digests(name) -> dict:
    """``{.keras sha256: record}`` of ``name``'s versions set aside because they refused to load."""
    records = store.quarantined(paths.quarantine_home(), name)
    return {r["keras_sha256"]: r for r in records if r.get("kind") == "refused" and r.get("keras_sha256")}


def _download_version(base_url, name, version, listing, target) -> None:
    """Download one version through a staging folder and publish it as ``target`` (lock held)."""
    if target.exists():  # a damaged copy, not whole: set aside so the fresh one can take its place
        why = f"{target} is not a whole version (its card, or a file its card lists, is missing)"
        record = {"name": name, "version": version, "kind": "damaged", "reason": why}
        store.set_aside(target, paths.quarantine_home(), record)
    sizes = listing.get("sizes")
    needed = sum(sizes.values()) if isinstance(sizes, dict) and all(isinstance(n, int) for n in sizes.values()) else None
    with store.staged(target.parent, "download", needed=needed) as staging:
        for rel, sha in sorted(listing["files"].items()):
            _download(join(base_url, name, version, rel), staging / integrity.safe_relpath(rel), sha)
        integrity.check_tree(staging, model_card.read(staging)["files"])
        store.publish_fetched(staging, target)


def _download(url, dest: pathlib.Path, expected: str) -> None:
    """Stream ``url`` into ``dest`` (via a ``.part`` file), checking its sha256."""
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
        if atomic.is_disk_full(err):
            raise  # the staging folder words it for the whole version
        raise ArtifactError(f"download of {url} failed ({err}); try again") from None
    if digest.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise ArtifactError(
            f"sha256 mismatch for {url}: expected {expected[:16]}…, got {digest.hexdigest()[:16]}…; "
            "the downloaded file was deleted and nothing was cached (the store is damaged or changed while downloading)"
        )
    os.replace(part, dest)

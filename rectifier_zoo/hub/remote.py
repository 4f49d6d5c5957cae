"""The remote store client: an export dir served over http(s) or file://, copied into the cache.

``$RECTIFIER_ZOO_URL`` names the store: any folder with ``store``'s layout (its
``manifest.json`` and version folders), e.g. an ``exports/`` served by a web
server. ``fetch`` downloads one version into ``paths.models_home()``, streaming
every file through a staging folder and checking its sha256 against the manifest
and then the card, so the cache only ever holds whole, checked versions.
``$RECTIFIER_ZOO_TIMEOUT`` is the network timeout in seconds (default 60).

Imports store, model_card, integrity, paths and errors: never hub, which uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import urllib.error
import urllib.parse
import urllib.request

from rectifier_zoo._internal import paths
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
    """The ``manifest.json`` of a remote export dir."""
    url = join(base_url, store.MANIFEST)
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
    checked again, then the folder is published as ``models_home()/<name>/<v>``.

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
    if store.is_whole(target):
        return target
    with store.staged(model_dir, "download") as staging:
        for rel, sha in sorted(files.items()):
            _download(join(base_url, name, chosen, rel), staging / integrity.safe_relpath(rel), sha)
        integrity.check_tree(staging, model_card.read(staging)["files"])
        return store.publish_fetched(staging, target)


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
        raise ArtifactError(f"download of {url} failed ({err}); try again") from None
    if digest.hexdigest() != expected:
        part.unlink(missing_ok=True)
        raise ArtifactError(
            f"sha256 mismatch for {url}: expected {expected[:16]}…, got {digest.hexdigest()[:16]}…; "
            "the downloaded file was deleted and nothing was cached (the store is damaged or changed while downloading)"
        )
    os.replace(part, dest)

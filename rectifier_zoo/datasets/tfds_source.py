"""Reading tensorflow-datasets' prepared copies; downloading one only when asked to.

``tensorflow_datasets`` is imported only inside these functions, and only after a
cheap filesystem check says a prepared copy may exist (or a download was allowed):
a missing dataset fails in milliseconds instead of after importing TensorFlow.

A download (``download=True`` or ``RECTIFIER_ZOO_DOWNLOAD=1``) first checks that
the dataset's servers (or the proxy) answer, within 10 s each
(``RECTIFIER_ZOO_PROBE_TIMEOUT``): without a network it fails in seconds with one
``DataError`` instead of retrying for minutes. It then downloads and prepares in a
staging folder that is renamed into the tfds data dir only once complete, so a
failed attempt leaves the data dir as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pathlib
import shutil
import socket
import tempfile
import threading
import urllib.parse

import numpy as np

from rectifier_zoo._internal import advice
from rectifier_zoo.errors import DataError

DOWNLOAD_ENV = "RECTIFIER_ZOO_DOWNLOAD"
PROBE_TIMEOUT_ENV = "RECTIFIER_ZOO_PROBE_TIMEOUT"
PROBE_TIMEOUT_S = 10.0  # per server; a download attempt without a network fails well within 30 s


def download_allowed(download: bool) -> bool:
    """``download`` or the environment variable ``RECTIFIER_ZOO_DOWNLOAD=1``."""
    return bool(download) or os.environ.get(DOWNLOAD_ENV, "") == "1"


def tfds_data_dir(data_dir=None) -> pathlib.Path:
    """The tfds data folder: ``data_dir``, else ``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets``."""
    if data_dir is not None:
        return pathlib.Path(data_dir)
    env = os.environ.get("TFDS_DATA_DIR")
    return pathlib.Path(env) if env else pathlib.Path.home() / "tensorflow_datasets"


def how_to_get(tfds_name: str, download: bool = True) -> str:
    """The standard advice for getting a tfds dataset, in the caller's words (Python or CLI flags).

    Args:
        tfds_name: e.g. ``"mnist"``.
        download: also suggest a download (not after one has just failed).
    """
    offline = (
        f"to prepare it, on a machine with internet run `tfds build {tfds_name}` or "
        f"`python -c \"import tensorflow_datasets as tfds; tfds.load('{tfds_name}')\"`, "
        f"copy ~/tensorflow_datasets/{tfds_name} here and pass {advice.option('data_dir', 'DIR')} "
        f"(the folder holding {tfds_name}/) or set TFDS_DATA_DIR"
    )
    if not download:
        return offline
    call = advice.retry(download=True) or advice.option("download")
    return f"{offline}; or let tensorflow-datasets download it: {call} (or set {DOWNLOAD_ENV}=1)"


def maybe_present(tfds_name: str, data_dir=None) -> bool:
    """Cheap check (no tfds import): does ``<tfds dir>/<tfds_name>`` exist?"""
    return (tfds_data_dir(data_dir) / tfds_name).is_dir()


def builder(tfds_name: str, data_dir=None, download: bool = False):
    """A prepared tfds builder, downloading only when allowed.

    Args:
        tfds_name: e.g. ``"mnist"``, ``"smallnorb"``.
        data_dir: tfds data folder (see ``tfds_data_dir``).
        download: allow ``download_and_prepare`` if the data is not prepared.

    Returns:
        ``(builder, fingerprint_paths)``: the builder and the folder its files are in.

    Raises:
        DataError: not prepared and downloading not allowed, or the download failed.
    """
    root = tfds_data_dir(data_dir)
    allowed = download_allowed(download)
    if not allowed and not maybe_present(tfds_name, data_dir):
        raise DataError(f"no prepared tensorflow-datasets copy of {tfds_name!r} in {root}; {how_to_get(tfds_name)}")
    import tensorflow_datasets as tfds  # heavy: only here

    b, prepared = _prepared_builder(tfds, tfds_name, root)
    if not prepared:
        if not allowed:
            raise DataError(
                f"the tensorflow-datasets copy of {tfds_name!r} in {b.data_dir} is not fully prepared "
                f"(no dataset_info.json / record files); {how_to_get(tfds_name)}"
            )
        download_and_prepare(tfds, b, root)
        b, _ = _prepared_builder(tfds, tfds_name, root)
    return b, b.data_dir


@contextlib.contextmanager
def _quiet_absl():
    """Without absl's warning that a folder tfds looked in holds no prepared copy.

    The zoo's own error says that, and how to fix it; other warnings still show.
    """
    import logging

    absl_logger = logging.getLogger("absl")
    quiet = _DropMessages("has no dataset_info.json")
    absl_logger.addFilter(quiet)
    try:
        yield
    finally:
        absl_logger.removeFilter(quiet)


def _prepared_builder(tfds, tfds_name, data_dir):
    """``(tfds.builder(tfds_name, data_dir), whether it is prepared)``, quietly."""
    with _quiet_absl():
        b = tfds.builder(tfds_name, data_dir=str(data_dir))
        return b, b.is_prepared()


class _DropMessages:
    """A logging filter dropping records whose message contains ``text``."""

    def __init__(self, text):
        self.text = text

    def filter(self, record):
        return self.text not in record.getMessage()


def download_and_prepare(tfds, b, root: pathlib.Path) -> None:
    """Download and prepare ``b``'s dataset into ``root``, whole or not at all.

    The servers are probed first (``check_reachable``): without a network this
    fails in seconds, not after tensorflow-datasets' retries. The download and
    the preparation happen in a dot-named staging folder inside ``root``, which is
    renamed into place only once prepared and deleted otherwise; a ``root`` that
    did not exist before is removed again on failure. Raises one ``DataError``.
    """
    name = b.name
    check_reachable(name, sorted((getattr(b, "url_infos", None) or {}).keys()))
    created = not root.exists()
    staging = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=root))
        staged, _ = _prepared_builder(tfds, name, staging)
        staged.download_and_prepare(download_dir=str(staging / "downloads"))
        _publish(pathlib.Path(staged.data_dir), staging, root)
    except Exception as err:  # network, disk, checksum: all become one clear error
        raise DataError(
            f"downloading {name!r} with tensorflow-datasets into {root} failed: {err}; nothing was kept. "
            f"Check the network and try again, or {how_to_get(name, download=False)}"
        ) from err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                root.rmdir()  # only if still empty: it holds the dataset after a success


def _publish(prepared: pathlib.Path, staging: pathlib.Path, root: pathlib.Path) -> None:
    """Rename ``staging/<name>/<config>/<version>`` to the same place under ``root``."""
    if not prepared.is_dir() or staging not in prepared.parents:
        return  # a mocked builder (tfds.testing.mock_data) writes nothing there
    target = root / prepared.relative_to(staging)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(prepared, target)


def check_reachable(name: str, urls, timeout: float | None = None) -> None:
    """Refuse a download whose servers (or proxy) cannot be reached within ``timeout`` s.

    Resolves and connects to each host (or to ``$HTTPS_PROXY`` / ``$HTTP_PROXY``)
    in a background thread, so a resolver that hangs cannot hold the caller past
    the timeout (``$RECTIFIER_ZOO_PROBE_TIMEOUT``, default 10 s).

    Raises:
        DataError: naming the host and the reason, and how to get the data offline.
    """
    timeout = float(os.environ.get(PROBE_TIMEOUT_ENV) or PROBE_TIMEOUT_S) if timeout is None else timeout
    for host, port, kind in _endpoints(urls):
        outcome = []
        probe = threading.Thread(target=_connect, args=(host, port, timeout, outcome), daemon=True)
        probe.start()
        probe.join(timeout)
        if not outcome or outcome[0] is not None:
            reason = outcome[0] if outcome else f"no answer within {timeout:g} s"
            raise DataError(
                f"cannot download {name!r}: {kind} {host}:{port} is unreachable ({reason}), so this machine seems "
                f"to have no network; nothing was written. Without one, {how_to_get(name, download=False)}"
            )


def _connect(host, port, timeout, outcome) -> None:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        outcome.append(None)
    except OSError as err:
        outcome.append(getattr(err, "strerror", None) or str(err) or type(err).__name__)


def _endpoints(urls) -> list:
    """``(host, port, "server" or "proxy")`` to probe: the proxy's when one is set for the URLs' scheme."""
    found = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        proxy = os.environ.get(f"{parts.scheme}_proxy") or os.environ.get(f"{parts.scheme.upper()}_PROXY")
        target = urllib.parse.urlsplit(proxy) if proxy else parts
        if not target.hostname:
            continue
        port = target.port or (443 if target.scheme == "https" else 80)
        endpoint = (target.hostname, port, "proxy" if proxy else "server")
        if endpoint not in found:
            found.append(endpoint)
    return found


def iter_batches(b, split: str, batch_size: int = 2048):
    """Yield numpy dicts of ``batch_size`` examples of ``split``, in the stored order."""
    import tensorflow_datasets as tfds

    ds = b.as_dataset(split=split, batch_size=batch_size, shuffle_files=False)
    yield from tfds.as_numpy(ds)


def num_examples(b, split: str) -> int:
    """Examples in ``split`` per the builder's metadata; 0 when unknown (mocked builders)."""
    try:
        return int(b.info.splits[split].num_examples)
    except (KeyError, AttributeError, TypeError):
        return 0


def stored_order(n: int, split: str) -> np.ndarray:
    """Original index of each example in tfds' stored order.

    When preparing, tfds sorts the examples of a split by ``md5(split_name + str(key))``
    (its ``core.hashing.Hasher``, salt = split name) and the mnist builders use the
    example's index in the original file as key.  Sorting the keys the same way
    therefore says which original example sits at each stored position, so tfds
    gives the same arrays, in the same order, as the original files.
    """
    salt = split.encode("utf-8")
    digests = [hashlib.md5(salt + str(k).encode("utf-8")).hexdigest() for k in range(n)]
    # Fixed-width lowercase hex sorts like the 128-bit integers tfds compares.
    return np.asarray(sorted(range(n), key=digests.__getitem__), dtype=np.int64)


def collect(batches, fields, n_hint: int = 0, transform=None) -> dict:
    """Concatenate batch fields into arrays, filling preallocated arrays when ``n_hint`` is known.

    Args:
        batches: iterable of dicts of numpy arrays.
        fields: names of the fields to keep.
        n_hint: expected number of examples (0: unknown, grow as needed).
        transform: optional callable ``dict -> dict`` applied to each batch first
            (e.g. down-sampling), so only the small result is kept.

    Returns:
        Dict field -> array of all examples.
    """
    out, filled = {}, 0
    for batch in batches:
        batch = transform(batch) if transform else {f: batch[f] for f in fields}
        m = len(batch[fields[0]])
        for f in fields:
            arr = np.asarray(batch[f])
            if f not in out:
                out[f] = np.empty((max(n_hint, m),) + arr.shape[1:], arr.dtype)
            if filled + m > len(out[f]):  # unknown or wrong size: grow geometrically
                grown = np.empty((max(2 * len(out[f]), filled + m),) + arr.shape[1:], arr.dtype)
                grown[:filled] = out[f][:filled]
                out[f] = grown
            out[f][filled:filled + m] = arr
        filled += m
    return {f: out[f][:filled] if f in out else np.empty((0,)) for f in fields}

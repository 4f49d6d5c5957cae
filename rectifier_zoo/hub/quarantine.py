"""Setting aside a copy of a version that failed its checks or refused to load, so the cache heals itself.

A copy found by name (``hub.locate.find_name``) that fails is refused: a cached
one is moved whole into ``paths.quarantine_home()/<name>/`` with a JSON record of
why beside it (``store.quarantine``), so no later load, in this process or
another, meets it again; one in the repository's shipped ``exports/`` is left
for its owner to restore, and skipped. Either way a warning says what happened,
and the loader tries the next copy. A record of a copy that refused to load
(unsafe content, not a model) carries its ``.keras`` sha256, so the remote client
never downloads that content again; an explicit ``version=`` set aside earlier
fails with the recorded reason (``check_not_set_aside``).

Imports store, integrity, paths and errors: never locate, which uses it.
"""

from __future__ import annotations

import dataclasses
import pathlib
import warnings

from rectifier_zoo._internal import paths
from rectifier_zoo.hub import integrity, store
from rectifier_zoo.errors import ArtifactError


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a version found by name lies, so a copy that refuses to load can be set aside."""

    name: str
    requested: int | None  # the load's version=, kept when the next copy is looked for
    folder: pathlib.Path
    inode: int | None = None  # the folder's, when checked: set aside only if it is still that one
    remote: bool = False


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A copy set aside during one load: its folder, its version and what was done, in words."""

    folder: pathlib.Path
    version: int | None
    text: str
    refetch: bool = True  # whether fetching the same version from the store again may give another copy


def refuse(origin: Origin, err, kind, digest=None) -> Refusal:
    """Set aside a copy that failed (``kind``: "damaged", its checks; "refused", loading), with a warning.

    A cached copy is moved into the quarantine folder with its reason beside it
    (``digest``, its ``.keras`` sha256, lets the remote client skip the same content);
    one in the shipped exports/ is left for its owner to restore, and skipped.
    """
    folder, problem = origin.folder, integrity.problem_of(err)
    failed = "failed its checks" if kind == "damaged" else "refused to load"
    what = f"{origin.name} version {folder.name} ({folder}) {failed}: {problem}"
    if folder.parent.parent != paths.models_home():
        text, moved = f"{what}; restore it (`git checkout -- {folder}` in a clone) or export it again", True
    else:
        record = {"name": origin.name, "version": int(folder.name), "kind": kind, "reason": problem, "keras_sha256": digest}
        done, moved = _set_aside(origin, record)
        text = f"{what}; {done}"
    warnings.warn(f"{text}; trying the next copy (an older cached version, exports/, the remote store)", UserWarning, stacklevel=3)
    # A store's copy, or a cached one still in place, would come back as it is: not fetched again.
    return Refusal(folder, int(folder.name), text, refetch=moved and not origin.remote)


def _set_aside(origin: Origin, record) -> tuple:
    """Quarantine a cached copy: (what was done, in words; whether it is out of the cache)."""
    try:
        moved = store.quarantine(origin.folder, paths.quarantine_home(), record, expect_inode=origin.inode)
    except OSError as err:
        return f"it could not be moved aside ({err.strerror or err}): delete {origin.folder}", False
    if moved is None:
        return "another process has set it aside already", True
    return f"moved to {moved}, its reason in {store.reason_path(moved).name} beside it", True


def refused_message(name, version, refused) -> str:
    what = f"version {version} of {name}" if version is not None else name
    texts = " | ".join(r.text for r in refused)
    return f"no usable copy of {what} is left: {texts}"


def check_not_set_aside(name, version) -> None:
    """ArtifactError with the recorded reason if ``version`` of ``name`` was set aside earlier
    (called when no other copy of it was found: an explicit version never loads another)."""
    records = [r for r in store.quarantined(paths.quarantine_home(), name) if r.get("version") == version]
    if records:
        last = records[-1]
        raise ArtifactError(
            f"version {version} of {name} was set aside earlier ({last.get('reason')}) into {last.get('folder')}, "
            "and no other copy of it was found; load another version, or export or fetch it again"
        )

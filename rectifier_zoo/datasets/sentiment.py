"""Amazon multi-domain sentiment (Blitzer et al. 2007) as a binary bag of words.

Read from the "processed_acl" release, one of two ways (there is no tfds copy):

- the archive ``processed_acl.tar.gz`` in ``data_dir``, read as it is (one pass
  over the gzip stream, nothing unpacked);
- else the unpacked folder: ``processed_acl/<domain>/positive.review`` and
  ``negative.review`` in ``data_dir`` (or ``data_dir`` being that folder).

The domains are books, dvd, electronics and kitchen (1,000 + 1,000 reviews each,
8,000 in all). Each line is one review, ``feature:count feature:count ...
#label#:positive`` (features are unigrams and ``_``-joined bigrams); bytes that are
not UTF-8 are replaced (17 lines hold some). ``unlabeled.review`` is not used.

Split: the reviews of the chosen domains, in file order (domains sorted, positive
before negative), are shuffled with ``numpy.random.default_rng(seed)``; the first
70% are training, the next 15% validation, the rest test (``n_valid = n * 15 //
100``, ``n_test = n_valid``): 5,600 / 1,200 / 1,200 for the four domains.
Vocabulary: the ``vocab_size`` (5,000) features with the largest total count over
the training split only (ties broken alphabetically); a feature is 1.0 if the
review contains it, else 0.0.  Labels: 1 positive, 0 negative.

Provenance: ``Splits.source`` is :data:`LABEL` and ``Splits.fingerprint`` says which
bytes the reviews came from, so every result and model card made from them carries
it: ``"processed_acl.tar.gz md5 <hex>"`` (the archive's md5, as its README lists
it), or for the unpacked folder ``"processed_acl files md5 <hex> (<domains>)"``,
the md5 of the ``md5sum`` listing of the review files read, in sorted path order
(``cd processed_acl && md5sum books/negative.review books/positive.review ... |
md5sum``).

This is the paper's Amazon benchmark in its data, not its protocol: the paper
pre-trained on the domains' unlabeled reviews and reported a 4-domain accuracy; its
OpenTable RMSE task has no public data.
"""

from __future__ import annotations

import collections
import hashlib
import io
import pathlib
import tarfile
import zlib

import numpy as np

from rectifier_zoo._internal.paths import datasets_home
from rectifier_zoo.datasets import cache as cache_lib
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError, DataError

DOMAINS = ("books", "dvd", "electronics", "kitchen")
LABELS = {"negative": 0, "positive": 1}
ARCHIVE = "processed_acl.tar.gz"
FOLDER = "processed_acl"
LABEL = "Amazon reviews (processed_acl)"
URL = "https://www.cs.jhu.edu/~mdredze/datasets/sentiment/"
HOW = (f"put {ARCHIVE} (the 'processed' multi-domain sentiment data of Blitzer et al., from {URL}) "
       f"unchanged in the folder you pass as data_dir= (--data-dir), or in {{default}}; an unpacked "
       f"{FOLDER}/ folder there works too")


def default_dir() -> pathlib.Path:
    """Where the data is looked for when no ``data_dir`` is given: ``<datasets_home>/sentiment``."""
    return datasets_home() / "sentiment"


def how() -> str:
    """Where to put the data: the fix every DataError of this module names."""
    return HOW.format(default=default_dir())


def review_files(domains) -> list:
    """The review files of ``domains`` in read order: ``["books/positive.review", ...]``."""
    return [f"{dom}/{label}.review" for dom in sorted(domains) for label in ("positive", "negative")]


def find_archive(data_dir) -> pathlib.Path | None:
    """``data_dir/processed_acl.tar.gz`` if it is there, else None."""
    candidate = pathlib.Path(data_dir) / ARCHIVE
    return candidate if candidate.is_file() else None


def find_root(data_dir) -> pathlib.Path | None:
    """The unpacked folder holding the domain folders: ``data_dir``, ``data_dir/processed_acl`` or None."""
    for d in (pathlib.Path(data_dir) / FOLDER, pathlib.Path(data_dir)):
        if any((d / dom / "positive.review").is_file() for dom in DOMAINS):
            return d
    return None


# ---------------------------------------------------------------- parsing


def parse_line(line: str, where: str):
    """One review line as ``(features dict, label)``; None for a blank line.

    Raises:
        DataError: a token that is not ``feature:count``, a bad count, or no/unknown ``#label#``.
    """
    feats, label = {}, None
    for token in line.split():
        name, sep, count = token.rpartition(":")  # features may contain ':' themselves
        if not sep:
            raise DataError(f"{where}: token {token!r} is not feature:count")
        if name == "#label#":
            label = count
            continue
        try:
            feats[name] = feats.get(name, 0) + int(count)
        except ValueError:
            raise DataError(f"{where}: count {count!r} of {name!r} is not an integer") from None
    if not feats and label is None:
        return None
    if label not in LABELS:
        raise DataError(f"{where}: label {label!r} is not one of {sorted(LABELS)} "
                        "(each line must end with #label#:positive or #label#:negative)")
    return feats, LABELS[label]


def parse_reviews(lines, where) -> list:
    """Parse the lines of one ``.review`` file into ``[(features dict, label)]`` (``where`` names it in errors)."""
    docs = []
    for lineno, line in enumerate(lines, 1):
        doc = parse_line(line, f"{where}, line {lineno}")
        if doc is not None:
            docs.append(doc)
    return docs


def parse_review_file(path) -> list:
    """Parse one unpacked ``.review`` file (see :func:`parse_reviews`).

    Raises:
        DataError: unreadable file, or a malformed line (see :func:`parse_line`).
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return parse_reviews(f, path)
    except OSError as err:
        raise DataError(f"cannot read {path}: {err}") from err


def read_archive(path, names) -> dict:
    """``{name: docs}`` for the review files ``names`` (``"books/positive.review"``...) in the archive.

    One pass over the gzip stream, each wanted member parsed as it comes: nothing is
    unpacked, and the archive is decompressed once.

    Raises:
        DataError: not a gzip tar, damaged or truncated, or a wanted member missing.
    """
    wanted, docs = set(names), {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name.removeprefix("./").removeprefix(FOLDER + "/")
                if name in wanted and member.isfile():
                    text = io.TextIOWrapper(tar.extractfile(member), encoding="utf-8", errors="replace")
                    docs[name] = parse_reviews(text, f"{path}: {member.name}")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise DataError(f"cannot read {path}: {type(err).__name__}: {err}; the archive is damaged or "
                        f"truncated: {how()}") from err
    missing = [f"{FOLDER}/{n}" for n in names if n not in docs]
    if missing:
        raise DataError(f"{path} holds no {', '.join(missing)}: the archive is incomplete; {how()}")
    return docs


# ---------------------------------------------------------------- split, vocabulary, features


def split_sizes(n: int) -> tuple:
    """(train, valid, test) sizes: 70% / 15% / 15% (valid and test rounded down, equal)."""
    n_valid = n * 15 // 100
    return n - 2 * n_valid, n_valid, n_valid


def vocabulary(docs, size: int) -> list:
    """The ``size`` features with the largest total count in ``docs`` (ties: alphabetical)."""
    totals = collections.Counter()
    for feats, _ in docs:
        totals.update(feats)
    return sorted(totals, key=lambda f: (-totals[f], f))[:size]


def binarize(docs, vocab) -> np.ndarray:
    """uint8 (n, len(vocab)) presence matrix (the cache keeps 1 byte a feature)."""
    index = {f: i for i, f in enumerate(vocab)}
    x = np.zeros((len(docs), len(vocab)), np.uint8)
    for row, (feats, _) in enumerate(docs):
        cols = [index[f] for f in feats if f in index]
        x[row, cols] = 1
    return x


def split_arrays(docs, seed, vocab_size) -> dict:
    """The shuffled 70/15/15 split of ``docs`` (in file order) as cacheable arrays, with ``vocab``."""
    order = np.random.default_rng(seed).permutation(len(docs))
    docs = [docs[i] for i in order]
    n_train, n_valid, _ = split_sizes(len(docs))
    parts = {"train": docs[:n_train], "valid": docs[n_train:n_train + n_valid], "test": docs[n_train + n_valid:]}
    vocab = vocabulary(parts["train"], vocab_size)  # the training split only: valid and test stay unseen
    arrays = {"vocab": np.asarray(vocab, dtype=str)}
    for split, part in parts.items():
        arrays["x_" + split] = binarize(part, vocab)
        arrays["y_" + split] = np.asarray([label for _, label in part], np.int64)
    return arrays


# ---------------------------------------------------------------- provenance


def md5_of(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_archive(path) -> str:
    """``"processed_acl.tar.gz md5 <hex>"``: what results and model cards carry (the README lists the md5)."""
    return f"{ARCHIVE} md5 {md5_of(path)}"


def fingerprint_folder(root, domains) -> str:
    """``"processed_acl files md5 <hex> (<domains>)"``: the md5 of the files' ``md5sum`` listing."""
    names = sorted(review_files(domains))
    listing = "".join(f"{md5_of(pathlib.Path(root) / n)}  {n}\n" for n in names)
    return f"{FOLDER} files md5 {hashlib.md5(listing.encode()).hexdigest()} ({', '.join(sorted(domains))})"


# ---------------------------------------------------------------- loading


class _Source:
    """Where the reviews are read from: the archive or the unpacked folder, its cache key and fingerprint."""

    def __init__(self, looked: pathlib.Path, domains):
        self.domains, self.names = domains, review_files(domains)
        self.archive = find_archive(looked)
        self.root = None if self.archive else find_root(looked)
        if self.archive is None:
            self._check_folder(looked)

    def _check_folder(self, looked):
        root = self.root or looked / FOLDER
        missing = [str(root / n) for n in self.names if not (root / n).is_file()]
        if self.root is None or missing:
            raise DataError(f"sentiment: neither {ARCHIVE} nor the review files were found in {looked} "
                            f"(expected {looked / ARCHIVE}, or {', '.join(missing[:4])}"
                            f"{' ...' if len(missing) > 4 else ''}); {how()}")

    def key(self) -> dict:
        """The cache key's source part: the archive's or the files' sizes and mtimes."""
        if self.archive:
            return {"source": ARCHIVE, "files": cache_lib.fingerprint([self.archive])}
        return {"source": FOLDER, "files": cache_lib.fingerprint([self.root / n for n in self.names])}

    def docs(self) -> list:
        """Every review of the chosen domains, in file order (the order the split's shuffle starts from)."""
        if self.archive:
            parsed = read_archive(self.archive, self.names)
            return [doc for n in self.names for doc in parsed[n]]
        return [doc for n in self.names for doc in parse_review_file(self.root / n)]

    def fingerprint(self) -> str:
        if self.archive:
            return fingerprint_archive(self.archive)
        return fingerprint_folder(self.root, self.domains)


def _check_options(domains, vocab_size):
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown or not domains:
        raise ConfigError(f"sentiment domains must be a non-empty subset of {list(DOMAINS)}, got {list(domains)}")
    if int(vocab_size) < 1:
        raise ConfigError(f"vocab_size must be a positive integer, got {vocab_size!r}")


def _prepared(data_dir, domains, seed, vocab_size, cache) -> tuple:
    """The cached raw arrays (with ``vocab``) and the source they came from."""
    _check_options(domains, vocab_size)
    source = _Source(pathlib.Path(data_dir) if data_dir is not None else default_dir(), domains)
    key = {**source.key(), "domains": sorted(domains), "seed": int(seed), "vocab_size": int(vocab_size)}
    arrays = cache_lib.cached("sentiment", key, lambda: split_arrays(source.docs(), int(seed), int(vocab_size)),
                              cache, keys=cache_lib.SPLIT_KEYS + ("vocab",))
    return arrays, source


def load(data_dir=None, download: bool = False, cache: bool = True, seed: int = 0, vocab_size: int = 5000,
         domains=DOMAINS) -> Splits:
    """Load the Amazon sentiment bag of words (see the module docstring).

    Args:
        data_dir: folder holding ``processed_acl.tar.gz`` or ``processed_acl/`` (or that
            folder itself); default ``<datasets_home>/sentiment``.
        download: ignored (the data is not downloadable automatically); kept for a uniform API.
        cache: read/write the prepared-array cache.
        seed: seed of the shuffle that makes the split.
        vocab_size: number of most frequent training features kept.
        domains: which of books, dvd, electronics, kitchen to use.

    Returns:
        Splits with x float32 (n, vocab_size) of 0/1, y int64 in {0, 1}; ``source``
        :data:`LABEL` and ``fingerprint`` the archive's (or the files') md5.
    """
    del download  # nothing to download from: the error message says where to get it
    arrays, source = _prepared(data_dir, tuple(domains), seed, vocab_size, cache)

    def pair(split):
        return arrays["x_" + split].astype(np.float32), arrays["y_" + split].astype(np.int64)

    return Splits("sentiment", pair("train"), pair("valid"), pair("test"), 2, (arrays["x_train"].shape[1],),
                  LABEL, source.fingerprint())


def load_vocabulary(data_dir=None, cache: bool = True, seed: int = 0, vocab_size: int = 5000,
                    domains=DOMAINS) -> list:
    """The feature names of the columns of ``load(...)`` with the same arguments."""
    arrays, _ = _prepared(data_dir, tuple(domains), seed, vocab_size, cache)
    return [str(v) for v in arrays["vocab"]]

"""Amazon multi-domain sentiment (Blitzer et al. 2007) as a binary bag of words.

Read from the "processed_acl" release, a local folder only (there is no tfds copy):
``processed_acl/<domain>/positive.review`` and ``negative.review`` for the domains
books, dvd, electronics and kitchen (1,000 + 1,000 reviews each, 8,000 in all).
Each line is one review, ``feature:count feature:count ... #label#:positive``
(features are unigrams and ``_``-joined bigrams).  ``unlabeled.review`` is not used.

Split: the reviews of the chosen domains, in file order (domains sorted, positive
before negative), are shuffled with ``numpy.random.default_rng(seed)``; the first
70% are training, the next 15% validation, the rest test (``n_valid = n * 15 //
100``, ``n_test = n_valid``): 5,600 / 1,200 / 1,200 for the four domains.
Vocabulary: the ``vocab_size`` (5,000) features with the largest total count over
the training split only (ties broken alphabetically); a feature is 1.0 if the
review contains it, else 0.0.  Labels: 1 positive, 0 negative.

This is the paper's Amazon benchmark in its data, not its protocol: the paper
trained on one domain's unlabeled data and reported a 4-domain accuracy; its
OpenTable RMSE task has no public data.
"""

from __future__ import annotations

import collections
import pathlib

import numpy as np

from rectifier_zoo.datasets import cache as cache_lib
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError, DataError
from rectifier_zoo._internal.paths import datasets_home

DOMAINS = ("books", "dvd", "electronics", "kitchen")
LABELS = {"negative": 0, "positive": 1}
HOW = ("download processed_acl.tar.gz (the 'processed' multi-domain sentiment data of Blitzer et al.) from "
       "https://www.cs.jhu.edu/~mdredze/datasets/sentiment/ , unpack it and pass data_dir= the folder "
       "holding processed_acl/ (or put it in {default})")


def default_dir() -> pathlib.Path:
    """Where the data is looked for when no ``data_dir`` is given: ``<datasets_home>/sentiment``."""
    return datasets_home() / "sentiment"


def find_root(data_dir) -> pathlib.Path | None:
    """The folder holding the domain folders: ``data_dir``, ``data_dir/processed_acl`` or None."""
    for d in (pathlib.Path(data_dir) / "processed_acl", pathlib.Path(data_dir)):
        if any((d / dom / "positive.review").is_file() for dom in DOMAINS):
            return d
    return None


def parse_review_file(path) -> list:
    """Parse one ``.review`` file into ``[(features dict, label)]``.

    Raises:
        DataError: unreadable file, a line without ``#label#``, an unknown label or a bad count.
    """
    docs = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                feats, label = {}, None
                for token in line.split():
                    name, sep, count = token.rpartition(":")  # features may contain ':' themselves
                    if not sep:
                        raise DataError(f"{path}, line {lineno}: token {token!r} is not feature:count")
                    if name == "#label#":
                        label = count
                        continue
                    try:
                        feats[name] = feats.get(name, 0) + int(count)
                    except ValueError:
                        raise DataError(f"{path}, line {lineno}: count {count!r} of {name!r} is not an integer") from None
                if label not in LABELS:
                    raise DataError(f"{path}, line {lineno}: label {label!r} is not one of {sorted(LABELS)} "
                                    "(each line must end with #label#:positive or #label#:negative)")
                docs.append((feats, LABELS[label]))
    except OSError as err:
        raise DataError(f"cannot read {path}: {err}") from err
    return docs


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


def _read(root, domains, seed, vocab_size) -> dict:
    docs = []
    for dom in sorted(domains):
        for label in ("positive", "negative"):
            docs += parse_review_file(root / dom / f"{label}.review")
    order = np.random.default_rng(seed).permutation(len(docs))
    docs = [docs[i] for i in order]
    n_train, n_valid, _ = split_sizes(len(docs))
    parts = {"train": docs[:n_train], "valid": docs[n_train:n_train + n_valid], "test": docs[n_train + n_valid:]}
    vocab = vocabulary(parts["train"], vocab_size)
    arrays = {"vocab": np.asarray(vocab, dtype=str)}
    for split, part in parts.items():
        arrays["x_" + split] = binarize(part, vocab)
        arrays["y_" + split] = np.asarray([label for _, label in part], np.int64)
    return arrays


def _prepared(data_dir, domains, seed, vocab_size, cache) -> tuple:
    """The cached raw arrays (with ``vocab``) and the root folder they came from."""
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown or not domains:
        raise ConfigError(f"sentiment domains must be a non-empty subset of {list(DOMAINS)}, got {list(domains)}")
    if int(vocab_size) < 1:
        raise ConfigError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    looked = pathlib.Path(data_dir) if data_dir is not None else default_dir()
    root = find_root(looked)
    files = [(root or looked / "processed_acl") / d / f"{lab}.review" for d in sorted(domains)
             for lab in ("positive", "negative")]
    missing = [str(f) for f in files if not f.is_file()]
    if root is None or missing:
        raise DataError(f"sentiment: review files not found in {looked}: expected "
                        f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}; "
                        + HOW.format(default=default_dir()))
    key = {"source": "processed_acl", "files": cache_lib.fingerprint(files),
           "domains": sorted(domains), "seed": int(seed), "vocab_size": int(vocab_size)}
    arrays = cache_lib.cached("sentiment", key, lambda: _read(root, domains, int(seed), int(vocab_size)), cache,
                              keys=cache_lib.SPLIT_KEYS + ("vocab",))
    return arrays, root


def load(data_dir=None, download: bool = False, cache: bool = True, seed: int = 0, vocab_size: int = 5000,
         domains=DOMAINS) -> Splits:
    """Load the Amazon sentiment bag of words (see the module docstring).

    Args:
        data_dir: folder holding ``processed_acl/`` (or that folder itself);
            default ``<datasets_home>/sentiment``.
        download: ignored (the data is not downloadable automatically); kept for a uniform API.
        cache: read/write the prepared-array cache.
        seed: seed of the shuffle that makes the split.
        vocab_size: number of most frequent features kept.
        domains: which of books, dvd, electronics, kitchen to use.

    Returns:
        Splits with x float32 (n, vocab_size) of 0/1, y int64 in {0, 1}.
    """
    del download  # nothing to download from: the error message says where to get it
    arrays, root = _prepared(data_dir, tuple(domains), seed, vocab_size, cache)

    def pair(split):
        return arrays["x_" + split].astype(np.float32), arrays["y_" + split].astype(np.int64)

    return Splits("sentiment", pair("train"), pair("valid"), pair("test"), 2, (arrays["x_train"].shape[1],), str(root))


def load_vocabulary(data_dir=None, cache: bool = True, seed: int = 0, vocab_size: int = 5000,
                    domains=DOMAINS) -> list:
    """The feature names of the columns of ``load(...)`` with the same arguments."""
    arrays, _ = _prepared(data_dir, tuple(domains), seed, vocab_size, cache)
    return [str(v) for v in arrays["vocab"]]

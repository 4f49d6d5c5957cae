"""Amazon sentiment on the real processed_acl archive: counts, labels, a training-only vocabulary, the split,
the data's md5, and the archives and files the loader refuses.

The archive is read as the loader reads it once per module (``splits``, cached in a zoo home of the module's
own), and once independently (``reviews``: tarfile and ``str.split`` here, the module docstring's split rule
restated), so each property is checked against a second reading, not against the loader itself. Made-up
review files remain only where a test needs a malformed one.
"""

import collections
import hashlib
import io
import json
import os
import tarfile

import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.datasets import sentiment
from rectifier_zoo.errors import ConfigError, DataError
from realdata import SENTIMENT, require

# The archive's README: its md5 and those of the files it unpacks to.
ARCHIVE_MD5 = "cf5a17a3a413e2adc9677803e0c7eede"
FILE_MD5 = {
    "books/negative.review": "42de87e8e747122178ff88bbee5afc14",
    "books/positive.review": "9a59323a29e9731c29b7b863ad245dad",
    "dvd/negative.review": "ed9d7ec7f93bdeabe4f7ec124382bb6d",
    "dvd/positive.review": "87ae26b7aadc4b1cdb6e747069c342c9",
    "electronics/negative.review": "a7b6143f12de22236f91e4b4219071b4",
    "electronics/positive.review": "91daa0741cb1a7aea9aae76e5cfb24e7",
    "kitchen/negative.review": "2aad81e91d41424b468aa1a4fb6d96dc",
    "kitchen/positive.review": "a039710e42035af41397fa58ac285dfb",
}
SMALL = ("electronics", "kitchen")  # the two smallest domains, for the checks that read the reviews again


@pytest.fixture(scope="module", autouse=True)
def zoo_cache(tmp_path_factory):
    """One zoo home for the module (the user's cache is never touched), the dataset cache on."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECTIFIER_ZOO_HOME", str(home))
        mp.delenv("RECTIFIER_ZOO_NO_CACHE", raising=False)
        yield home


@pytest.fixture(scope="module")
def archive():
    return require(SENTIMENT, [sentiment.ARCHIVE]) / sentiment.ARCHIVE


@pytest.fixture(scope="module")
def splits(archive):
    return rz.datasets.load("sentiment", data_dir=archive.parent)


@pytest.fixture(scope="module")
def reviews(archive):
    """``{"books/positive.review": [(features, "positive"), ...]}``, read here without the loader."""
    found = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile():
                text = tar.extractfile(member).read().decode("utf-8", errors="replace")
                found[member.name.removeprefix("processed_acl/")] = [_review(line) for line in text.splitlines()
                                                                     if line.strip()]
    return found


def _review(line):
    pairs = dict(token.rsplit(":", 1) for token in line.split())
    label = pairs.pop("#label#")
    return {name: int(count) for name, count in pairs.items()}, label


def _in_file_order(reviews, domains=sentiment.DOMAINS):
    return [doc for dom in sorted(domains) for label in ("positive", "negative")
            for doc in reviews[f"{dom}/{label}.review"]]


def _top(docs, size=5000):
    totals = collections.Counter()
    for features, _ in docs:
        totals.update(features)
    return sorted(totals, key=lambda f: (-totals[f], f))[:size]


def _unpack(archive, folder, domains):
    """The review files of ``domains`` written out as ``folder/processed_acl/<domain>/*.review``."""
    with tarfile.open(archive) as tar:
        for name in sentiment.review_files(domains):
            target = folder / "processed_acl" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(f"processed_acl/{name}").read())
    return folder


# ---------------------------------------------------------------- counts and labels


def test_the_archive_holds_8000_reviews_1000_of_each_label_per_domain(reviews):
    assert sorted(reviews) == sorted(FILE_MD5)
    for name, docs in reviews.items():
        label = name.split("/")[1].removesuffix(".review")
        assert len(docs) == 1000 and {lab for _, lab in docs} == {label}, name
    assert sum(map(len, reviews.values())) == 8000


def test_the_split_is_5600_1200_1200_with_the_labels_as_they_fall(splits):
    assert [len(getattr(splits, s)[1]) for s in ("train", "valid", "test")] == [5600, 1200, 1200]
    assert sentiment.split_sizes(8000) == (5600, 1200, 1200)
    assert [np.bincount(getattr(splits, s)[1]).tolist() for s in ("train", "valid", "test")] == [
        [2773, 2827], [610, 590], [617, 583]]  # negative (0), positive (1): 4,000 each in all
    assert splits.num_classes == 2 and splits.input_shape == (5000,) and splits.num_features == 5000
    assert splits.train[0].dtype == np.float32 and set(np.unique(splits.train[0])) == {0.0, 1.0}


def test_each_example_is_its_review_and_label_under_the_seeded_shuffle(splits, reviews, archive):
    docs = _in_file_order(reviews)
    order = np.random.default_rng(0).permutation(len(docs))  # the module docstring's rule, restated
    column = {f: j for j, f in enumerate(sentiment.load_vocabulary(data_dir=archive.parent))}
    for split, rows in (("train", order[:5600]), ("valid", order[5600:6800]), ("test", order[6800:])):
        x, y = getattr(splits, split)
        np.testing.assert_array_equal(y, [int(docs[i][1] == "positive") for i in rows])
        for row, i in enumerate(rows):
            present = sorted(column[f] for f in docs[i][0] if f in column)
            assert np.flatnonzero(x[row]).tolist() == present, (split, row)


# ---------------------------------------------------------------- the vocabulary


def test_the_vocabulary_is_the_top_5000_of_the_training_split_only(splits, reviews, archive):
    docs = _in_file_order(reviews)
    order = np.random.default_rng(0).permutation(len(docs))
    train = [docs[i] for i in order[:5600]]
    held_out = [docs[i] for i in order[5600:]]
    vocab = sentiment.load_vocabulary(data_dir=archive.parent)
    assert vocab == _top(train)
    assert vocab[:5] == ["i", "you", "not", "was", "<num>"]
    # Counted over all 8,000 reviews, 223 features would differ: the held-out reviews did not count.
    assert len(set(_top(docs)) - set(vocab)) == 223
    seen = {f for features, _ in train for f in features}
    only_held_out = {f for features, _ in held_out for f in features} - seen
    assert len(only_held_out) == 112642 and not only_held_out & set(vocab)


def test_ties_go_alphabetically_and_the_last_colon_splits_feature_and_count():
    docs = [({"a": 5, "b": 1}, 1), ({"b": 1, "c": 2}, 0)]
    assert sentiment.vocabulary(docs, 2) == ["a", "b"]  # a=5, b=2, c=2: the tie goes alphabetically
    assert sentiment.vocabulary(docs, 3) == ["a", "b", "c"]
    assert sentiment.parse_line("a:b:1 great:2 great:1 #label#:positive", "here") == ({"a:b": 1, "great": 3}, 1)
    assert sentiment.parse_line("   ", "here") is None


# ---------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_same_arrays_from_the_cache_and_without_it(splits, archive):
    fresh = rz.datasets.load("sentiment", data_dir=archive.parent, cache=False)
    cached = rz.datasets.load("sentiment", data_dir=archive.parent)
    for split in ("train", "valid", "test"):
        for again in (fresh, cached):
            np.testing.assert_array_equal(getattr(again, split)[0], getattr(splits, split)[0])
            np.testing.assert_array_equal(getattr(again, split)[1], getattr(splits, split)[1])


def test_another_seed_gives_another_split_and_vocabulary(splits, archive):
    other = rz.datasets.load("sentiment", data_dir=archive.parent, seed=1)
    assert (other.train[1] != splits.train[1]).mean() > 0.3  # labels of other reviews: about half differ
    vocab, vocab1 = (sentiment.load_vocabulary(data_dir=archive.parent, seed=s) for s in (0, 1))
    assert vocab != vocab1 and len(set(vocab) & set(vocab1)) == 4659  # 93% the same words


def test_a_changed_archive_is_read_again_not_served_from_the_cache(tmp_path, zoo_home, archive):
    copy = tmp_path / sentiment.ARCHIVE
    copy.write_bytes(archive.read_bytes())
    rz.datasets.load("sentiment", data_dir=tmp_path, domains=("kitchen",))
    assert len(list((zoo_home / "datasets").glob("sentiment-*.npz"))) == 1
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    rz.datasets.load("sentiment", data_dir=tmp_path, domains=("kitchen",))
    assert len(list((zoo_home / "datasets").glob("sentiment-*.npz"))) == 2  # the key holds the archive's mtime


# ---------------------------------------------------------------- provenance


def test_results_say_which_data_they_came_from(splits):
    assert splits.source == "Amazon reviews (processed_acl)"
    assert splits.fingerprint == f"processed_acl.tar.gz md5 {ARCHIVE_MD5}"


def test_the_unpacked_files_give_the_same_arrays_and_the_md5_of_their_md5sum_listing(tmp_path, archive):
    folder = _unpack(archive, tmp_path, SMALL)
    (folder / "processed_acl" / "kitchen" / "unlabeled.review").write_text("junk:1 #label#:unknown\n")  # not read
    from_files = rz.datasets.load("sentiment", data_dir=folder, domains=SMALL, cache=False)
    from_archive = rz.datasets.load("sentiment", data_dir=archive.parent, domains=SMALL, cache=False)
    np.testing.assert_array_equal(from_files.train[0], from_archive.train[0])
    np.testing.assert_array_equal(from_files.test[1], from_archive.test[1])
    listing = "".join(f"{FILE_MD5[n]}  {n}\n" for n in sorted(sentiment.review_files(SMALL)))  # `md5sum` lines
    assert from_files.fingerprint == f"processed_acl files md5 {hashlib.md5(listing.encode()).hexdigest()} " \
                                     "(electronics, kitchen)"
    assert from_files.source == from_archive.source == sentiment.LABEL


def test_a_training_run_records_the_source_and_md5(splits):
    from rectifier_zoo.nn.models import build_classifier
    from rectifier_zoo.training.fit import fit
    from rectifier_zoo.training.recipes import Recipe

    model = build_classifier(input_dim=5000, num_classes=2, hidden=(8,), seed=0)
    result = fit(model, splits.subset(50, 20, 20), Recipe(epochs=1, batch_size=10), verbose=0)
    assert result.data == {"source": sentiment.LABEL, "fingerprint": f"processed_acl.tar.gz md5 {ARCHIVE_MD5}"}


# ---------------------------------------------------------------- what is refused


def test_a_folder_without_the_data_names_the_archive_and_where_to_put_it(tmp_path):
    with pytest.raises(DataError) as info:
        rz.datasets.load("sentiment", data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "processed_acl.tar.gz") in message and "data_dir=" in message
    assert "www.cs.jhu.edu" in message


def test_a_partly_unpacked_folder_names_the_missing_files(tmp_path, archive):
    _unpack(archive, tmp_path, ("kitchen",))
    with pytest.raises(DataError, match=r"books/positive.review.*books/negative.review.*dvd/positive.review"):
        rz.datasets.load("sentiment", data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"subset of \['books'"):
        rz.datasets.load("sentiment", data_dir=tmp_path, domains=("toys",))


@pytest.mark.parametrize("damage", ["truncated", "not_gzip"])
def test_a_damaged_archive_is_one_data_error_naming_it_and_the_fix(tmp_path, archive, damage):
    copy = tmp_path / sentiment.ARCHIVE
    copy.write_bytes(archive.read_bytes()[: 1 << 20] if damage == "truncated" else b"not a tar.gz at all")
    with pytest.raises(DataError) as info:
        rz.datasets.load("sentiment", data_dir=tmp_path, cache=False)
    assert str(copy) in str(info.value) and "damaged or truncated" in str(info.value)
    assert "unchanged" in str(info.value)


def test_an_archive_missing_a_member_names_it(tmp_path, archive):
    kept = sentiment.review_files(("books",))
    with tarfile.open(archive) as src, tarfile.open(tmp_path / sentiment.ARCHIVE, "w:gz") as dst:
        for name in kept:
            member = src.getmember(f"processed_acl/{name}")
            dst.addfile(member, src.extractfile(member))
    with pytest.raises(DataError, match=r"holds no processed_acl/dvd/positive.review, .*incomplete"):
        rz.datasets.load("sentiment", data_dir=tmp_path, cache=False)
    books = rz.datasets.load("sentiment", data_dir=tmp_path, domains=("books",), cache=False)
    assert sum(len(getattr(books, s)[1]) for s in ("train", "valid", "test")) == 2000


def _tar_gz(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"processed_acl/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_malformed_review_names_its_file_and_line(tmp_path):
    # Made-up files: the real ones have no malformed line.
    good = "good:1 #label#:positive\n"
    _tar_gz(tmp_path / sentiment.ARCHIVE, {"books/positive.review": good,
                                           "books/negative.review": good + "bad:2 #label#:meh\n"})
    with pytest.raises(DataError, match=r"processed_acl/books/negative.review, line 2: label 'meh'"):
        rz.datasets.load("sentiment", data_dir=tmp_path, domains=("books",), cache=False)
    folder = tmp_path / "unpacked" / "processed_acl" / "books"
    folder.mkdir(parents=True)
    (folder / "positive.review").write_text(good)
    (folder / "negative.review").write_text("word:x #label#:negative\n")
    with pytest.raises(DataError, match=r"negative.review, line 1: count 'x' of 'word' is not an integer"):
        rz.datasets.load("sentiment", data_dir=folder.parent, domains=("books",), cache=False)
    (folder / "negative.review").write_text("word:1\n")
    with pytest.raises(DataError, match=r"line 1: label None is not one of"):
        rz.datasets.load("sentiment", data_dir=folder.parent.parent, domains=("books",), cache=False)


# ---------------------------------------------------------------- the report's side table


def _side_run(name, neuron, l1, test_error, zeros):
    """A sentiment run's result as ``sentiment_runs.py`` saves it (its figures made up here)."""
    return {
        "name": name, "dataset": "sentiment", "test_error": test_error, "valid_error": test_error + 0.01,
        "sparsity": {f"hidden_{i}": {"zeros": z, "dead": 0.181 if i == 3 and z else 0.0, "mean": 0.1}
                     for i, z in enumerate(zeros, 1)},
        "epochs": 7, "best_epoch": 2, "seconds": 600.0,
        "hyperparameters": {"learning_rate": 0.1, "batch_size": 10, "seed": 0, "neuron": neuron, "l1": l1,
                            "lr_trials": {"0.1": 0.1717, "0.01": 0.2158}, "lr_trial_epochs": 2},
        "data": {"source": sentiment.LABEL, "fingerprint": f"processed_acl.tar.gz md5 {ARCHIVE_MD5}"},
    }


def _side_folder(tmp_path):
    side = tmp_path / "side" / "sentiment"
    side.mkdir(parents=True)
    for run in (_side_run("sentiment_tanh", "tanh", 0.0, 0.16, (0.0, 0.0, 0.0)),
                _side_run("sentiment_rect_l1", "rect", 0.001, 0.14, (0.9, 0.8, 0.75))):
        (side / f"{run['name']}--seed0.json").write_text(json.dumps(run))
    (side / "sentiment_tanh--lr-trials.json").write_text(json.dumps({"epochs": 2, "valid_error": {"0.1": 0.2}}))
    return tmp_path / "results"


def test_the_side_table_rows_say_rate_trials_errors_and_zeros(tmp_path):
    from rectifier_zoo.reproduction.sentiment import sentiment_section

    lines = sentiment_section([_side_folder(tmp_path)])
    assert lines[0] == "## Side table: Amazon sentiment (not the paper's protocol)"
    assert "**not the paper's protocol**" in lines[2] and "pre-trained on the unlabeled reviews" in lines[2]
    trials = "0.1 (2-epoch trials, valid error 0.1: 17.2%, 0.01: 21.6%)"
    assert lines[6:8] == [
        (f"| rectifier + L1 (`sentiment_rect_l1`) | 0.001 | {trials} | 7 (best 2) | 15.00% | 14.00% | "
         "90.0% / 80.0% / 75.0% | 0.0% / 0.0% / 18.1% | 10 min |"),
        (f"| tanh (`sentiment_tanh`) | 0 | {trials} | 7 (best 2) | 17.00% | 16.00% | 0.0% / 0.0% / 0.0% | "
         "0.0% / 0.0% / 0.0% | 10 min |"),
    ]
    assert lines[9].startswith("One seed each, so no ± column: at a test error of 15.0% on 1,200 reviews, one "
                               "binomial standard error is 1.0%.")
    assert f"Data: Amazon reviews (processed_acl) (processed_acl.tar.gz md5 {ARCHIVE_MD5})." in lines[9]


def test_a_tie_in_the_rate_trials_says_which_rate_runs():
    from rectifier_zoo.reproduction.sentiment import trials_text

    hp = {"learning_rate": 0.01, "lr_trials": {"0.1": 0.1642, "0.01": 0.1642, "0.001": 0.2483}, "lr_trial_epochs": 2}
    assert trials_text(hp) == ("0.01 (2-epoch trials, valid error 0.1: 16.4%, 0.01: 16.4%, 0.001: 24.8%; "
                               "a tie goes to the smaller rate)")
    assert trials_text({"learning_rate": 0.03}) == "0.03"


def test_the_report_has_the_side_table_only_beside_results_that_have_one(tmp_path):
    from test_reproduction import fake

    from rectifier_zoo.reproduction import report

    results = _side_folder(tmp_path)
    results.mkdir()
    (results / "mnist_rect--seed0.json").write_text(json.dumps(fake("mnist_rect", 0, 0.02, (0.5,) * 3)))
    text = report.write_report([results], tmp_path / "out").read_text()
    assert "## Side table: Amazon sentiment (not the paper's protocol)" in text
    assert "sentiment_rect_l1" in text and text.count("`sentiment_tanh`") == 1  # the table only, not a run list
    elsewhere = tmp_path / "other" / "results"  # no side/sentiment beside it
    elsewhere.mkdir(parents=True)
    (elsewhere / "r.json").write_text((results / "mnist_rect--seed0.json").read_text())
    assert "Amazon sentiment" not in report.write_report([elsewhere], tmp_path / "out2").read_text()

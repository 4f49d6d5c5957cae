"""Tests of rectifier_zoo.datasets: small files in each real format, tfds mocks, bad input.

Nothing here touches the network: tfds is always mocked, and RECTIFIER_ZOO_HOME /
TFDS_DATA_DIR point into tmp_path so the real caches are never written.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pathlib
import pickle
import sys

import numpy as np
import pytest

import rectifier_zoo.datasets as ds
from rectifier_zoo.datasets import cifar10, idx, norb, tfds_source
from rectifier_zoo.errors import ConfigError, DataError

from realdata import FASHION_MNIST as FASHION_DIR, IDX_FILES, require


REAL_CHECK_REACHABLE = tfds_source.check_reachable


@pytest.fixture(autouse=True)
def _isolated_home(no_datasets, monkeypatch):
    """Every test gets its own zoo home and tfds dir (conftest.no_datasets: downloads are never allowed
    implicitly), the dataset cache on, and the servers are never probed (the mocked downloads below need
    no network; the probe's tests use the real one)."""
    monkeypatch.delenv("RECTIFIER_ZOO_NO_CACHE", raising=False)
    monkeypatch.setattr(tfds_source, "check_reachable", lambda name, urls, timeout=None: None)


# ---------- writers of the real formats ----------

def idx_bytes(arr: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def write_idx_set(directory, x_train, y_train, x_test, y_test, gz=True, test_prefix="t10k"):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "train-images-idx3-ubyte": idx_bytes(x_train, 2051), "train-labels-idx1-ubyte": idx_bytes(y_train, 2049),
        f"{test_prefix}-images-idx3-ubyte": idx_bytes(x_test, 2051),
        f"{test_prefix}-labels-idx1-ubyte": idx_bytes(y_test, 2049),
    }
    for name, data in files.items():
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


def fake_mnist(n_train=120, n_test=30, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train).astype(np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test).astype(np.uint8))


def write_cifar(directory, n_per_batch=20, n_test=10, seed=0):
    """Six python batches as CIFAR ships them: CHW uint8 rows under b"data", b"labels" lists."""
    rng = np.random.default_rng(seed)
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name, n in [(f"data_batch_{i}", n_per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        with open(directory / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, f, protocol=2)
        batches[name] = (data, labels)
    return batches


# ---------- registry ----------

def test_names_sorted_and_complete():
    assert ds.names() == ["cifar10", "fashion_mnist", "mnist", "norb", "sentiment", "shapeset", "shapeset3x2"]
    assert all(ds.describe(n) for n in ds.names())


def test_unknown_name_suggests_close_match():
    with pytest.raises(ConfigError, match=r"unknown dataset 'fashion-mnst'.*Did you mean 'fashion_mnist'.*cifar10"):
        ds.load("fashion-mnst")
    with pytest.raises(ValueError):  # ConfigError is a ValueError too
        ds.load("imagenet")


def test_unknown_keyword_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"does not take colour.*accepts: cache, data_dir, download"):
        ds.load("mnist", data_dir=tmp_path, colour=True)


def test_import_is_cheap():
    # Read the loaders' module-level imports (a subprocess would pay for the package
    # root's Keras import): tensorflow / tensorflow_datasets only inside functions.
    import ast

    folder = pathlib.Path(ds.__file__).parent
    for module in ("__init__", "cache", "idx", "cifar10", "norb", "sentiment", "tfds_source"):
        tree = ast.parse((folder / f"{module}.py").read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = [a.name for n in top for a in n.names] + [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.split(".")[0] in ("tensorflow", "tensorflow_datasets", "keras")], module


def test_shapeset_routing(monkeypatch):
    calls = []
    fake = type(sys)("rectifier_zoo.datasets.shapeset")
    fake.load = lambda seed=0, n_train=10000, n_valid=10000, n_test=10000, variant="3": calls.append(
        (seed, n_train, variant)) or "splits"
    monkeypatch.setitem(sys.modules, "rectifier_zoo.datasets.shapeset", fake)
    assert ds.load("shapeset", seed=3, n_train=5) == "splits"
    assert ds.load("shapeset3x2") == "splits"
    assert calls == [(3, 5, "3"), (0, 10000, "3x2")]
    with pytest.raises(ConfigError, match="does not take vocab_size"):
        ds.load("shapeset", vocab_size=3)


# ---------- mnist family from IDX files ----------

@pytest.mark.parametrize("gz,test_prefix", [(True, "t10k"), (False, "t10k"), (True, "test")])
def test_idx_load_shapes_ranges_and_split_rule(tmp_path, gz, test_prefix):
    x_tr, y_tr, x_te, y_te = fake_mnist(120, 30)
    write_idx_set(tmp_path / "d", x_tr, y_tr, x_te, y_te, gz=gz, test_prefix=test_prefix)
    s = ds.load("mnist", data_dir=tmp_path / "d")
    assert idx.valid_size(120) == 20 and idx.valid_size(60000) == 10000
    assert [len(p[1]) for p in (s.train, s.valid, s.test)] == [100, 20, 30]
    assert s.train[0].shape == (100, 784) and s.train[0].dtype == np.float32 and s.train[1].dtype == np.int64
    assert s.num_classes == 10 and s.input_shape == (28, 28) and s.source == str(tmp_path / "d")
    # Values round-trip: pixels / 255, valid is the *end* of the official train set, labels unchanged.
    np.testing.assert_array_equal(s.train[0], x_tr[:100].reshape(100, 784) / np.float32(255))
    np.testing.assert_array_equal(s.valid[0] * 255, x_tr[100:].reshape(20, 784).astype(np.float32))
    np.testing.assert_array_equal(s.valid[1], y_tr[100:])
    np.testing.assert_array_equal(s.test[1], y_te)
    assert 0.0 <= s.train[0].min() and s.train[0].max() <= 1.0


def test_idx_in_name_subfolder_and_cache_reused(tmp_path):
    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12)
    write_idx_set(tmp_path / "fashion_mnist", x_tr, y_tr, x_te, y_te)
    a = ds.load("fashion_mnist", data_dir=tmp_path)
    cached = list((tmp_path / "home" / "datasets").glob("fashion_mnist-*.npz"))
    assert len(cached) == 1
    b = ds.load("fashion_mnist", data_dir=tmp_path)
    np.testing.assert_array_equal(a.train[0], b.train[0])
    assert list((tmp_path / "home" / "datasets").glob("*.tmp*")) == []  # no leftovers of the atomic write


def test_cache_false_writes_nothing(tmp_path):
    write_idx_set(tmp_path / "d", *fake_mnist(60, 12))
    ds.load("mnist", data_dir=tmp_path / "d", cache=False)
    assert not (tmp_path / "home" / "datasets").exists()


def test_corrupt_cache_is_rebuilt(tmp_path):
    write_idx_set(tmp_path / "d", *fake_mnist(60, 12))
    good = ds.load("mnist", data_dir=tmp_path / "d")
    (path,) = (tmp_path / "home" / "datasets").glob("mnist-*.npz")
    path.write_bytes(path.read_bytes()[:1000])  # truncated: a crash of some other writer
    with pytest.warns(UserWarning, match="unreadable.*rebuilding"):
        again = ds.load("mnist", data_dir=tmp_path / "d")
    np.testing.assert_array_equal(good.valid[0], again.valid[0])
    with np.load(path) as data:  # rebuilt in place, complete
        assert data["x_train"].shape == (50, 784)


def test_changed_source_file_invalidates_cache(tmp_path):
    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12)
    write_idx_set(tmp_path / "d", x_tr, y_tr, x_te, y_te)
    ds.load("mnist", data_dir=tmp_path / "d")
    y_te2 = (y_te + 1) % 10
    write_idx_set(tmp_path / "d", x_tr, y_tr, x_te, y_te2)
    for path in (tmp_path / "d").iterdir():  # a later mtime, whatever the file system's clock resolution
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    s = ds.load("mnist", data_dir=tmp_path / "d")
    np.testing.assert_array_equal(s.test[1], y_te2)


def test_missing_dir_names_files_and_fix(tmp_path):
    with pytest.raises(DataError) as err:
        ds.load("fashion_mnist", data_dir=tmp_path / "nowhere")
    msg = str(err.value)
    for part in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", str(tmp_path / "nowhere"),
                 "apt-get install dataset-fashion-mnist", "tfds build fashion_mnist", "download=True"):
        assert part in msg


def test_missing_everything_without_data_dir(tmp_path):
    with pytest.raises(DataError, match=r"no prepared tensorflow-datasets copy of 'mnist' in .*tfds.*TFDS_DATA_DIR"):
        ds.load("mnist")


def test_truncated_idx(tmp_path):
    d = write_idx_set(tmp_path / "d", *fake_mnist(60, 12))
    raw = gzip.decompress((d / "train-images-idx3-ubyte.gz").read_bytes())
    (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz is truncated: 46940 of 47040"):
        ds.load("mnist", data_dir=d, cache=False)
    (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw)[:-50])  # gzip stream cut short
    with pytest.raises(DataError, match=r"cannot read IDX file .*train-images-idx3-ubyte.gz"):
        ds.load("mnist", data_dir=d, cache=False)


def test_wrong_magic(tmp_path):
    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12)
    d = write_idx_set(tmp_path / "d", x_tr, y_tr, x_te, y_te)
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(y_te, 2051)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz is not an IDX label file: magic number 2051 instead of 2049"):
        ds.load("mnist", data_dir=d, cache=False)


def test_label_count_mismatch(tmp_path):
    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12)
    d = write_idx_set(tmp_path / "d", x_tr, y_tr[:59], x_te, y_te)
    with pytest.raises(DataError, match=r"holds 60 images but .*train-labels-idx1-ubyte.gz holds 59 labels"):
        ds.load("mnist", data_dir=d, cache=False)


def test_label_out_of_range(tmp_path):
    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12)
    y_te[3] = 11
    d = write_idx_set(tmp_path / "d", x_tr, y_tr, x_te, y_te)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: label 11 out of range \[0, 10\)"):
        ds.load("mnist", data_dir=d, cache=False)


def test_real_fashion_mnist(tmp_path):
    require(FASHION_DIR, IDX_FILES)
    s = ds.load("fashion_mnist")  # no data_dir: the Debian folder
    assert s.source == str(FASHION_DIR)
    assert [p[0].shape for p in (s.train, s.valid, s.test)] == [(50000, 784), (10000, 784), (10000, 784)]
    assert s.train[0].dtype == np.float32 and s.train[0].min() == 0.0 and s.train[0].max() == 1.0
    counts = np.bincount(s.train[1], minlength=10)
    assert counts.min() > 4500 and counts.max() < 5500  # 6000 per class in the official 60k
    assert np.bincount(s.test[1]).tolist() == [1000] * 10
    assert list((tmp_path / "home" / "datasets").glob("fashion_mnist-*.npz"))  # cached in the tmp home only


# ---------- tfds path (mocked) ----------

def hash_sorted(n, split):
    """Stored order tfds gives a split whose keys are 0..n-1: sorted by md5(split + key), as integers."""
    return sorted(range(n), key=lambda k: int(hashlib.md5(split.encode() + str(k).encode()).hexdigest(), 16))


def tfds_like_as_dataset(splits_arrays):
    """A mock ``_as_dataset`` that serves arrays in the order tfds would have stored them."""
    import tensorflow as tf

    def as_dataset(self, split, **kwargs):
        split = str(split)
        x, y = splits_arrays[split]
        order = hash_sorted(len(y), split)
        return tf.data.Dataset.from_tensor_slices({"image": x[order][..., None], "label": y[order].astype(np.int64)})

    return as_dataset


def test_tfds_mnist_equals_idx(tmp_path):
    import tensorflow_datasets as tfds

    x_tr, y_tr, x_te, y_te = fake_mnist(60, 12, seed=5)
    write_idx_set(tmp_path / "idx", x_tr, y_tr, x_te, y_te)
    from_idx = ds.load("mnist", data_dir=tmp_path / "idx", cache=False)
    fn = tfds_like_as_dataset({"train": (x_tr, y_tr), "test": (x_te, y_te)})
    with tfds.testing.mock_data(as_dataset_fn=fn):
        (tmp_path / "tfds" / "mnist").mkdir(parents=True)  # passes the cheap "is it there" check
        with pytest.raises(DataError, match="not fully prepared.*download=True"):
            ds.load("mnist")  # the mock's builder reports not prepared: no silent download
        from_tfds = ds.load("mnist", download=True)
    assert from_tfds.source.startswith("tfds:")
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(from_idx, split)[0], getattr(from_tfds, split)[0])
        np.testing.assert_array_equal(getattr(from_idx, split)[1], getattr(from_tfds, split)[1])


def test_tfds_stored_order_matches_tfds_hasher():
    from tensorflow_datasets.core import hashing

    hasher = hashing.Hasher("train")
    expected = sorted(range(500), key=hasher.hash_key)
    assert tfds_source.stored_order(500, "train").tolist() == expected


def test_tfds_fashion_mnist_default_mock(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=36):
        s = ds.load("fashion_mnist", data_dir=tmp_path / "empty", download=True)
    assert [len(p[1]) for p in (s.train, s.valid, s.test)] == [30, 6, 36]
    assert s.train[0].shape == (30, 784) and 0 <= s.train[0].min() and s.train[0].max() <= 1


def test_tfds_prepared_without_download(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    called = []
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared", lambda self: True)
    with tfds.testing.mock_data(num_examples=12):
        monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", lambda self, *a, **k: called.append(1))
        (tmp_path / "tfds" / "cifar10").mkdir(parents=True)
        s = ds.load("cifar10")
    assert called == []  # prepared: never asked to download
    assert [len(p[1]) for p in (s.train, s.valid, s.test)] == [12, 6, 6]
    assert s.input_shape == (32, 32, 3) and s.train[0].shape == (12, 3072)


def test_download_env_allows_download(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setenv("RECTIFIER_ZOO_DOWNLOAD", "1")
    with tfds.testing.mock_data(num_examples=6):
        s = ds.load("mnist", cache=False)
    assert len(s.train[1]) == 5 and len(s.valid[1]) == 1


def test_norb_from_mock(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=243):
        s = ds.load("norb", download=True)
    assert norb.valid_size(24300) == 4300
    assert [len(p[1]) for p in (s.train, s.valid, s.test)] == [200, 43, 243]
    assert s.train[0].shape == (200, 2048) and s.input_shape == (2, 32, 32) and s.num_classes == 5
    assert s.train[0].min() >= -1.0 and s.train[0].max() <= 1.0
    assert s.train[1].max() < 5


def test_norb_missing_says_how():
    with pytest.raises(DataError, match=r"smallnorb.*tfds build smallnorb.*download=True"):
        ds.load("norb")


def test_norb_block_average_values():
    img = np.zeros((1, 96, 96, 1), np.uint8)
    img[0, :3, :3] = 255  # one full white block -> +1
    img[0, 3:6, :3] = [[0], [255], [0]]  # a third white -> mean 85
    feats = norb.to_features(norb.block_sums(img).reshape(1, -1))
    assert feats[0, 0] == 1.0 and feats[0, -1] == -1.0
    assert feats[0, 32] == pytest.approx(85 / 127.5 - 1, abs=1e-6)


# ---------- cifar10 ----------

def test_cifar_batches_hwc_and_split(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    s = ds.load("cifar10", data_dir=tmp_path)
    assert [len(p[1]) for p in (s.train, s.valid, s.test)] == [100, 5, 5]
    assert s.input_shape == (32, 32, 3) and s.train[0].shape == (100, 3072) and s.train[0].dtype == np.float32
    data, labels = batches["data_batch_1"]
    # HWC: feature (r*32 + c)*3 + k is channel plane k, pixel (r, c) of the CHW row.
    r, c, k = 4, 7, 2
    assert s.train[0][0, (r * 32 + c) * 3 + k] == np.float32(data[0, k * 1024 + r * 32 + c]) / np.float32(255)
    np.testing.assert_array_equal(s.train[1][:20], labels)
    test_data, test_labels = batches["test_batch"]
    np.testing.assert_array_equal(s.valid[1], test_labels[:5])  # first half of the official test set
    np.testing.assert_array_equal(s.test[1], test_labels[5:])
    assert cifar10.valid_size(10000) == 5000


def test_cifar_truncated_pickle(tmp_path):
    write_cifar(tmp_path)
    p = tmp_path / "data_batch_3"
    p.write_bytes(p.read_bytes()[:500])
    with pytest.raises(DataError, match=r"cannot read CIFAR batch .*data_batch_3.*corrupt or truncated"):
        ds.load("cifar10", data_dir=tmp_path, cache=False)


def test_cifar_refuses_code_in_pickle(tmp_path):
    write_cifar(tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": pathlib.Path("x"), b"labels": []}, f)
    with pytest.raises(DataError, match=r"test_batch.*refusing to load pathlib"):
        ds.load("cifar10", data_dir=tmp_path, cache=False)


def test_cifar_bad_labels(tmp_path):
    write_cifar(tmp_path)
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 10, 1]}, f)
    with pytest.raises(DataError, match=r"data_batch_2: labels must lie in \[0, 10\), found 0..10"):
        ds.load("cifar10", data_dir=tmp_path, cache=False)
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match=r"data_batch_2: 3 images but 2 labels"):
        ds.load("cifar10", data_dir=tmp_path, cache=False)


def test_cifar_missing(tmp_path):
    with pytest.raises(DataError, match=r"data_batch_1.*test_batch .or the JPEG copy cifar10-jpeg.zip. not found in .*cifar-10-batches-py.*cs.toronto.edu"):
        ds.load("cifar10", data_dir=tmp_path)


def test_failed_download_is_data_error(monkeypatch):
    import tensorflow_datasets as tfds

    def boom(self, *args, **kwargs):
        raise ConnectionError("no route to host")

    with tfds.testing.mock_data(num_examples=3):
        monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", boom)
        with pytest.raises(DataError, match=r"downloading 'mnist' with tensorflow-datasets into .*failed: no route to host"):
            ds.load("mnist", download=True)


# ---------- a download attempt: fast without a network, whole or nothing


def snapshot(root):
    root = pathlib.Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else None


def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def test_download_without_a_network_fails_fast_with_one_error_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "check_reachable", REAL_CHECK_REACHABLE)
    port = closed_port()  # every request goes through a proxy that is not there: no packet leaves the machine
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{port}")
    tfds_dir = tmp_path / "tfds"
    (tfds_dir / "other").mkdir(parents=True)
    (tfds_dir / "other" / "keep.txt").write_text("a user's file")
    before = snapshot(tfds_dir)
    with pytest.raises(DataError) as err:
        ds.load("mnist", download=True)
    msg = str(err.value)
    assert f"cannot download 'mnist': proxy 127.0.0.1:{port} is unreachable" in msg and "nothing was written" in msg
    assert "no answer within" not in msg  # refused at once, not waited out
    assert "\n" not in msg and "tfds build mnist" in msg and "download=True (or" not in msg
    assert snapshot(tfds_dir) == before


def test_a_server_that_never_answers_is_given_up_after_the_timeout(monkeypatch):
    import socket
    import threading

    released, returned = threading.Event(), threading.Event()

    def hang(*args, **kwargs):  # a resolver or a connect that never returns (until the test ends)
        released.wait(60)
        returned.set()
        raise OSError("released by the test")

    monkeypatch.setattr(socket, "create_connection", hang)
    try:
        with pytest.raises(DataError, match=r"storage.googleapis.com:443 is unreachable \(no answer within 0.5 s\)"):
            REAL_CHECK_REACHABLE("mnist", ["https://storage.googleapis.com/cvdf-datasets/mnist/x.gz"], timeout=0.5)
        assert not returned.is_set()  # it gave up while the connect still hung
    finally:
        released.set()


def test_a_download_failing_midway_leaves_the_tfds_dir_as_it_was(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def partial_then_fail(self, download_dir=None, **kwargs):
        pathlib.Path(self.data_dir).mkdir(parents=True)
        (pathlib.Path(self.data_dir) / "mnist-train.tfrecord-00000-of-00001").write_bytes(b"half")
        pathlib.Path(download_dir).mkdir(parents=True)
        (pathlib.Path(download_dir) / "train-images-idx3-ubyte.gz.tmp").write_bytes(b"half")
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", partial_then_fail)
    for tfds_dir, existed in ((tmp_path / "tfds", True), (tmp_path / "fresh", False)):
        if existed:
            (tfds_dir / "mnist" / "1.0.0").mkdir(parents=True)  # an older copy of the user's: kept as it is
        before = snapshot(tfds_dir)
        with pytest.raises(DataError, match=r"failed: connection reset by peer; nothing was kept"):
            ds.load("mnist", data_dir=tfds_dir, download=True)
        assert snapshot(tfds_dir) == before  # None: a data dir made for the attempt is removed again


def test_a_finished_download_is_renamed_into_the_tfds_dir_whole(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    staged = []

    def prepare(self, download_dir=None, **kwargs):  # writes what a prepared copy holds, where it is told to
        staged.append((pathlib.Path(self.data_dir), pathlib.Path(download_dir)))
        pathlib.Path(self.data_dir).mkdir(parents=True)
        (pathlib.Path(self.data_dir) / "dataset_info.json").write_text("{}")
        pathlib.Path(download_dir).mkdir(parents=True)

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", prepare)
    root = tmp_path / "tfds"
    tfds_source.download_and_prepare(tfds, tfds.builder("mnist", data_dir=str(root)), root)
    ((data_dir, download_dir),) = staged
    staging = data_dir.parents[1]
    assert staging.parent == root and staging.name.startswith(".mnist-download-") and staging in download_dir.parents
    assert (root / data_dir.relative_to(staging) / "dataset_info.json").read_text() == "{}"
    assert [p.name for p in root.iterdir()] == ["mnist"]  # the staging folder and the raw downloads are gone

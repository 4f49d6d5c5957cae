"""CIFAR-10 from the JPEG (q75) copy: the real zip's counts, balance, means, fixed split, and bad files."""

import io
import zipfile

import numpy as np
import pytest

import rectifier_zoo as rz
from rectifier_zoo.datasets import cifar10_jpeg
from rectifier_zoo.errors import DataError
from realdata import CIFAR10_JPEG, require

# The copy's README: test-set channel means (the published CIFAR-10 means to 1e-4).
TEST_MEANS = (0.4941, 0.4851, 0.4504)


@pytest.fixture(scope="module")
def zoo_cache(tmp_path_factory):
    """One zoo home for the module: the first load decodes the zip (seconds), later ones read the cache."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECTIFIER_ZOO_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def splits(zoo_cache):
    return rz.datasets.load("cifar10", data_dir=require(CIFAR10_JPEG, [cifar10_jpeg.FILE]))


def test_the_copy_loads_as_50k_5k_5k_balanced_flat_hwc_floats(splits):
    assert [len(getattr(splits, s)[0]) for s in ("train", "valid", "test")] == [50000, 5000, 5000]
    assert splits.train[0].shape[1] == 3072 and splits.train[0].dtype == np.float32
    assert splits.input_shape == (32, 32, 3)
    assert np.bincount(splits.train[1]).tolist() == [5000] * 10
    assert np.bincount(splits.valid[1]).tolist() == [500] * 10
    assert np.bincount(splits.test[1]).tolist() == [500] * 10
    assert 0.0 <= splits.train[0].min() and splits.train[0].max() <= 1.0


def test_the_test_images_keep_the_published_channel_means(splits):
    x = np.concatenate([splits.valid[0], splits.test[0]]).reshape(-1, 3)
    np.testing.assert_allclose(x.mean(axis=0, dtype=np.float64), TEST_MEANS, atol=1e-4)


def test_results_from_the_copy_are_labelled_with_its_name_and_md5(splits):
    assert splits.source == "CIFAR-10 (JPEG q75 copy)"
    assert splits.fingerprint == "cifar10-jpeg.zip md5 6cf65a711875d1f74bbe6ac6f6f966e3"


def test_the_split_is_the_fixed_rule_images_0_to_499_of_each_class_validate(splits):
    # Validation example k*10 + c is image k of class c; test example k*10 + c is image 500 + k.
    with zipfile.ZipFile(CIFAR10_JPEG / cifar10_jpeg.FILE) as zf:
        for split, number, cls in (("valid", 0, 0), ("valid", 499, 9), ("test", 500, 3), ("test", 999, 7)):
            pixels = cifar10_jpeg._decode(zf, f"test/{cifar10_jpeg.CLASSES[cls]}/{number:04d}.jpg")
            x, y = getattr(splits, split)
            row = (number % 500) * 10 + cls
            assert y[row] == cls
            np.testing.assert_array_equal(np.rint(x[row] * 255).astype(np.uint8), pixels.reshape(-1))


def test_the_split_is_the_same_from_the_cache_and_from_a_fresh_decode(splits):
    fresh = rz.datasets.load("cifar10", data_dir=CIFAR10_JPEG, cache=False)
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(fresh, split)[1], getattr(splits, split)[1])
        np.testing.assert_array_equal(getattr(fresh, split)[0], getattr(splits, split)[0])


def test_a_folder_without_the_zip_says_which_file_and_how_to_give_it(tmp_path, zoo_home):
    with pytest.raises(DataError) as info:
        rz.datasets.load("cifar10", data_dir=tmp_path)
    assert "cifar10-jpeg.zip" in str(info.value) and "data_dir" in str(info.value)


def test_a_truncated_zip_is_refused_with_the_fix(tmp_path, zoo_home):
    original = require(CIFAR10_JPEG, [cifar10_jpeg.FILE]) / cifar10_jpeg.FILE
    (tmp_path / cifar10_jpeg.FILE).write_bytes(original.read_bytes()[: 1 << 20])
    with pytest.raises(DataError) as info:
        rz.datasets.load("cifar10", data_dir=tmp_path, cache=False)
    assert str(tmp_path / cifar10_jpeg.FILE) in str(info.value) and "unchanged" in str(info.value)


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_zip_missing_images_names_the_class_and_the_count(tmp_path, zoo_home):
    jpeg = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (32, 32)).save(jpeg, format="JPEG")
    _zip(tmp_path / cifar10_jpeg.FILE, {f"train/airplane/{i:04d}.jpg": jpeg.getvalue() for i in range(3)})
    with pytest.raises(DataError, match=r"train/airplane holds 3 of its 5000 images"):
        rz.datasets.load("cifar10", data_dir=tmp_path, cache=False)


def test_an_image_that_is_not_a_jpeg_or_not_32x32_is_refused(tmp_path):
    from PIL import Image

    big = io.BytesIO()
    Image.new("RGB", (64, 64)).save(big, format="JPEG")
    _zip(tmp_path / "bad.zip", {"junk.jpg": b"not a jpeg", "big.jpg": big.getvalue()})
    with zipfile.ZipFile(tmp_path / "bad.zip") as zf:
        with pytest.raises(DataError, match="cannot decode junk.jpg"):
            cifar10_jpeg._decode(zf, "junk.jpg")
        with pytest.raises(DataError, match="big.jpg is 64x64, not 32x32"):
            cifar10_jpeg._decode(zf, "big.jpg")

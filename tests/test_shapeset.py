"""Tests of the Shapeset generator (rectifier_zoo/datasets/shapeset.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectifier_zoo.datasets import shapeset
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def scene(n, seed=0, variant="3"):
    """The generator's internals for ``generate(n, seed, variant)``."""
    return shapeset._draw(n, np.random.default_rng(seed), variant)


def polygon_area(vertices, sides):
    """Shoelace area of the first ``sides`` vertices (positive: counter-clockwise)."""
    v = vertices[:sides]
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


# ---------------------------------------------------------------- basic shape


@pytest.mark.parametrize("variant, classes", [("3", 3), ("3x2", 9)])
def test_shape_dtype_range(variant, classes):
    x, y = shapeset.generate(200, seed=1, variant=variant)
    assert x.shape == (200, 1024) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == set(range(classes))
    assert len(shapeset.CLASS_NAMES[variant]) == classes


def test_empty():
    x, y = shapeset.generate(0)
    assert x.shape == (0, 1024) and y.shape == (0,)


def test_generate_matches_scene():
    # The internals the tests below inspect are the ones generate() draws.
    for variant in ("3", "3x2"):
        x, y = shapeset.generate(50, seed=4, variant=variant)
        s = scene(50, seed=4, variant=variant)
        np.testing.assert_array_equal(x, shapeset._images(s))
        np.testing.assert_array_equal(y, s.y)


# -------------------------------------------------------------- determinism


@pytest.mark.parametrize("variant", ["3", "3x2"])
def test_deterministic(variant):
    x1, y1 = shapeset.generate(300, seed=7, variant=variant)
    x2, y2 = shapeset.generate(300, seed=7, variant=variant)
    assert x1.tobytes() == x2.tobytes() and y1.tobytes() == y2.tobytes()
    x3, y3 = shapeset.generate(300, seed=8, variant=variant)
    assert x1.tobytes() != x3.tobytes()
    assert not np.array_equal(y1, y3)


def test_numpy_integer_seed_is_accepted():
    a = shapeset.generate(20, seed=np.int64(3))
    b = shapeset.generate(20, seed=3)
    np.testing.assert_array_equal(a[0], b[0])


# ----------------------------------------------------------------- balance


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), variant=st.sampled_from(["3", "3x2"]))
def test_balanced(n, variant):
    classes = len(shapeset.CLASS_NAMES[variant])
    _, y = shapeset.generate(n, seed=n, variant=variant)
    counts = np.bincount(y, minlength=classes)
    expected = [n // classes + (c < n % classes) for c in range(classes)]
    assert counts.tolist() == expected


def test_labels_are_shuffled():
    _, y = shapeset.generate(300)
    assert not np.array_equal(y, np.arange(300) % 3)
    assert not np.array_equal(y, np.sort(y))


# ------------------------------------------------------------- grey levels


def test_two_grey_levels_in_range():
    s = scene(1000, seed=2)
    x = shapeset._images(s)
    for img in x:
        assert len(np.unique(img)) == 2
    fg, bg = s.foreground, s.background
    light = np.maximum(fg, bg)
    dark = np.minimum(fg, bg)
    assert np.all((light >= 0.55) & (light <= 1.0))
    assert np.all((dark >= 0.0) & (dark <= 0.45))
    # The shape carries the foreground level, the rest the background level.
    mask = s.masks.any(axis=1)
    assert np.all(np.where(mask, x == fg[:, None], x == bg[:, None]))
    # Swapped (dark shape on a light background) about half of the time.
    swapped = np.mean(fg < bg)
    assert 0.43 < swapped < 0.57


# ------------------------------------------------------------------ geometry


def test_shapes_inside_and_rasterised():
    s = scene(1500, seed=3)
    assert np.all((s.vertices[:, 0] >= 0) & (s.vertices[:, 0] <= 32))
    assert np.all(np.isnan(s.vertices[:, 1]))  # one shape per image
    pixels = s.masks[:, 0].sum(axis=1)
    assert pixels.min() > 0
    # The half-plane test counts about the polygon's area (shoelace) in pixels.
    sides = np.array(shapeset._SIDES)[s.kinds[:, 0]]
    areas = np.array([polygon_area(v, k) for v, k in zip(s.vertices[:, 0], sides)])
    assert areas.min() > 0  # counter-clockwise, as the inside test needs
    assert np.mean(np.abs(pixels - areas) / areas) < 0.03
    # Sizes: each axis in [0.2, 0.8] x 32, so areas within the triangle / rectangle bounds.
    assert areas.min() >= 0.5 * 6.4**2 - 1 and areas.max() <= 25.6**2 + 1


def test_shape_kinds_follow_labels():
    s = scene(90, seed=5, variant="3x2")
    np.testing.assert_array_equal(s.kinds, shapeset._CLASS_KINDS["3x2"][s.y])
    assert np.all((s.kinds[:, 1] >= 0) == (s.y >= 3))
    assert np.all(s.masks[s.y < 3, 1].sum(axis=1) == 0)


def test_rectangle_fit_fallback_shrinks(monkeypatch):
    # With no redraws allowed, too-large rectangles are shrunk to fit the image.
    monkeypatch.setattr(shapeset, "_FIT_ROUNDS", 0)
    shapes = shapeset._random_shapes(np.random.default_rng(0), np.ones(2000, dtype=np.int64))
    assert shapeset._extent(shapes).max() <= 32 + 1e-9


# --------------------------------------------------------------- Shapeset-3x2


def test_3x2_balanced_overlap_and_inside():
    s = scene(1800, seed=6, variant="3x2")
    assert np.bincount(s.y, minlength=9).tolist() == [200] * 9
    two = s.kinds[:, 1] >= 0
    assert two.sum() == 1200
    m = s.masks[two]
    overlap = np.count_nonzero(m[:, 0] & m[:, 1], axis=1)
    smaller = np.count_nonzero(m, axis=2).min(axis=1)
    assert smaller.min() > 0
    assert np.all(2 * overlap <= smaller)
    v = s.vertices[two]
    assert np.all((v >= 0) & (v <= 32))
    for img in shapeset._images(s):  # shared foreground grey: two levels
        assert len(np.unique(img)) == 2


def test_3x2_last_resort_puts_shapes_side_by_side(monkeypatch):
    # No redraws allowed: every over-lapping pair goes through the fallback.
    monkeypatch.setattr(shapeset, "_POSITION_ROUNDS", 0)
    monkeypatch.setattr(shapeset, "_PAIR_ROUNDS", 0)
    s = scene(900, seed=9, variant="3x2")
    two = s.kinds[:, 1] >= 0
    m = s.masks[two]
    overlap = np.count_nonzero(m[:, 0] & m[:, 1], axis=1)
    smaller = np.count_nonzero(m, axis=2).min(axis=1)
    assert smaller.min() > 0 and np.all(2 * overlap <= smaller)
    # Some pairs did need it, and those sit in separate halves.
    v = s.vertices[two]
    split = (v[:, 0, :, 0].max(axis=1) <= 16) & (v[:, 1, :, 0].min(axis=1) >= 16)
    assert split.sum() > 10
    assert np.all(overlap[split] == 0)


# ------------------------------------------------------------------- splits


def test_load_splits():
    splits = shapeset.load(seed=0, n_train=30, n_valid=20, n_test=10)
    assert isinstance(splits, Splits)
    assert splits.name == "shapeset" and splits.num_classes == 3
    assert splits.input_shape == (32, 32) and splits.source == "generated(seed=0)"
    assert [len(p[1]) for p in (splits.train, splits.valid, splits.test)] == [30, 20, 10]
    s2 = shapeset.load(seed=1, n_train=9, n_valid=9, n_test=9, variant="3x2", data_dir="/nowhere")
    assert s2.name == "shapeset3x2" and s2.num_classes == 9


def test_split_streams_independent():
    a = shapeset.load(seed=0, n_train=40, n_valid=40, n_test=5)
    b = shapeset.load(seed=0, n_train=40, n_valid=40, n_test=50)
    for split in ("train", "valid"):  # n_test changed: train and valid did not
        assert getattr(a, split)[0].tobytes() == getattr(b, split)[0].tobytes()
        np.testing.assert_array_equal(getattr(a, split)[1], getattr(b, split)[1])
    d = shapeset.load(seed=0, n_train=7, n_valid=40, n_test=5)  # nor does n_train
    assert a.valid[0].tobytes() == d.valid[0].tobytes()
    # The streams differ from each other and from generate(seed).
    assert a.train[0].tobytes() != a.valid[0].tobytes()
    assert a.train[0].tobytes() != shapeset.generate(40, seed=0)[0].tobytes()
    c = shapeset.load(seed=1, n_train=40, n_valid=1, n_test=1)
    assert a.train[0].tobytes() != c.train[0].tobytes()


# ---------------------------------------------------------------- save_grid


@pytest.mark.parametrize("variant", ["3", "3x2"])
def test_save_grid_writes_png(tmp_path, variant):
    x, y = shapeset.generate(10, seed=0, variant=variant)
    path = tmp_path / "sub" / "grid.png"
    out = shapeset.save_grid(x, y, path, n=8, cols=3)
    assert out == path
    data = path.read_bytes()
    assert len(data) > 0 and data.startswith(PNG_SIGNATURE)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temp files left


def test_save_grid_rejects_mismatch(tmp_path):
    x, y = shapeset.generate(4)
    with pytest.raises(ConfigError, match="4 images but 3 labels"):
        shapeset.save_grid(x, y[:3], tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n": -1}, ["n", "-1", "non-negative integer"]),
        ({"n": 2.5}, ["n", "2.5", "non-negative integer"]),
        ({"n": True}, ["n", "True"]),
        ({"n": 5, "seed": 1.5}, ["seed", "1.5", "non-negative integer"]),
        ({"n": 5, "seed": "0"}, ["seed", "'0'"]),
        ({"n": 5, "seed": -3}, ["seed", "-3"]),
        ({"n": 5, "variant": "4"}, ["'4'", "'3'", "'3x2'"]),
        ({"n": 5, "variant": 3}, ["3", "'3x2'"]),
    ],
)
def test_generate_bad_input(kwargs, words):
    with pytest.raises(ConfigError) as info:
        shapeset.generate(**kwargs)
    for word in words:
        assert word in str(info.value)
    assert isinstance(info.value, ValueError)


def test_load_bad_input_names_argument():
    with pytest.raises(ConfigError, match="n_test must be a non-negative integer, got -1"):
        shapeset.load(n_test=-1)
    with pytest.raises(ConfigError, match="unknown Shapeset variant '3x3'"):
        shapeset.load(variant="3x3")


# ------------------------------------------------------------ learnability


def polarity_normalised(x):
    """Binary shape masks: 1 where a pixel differs from the background grey.

    The background is the majority grey of the image border (a shape never covers
    half of it), so this uses no label.  A tiny MLP cannot learn the random
    foreground/background swap from a few thousand raw images (it stays near 50%).
    """
    img = x.reshape(-1, 32, 32)
    ring = np.concatenate([img[:, 0], img[:, -1], img[:, 1:-1, 0], img[:, 1:-1, -1]], axis=1)
    background = np.median(ring, axis=1)  # the majority value of 124 pixels
    return (x != background[:, None]).astype(np.float32)


def test_tiny_mlp_tells_shapes_apart():
    keras = pytest.importorskip("keras")
    splits = shapeset.load(seed=0, n_train=15000, n_valid=0, n_test=1000)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((1024,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = splits.train
    model.fit(polarity_normalised(x), y, epochs=10, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(polarity_normalised(splits.test[0]), splits.test[1], verbose=0)
    print(f"tiny MLP test accuracy: {accuracy:.3f} (chance 0.333)")
    assert accuracy >= 0.6

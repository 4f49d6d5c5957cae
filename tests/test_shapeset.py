"""Tests of the Shapeset generator (rectifier_zoo/datasets/shapeset.py and its shapeset_* modules)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectifier_zoo.datasets import shapeset, shapeset_geometry, shapeset_scenes
from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def scene(n, seed=0, variant="3"):
    """The generator's internals for ``generate(n, seed, variant)``."""
    return shapeset_scenes.draw(n, np.random.default_rng(seed), variant)


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
        np.testing.assert_array_equal(x, shapeset_scenes.images(s))
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
    x = shapeset_scenes.images(s)
    for img in x:
        assert len(np.unique(img)) == 2
    fg, bg = s.foreground, s.background
    # As the original: whole 1/255 steps, light 140..255 (int(0.55 * 255)), dark 0..114 (int(0.45 * 255)).
    steps = np.rint(np.stack([fg, bg]).astype(np.float64) * 255)
    np.testing.assert_allclose(np.stack([fg, bg]), (steps / 255).astype(np.float32))
    light, dark = np.maximum(fg, bg) * 255, np.minimum(fg, bg) * 255
    assert np.rint(light).min() == 140 and np.rint(light).max() == 255
    assert np.rint(dark).min() == 0 and np.rint(dark).max() == 114
    # The shape carries the foreground level, the rest the background level.
    mask = s.masks.any(axis=1)
    assert np.all(np.where(mask, x == fg[:, None], x == bg[:, None]))
    # Swapped (dark shape on a light background) about half of the time.
    swapped = np.mean(fg < bg)
    assert 0.43 < swapped < 0.57
    np.testing.assert_array_equal(s.swapped, fg < bg)


# ------------------------------------------------------------------ geometry


def test_shapes_inside_and_rasterised():
    s = scene(1500, seed=3)
    # One pixel off the border, as the original keeps them.
    assert np.all((s.vertices[:, 0] >= 1) & (s.vertices[:, 0] <= 31))
    assert np.all(np.isnan(s.vertices[:, 1]))  # one shape per image
    pixels = s.masks[:, 0].sum(axis=1)
    assert pixels.min() > 0
    frame = s.masks[:, 0].reshape(-1, 32, 32)
    assert not frame[:, [0, -1], :].any() and not frame[:, :, [0, -1]].any()
    # The half-plane test counts about the polygon's area (shoelace) in pixels.
    sides = np.array(shapeset_geometry.SIDES)[s.kinds[:, 0]]
    areas = np.array([polygon_area(v, k) for v, k in zip(s.vertices[:, 0], sides)])
    assert areas.min() > 0  # counter-clockwise, as the inside test needs
    assert np.mean(np.abs(pixels - areas) / areas) < 0.03
    # Every shape is inscribed in an ellipse of axes in [0.2, 0.8] x 32: areas within the triangle's
    # smallest (3 sqrt(3) / 16 of the axes' product) and the circle's largest.
    assert areas.min() >= 3 * np.sqrt(3) / 16 * 6.4**2 - 1 and areas.max() <= np.pi / 4 * 25.6**2
    assert shapeset_geometry.extent(s.vertices[:, 0]).max() <= 0.8 * 32 + 0.01


def side(v, i, j):
    return np.linalg.norm(v[:, i] - v[:, j], axis=1)


def test_sizes_and_the_base_as_in_the_original():
    """Scale factors in [0.2, 0.8] x 32 per axis, the larger one on the horizontal base edge."""
    s = scene(3000, seed=11)
    v = s.vertices[:, 0]
    tri, rect = s.kinds[:, 0] == 0, s.kinds[:, 0] == 1
    # Rectangle: a square of side 1/sqrt(2) (inscribed in the unit-diameter circle), base edge 3 -> 0.
    base, height = side(v[rect], 3, 0) * np.sqrt(2), side(v[rect], 0, 1) * np.sqrt(2)
    # Triangle: the inscribed equilateral triangle, base edge 2 -> 0 (width sqrt(3)/2), apex 1 (height 3/4).
    t = v[tri]
    tri_base = side(t, 2, 0)
    (ax, ay), (bx, by) = (t[:, 0] - t[:, 2]).T, (t[:, 1] - t[:, 2]).T
    cross = np.abs(ax * by - ay * bx)  # twice the triangle's area
    tri_scales = np.stack([tri_base / (np.sqrt(3) / 2), cross / tri_base / 0.75], axis=1)
    tol = 0.02  # vertices are rounded to 1/256 pixel
    for scales in (np.stack([base, height], axis=1), tri_scales):
        assert scales.min() >= 6.4 - tol and scales.max() <= 25.6 + tol
        assert np.all(scales[:, 0] >= scales[:, 1] - tol)  # the larger factor on the base
        assert np.mean(scales[:, 0] > scales[:, 1] + 1) > 0.5  # and the two do differ
    # Base factor: the larger of two uniforms on [6.4, 25.6], so its mean is 2/3 of the way up.
    assert abs(base.mean() - (6.4 + 2 / 3 * 19.2)) < 0.5


def test_rotation_in_255_steps():
    s = scene(3000, seed=12)
    v = s.vertices[s.kinds[:, 0] == 1, 0]
    edge = v[:, 3] - v[:, 0]  # the base edge, along +x before the rotation
    long = np.linalg.norm(edge, axis=1) > 8  # long edges: rounding moves the angle by < 0.002 rad
    turns = np.arctan2(edge[long, 1], edge[long, 0]) % (2 * np.pi) / (2 * np.pi) * 255
    steps = np.rint(turns) % 255
    assert np.abs(turns - np.rint(turns)).max() < 0.1
    assert steps.max() <= 253 and len(np.unique(steps)) > 200  # steps 0..253, as the original draws them


def test_shape_kinds_follow_labels():
    s = scene(90, seed=5, variant="3x2")
    np.testing.assert_array_equal(s.kinds, shapeset_scenes.CLASS_KINDS["3x2"][s.y])
    assert np.all((s.kinds[:, 1] >= 0) == (s.y >= 3))
    assert np.all(s.masks[s.y < 3, 1].sum(axis=1) == 0)


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
    assert np.all((v >= 1) & (v <= 31))
    for img in shapeset_scenes.images(s):  # shared foreground grey: two levels
        assert len(np.unique(img)) == 2


def test_3x2_last_resort_puts_shapes_side_by_side(monkeypatch):
    # No redraws allowed: every over-lapping pair goes through the fallback.
    monkeypatch.setattr(shapeset_scenes, "_POSITION_ROUNDS", 0)
    monkeypatch.setattr(shapeset_scenes, "_PAIR_ROUNDS", 0)
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
    assert np.all((v >= 1) & (v <= 31))  # the halves keep the border margin too


# ------------------------------------------------------------------- splits


def test_load_splits():
    splits = shapeset.load(seed=0, n_train=30, n_valid=20, n_test=10)
    assert isinstance(splits, Splits)
    assert splits.name == "shapeset" and splits.num_classes == 3
    assert splits.input_shape == (32, 32) and splits.source == "generated(seed=0, generator=2)"
    assert [len(p[1]) for p in (splits.train, splits.valid, splits.test)] == [30, 20, 10]
    s2 = shapeset.load(seed=1, n_train=9, n_valid=9, n_test=9, variant="3x2")
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


# ---------------------------------------------------------------- variants


def test_swap_off_puts_the_light_grey_on_the_shape_and_changes_nothing_else():
    x, y = shapeset.generate(600, seed=13)
    x_plain, y_plain = shapeset.generate(600, seed=13, swap=False)
    s = scene(600, seed=13)
    np.testing.assert_array_equal(y, y_plain)
    mask = s.masks.any(axis=1)
    # Every image: the shape in the light range, the background in the dark one.
    assert np.all(np.where(mask, x_plain >= 140 / 255 - 1e-6, x_plain <= 114 / 255 + 1e-6))
    # Images the faithful set did not swap are the same bytes; the swapped ones have their two greys exchanged.
    kept = ~s.swapped
    assert 0.4 < kept.mean() < 0.6
    assert x[kept].tobytes() == x_plain[kept].tobytes()
    fg, bg = s.foreground[s.swapped], s.background[s.swapped]
    np.testing.assert_array_equal(x_plain[s.swapped], np.where(mask[s.swapped], bg[:, None], fg[:, None]))


def test_antialiased_edges_have_intermediate_greys_and_the_same_shapes():
    x, y = shapeset.generate(300, seed=14)
    x_aa, y_aa = shapeset.generate(300, seed=14, antialias=True)
    s = scene(300, seed=14)
    np.testing.assert_array_equal(y, y_aa)
    fg, bg = s.foreground[:, None].astype(np.float64), s.background[:, None].astype(np.float64)
    cover = (x_aa - bg) / (fg - bg)  # the fraction of the pixel the shape covers
    assert cover.min() >= -1e-5 and cover.max() <= 1 + 1e-5
    np.testing.assert_allclose(cover * 16, np.rint(cover * 16), atol=1e-3)  # 4 x 4 samples per pixel
    edge = (cover > 1e-3) & (cover < 1 - 1e-3)
    assert edge.any(axis=1).all()  # every image has pixels between its two greys
    # Pixels far from an edge keep their grey: where 4x4 coverage is whole, the centre test agrees.
    whole = ~edge
    np.testing.assert_array_equal(x_aa[whole], x[whole])
    # Coverage is the polygon's area far better than a count of centres is.
    sides = np.array(shapeset_geometry.SIDES)[s.kinds[:, 0]]
    areas = np.array([polygon_area(v, k) for v, k in zip(s.vertices[:, 0], sides)])
    assert np.mean(np.abs(cover.sum(axis=1) - areas) / areas) < 0.01
    assert (x_aa >= 0).all() and (x_aa <= 1).all()


def test_signed_pixels_are_2x_minus_1():
    x, y = shapeset.generate(50, seed=15, variant="3x2")
    xs, ys = shapeset.generate(50, seed=15, variant="3x2", signed=True)
    np.testing.assert_array_equal(y, ys)
    np.testing.assert_allclose(xs, 2 * x - 1, atol=1e-6)
    assert xs.min() >= -1 and xs.max() <= 1 and xs.min() < -0.5


@pytest.mark.parametrize("options", shapeset.STUDIED)
def test_each_studied_variant_is_deterministic_and_keeps_the_labels(options):
    a = shapeset.generate(120, seed=16, **options)
    b = shapeset.generate(120, seed=16, **options)
    assert a[0].tobytes() == b[0].tobytes()
    np.testing.assert_array_equal(a[1], shapeset.generate(120, seed=16)[1])


def test_3x2_antialiasing_covers_the_union_of_both_shapes():
    s = scene(90, seed=17, variant="3x2")
    x_aa = shapeset_scenes.images(s, antialias=True)
    fg, bg = s.foreground[:, None].astype(np.float64), s.background[:, None].astype(np.float64)
    cover = (x_aa - bg) / (fg - bg)
    union = s.masks.any(axis=1)
    inside = cover > 0.999
    # A fully covered pixel has its centre in a shape; an empty one has not.
    assert np.all(union[inside]) and not np.any(union[cover < 1e-3])


def test_options_are_checked_and_defaults_dropped():
    assert shapeset.check_options({"swap": True, "antialias": False, "signed": False}) == {}
    assert shapeset.check_options({"antialias": True, "swap": False}) == {"swap": False, "antialias": True}
    assert shapeset.options_text({}) == "faithful"
    assert shapeset.options_text({"swap": False, "antialias": True}) == "no foreground/background swap, anti-aliased"
    with pytest.raises(ConfigError, match=r"unknown Shapeset option\(s\) 'antialis'; allowed: swap \(default True\)"):
        shapeset.generate(5, antialis=True)
    with pytest.raises(ConfigError, match="option swap must be True or False, got 'false'"):
        shapeset.load(swap="false")
    with pytest.raises(ConfigError, match="unknown Shapeset option"):
        shapeset.load(data_dir="/nowhere")  # nothing is read from disk: no such option


def test_load_records_the_generator_and_options_in_its_source():
    faithful = shapeset.load(seed=2, n_train=30, n_valid=10, n_test=10)
    plain = shapeset.load(seed=2, n_train=30, n_valid=10, n_test=10, swap=False, antialias=False)
    assert plain.source == "generated(seed=2, generator=2, swap=False)"
    assert faithful.source == "generated(seed=2, generator=2)"
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(faithful, split)[1], getattr(plain, split)[1])


def test_datasets_load_passes_the_options_and_check_options_names_the_fix():
    from rectifier_zoo import datasets

    splits = datasets.load("shapeset", seed=0, n_train=20, n_valid=5, n_test=5, antialias=True)
    assert splits.source == "generated(seed=0, generator=2, antialias=True)"
    assert datasets.check_options("shapeset", {"swap": False, "signed": False}) == {"swap": False}
    assert datasets.check_options("shapeset", None) == {}
    with pytest.raises(ConfigError, match="seed cannot be a dataset option: the trainer sets it"):
        datasets.check_options("shapeset", {"seed": 3})
    with pytest.raises(ConfigError, match="dataset 'mnist' has no option swap; its options: none"):
        datasets.check_options("mnist", {"swap": False})
    assert datasets.check_options("sentiment", {"vocab_size": 5000, "domains": ("books",)}) == {"domains": ("books",)}


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


def test_the_public_module_keeps_its_names():
    # Other modules, the README and reports use these from rectifier_zoo.datasets.shapeset.
    for name in ("SIZE", "VARIANTS", "NAMES", "GENERATOR", "OPTIONS", "OPTION_WORDS", "STUDIED", "CLASS_NAMES",
                 "MAX_COUNT", "check_options", "options_text", "generate", "load", "save_grid"):
        assert hasattr(shapeset, name), name
    assert shapeset.SIZE == 32 and set(shapeset.CLASS_NAMES) == set(shapeset.VARIANTS)

"""Shapeset: 32x32 grey images of triangles, rectangles and ellipses, generated.

The original Shapeset files (Bengio et al. 2009, used by Glorot, Bordes & Bengio
2011) are no longer online, so the zoo draws its own copy, deterministically from a
seed, following the original generator (``paper/PROTOCOL.md``, "Shapeset", and the
facts it records from glorotxa/Shapeset's ``polygongen.py``, ``buildfeaturespolygon.py``
and ``simpleexemple.py``).  The default is the faithful copy; the options
``swap``, ``antialias`` and ``signed`` make variants that measure what makes the
task hard (they are never the default, and runs on them record them).

Audit of the default generator (``GENERATOR = 2``) against the original:

==============  ==========================================  ==========================================
item            the original                                we do
==============  ==========================================  ==========================================
shapes          ``poly_type`` 1: each kind a regular        the same (0 triangle, 1 rectangle, 2
                polygon inscribed in a circle of diameter   ellipse).  Generator 1 used a triangle of
                1 with a horizontal base edge (3, 4, 20     base 1 and height 1 and a square of side
                vertices), scaled per axis: isosceles       1, so its rectangles had twice the area
                triangle, rectangle, ellipse (20-gon)       of the original's at the same scale
size            each axis uniform in [0.2, 0.8] x 32, the   the same.  Generator 1 did not order the
                larger factor on the horizontal base        two factors: its triangles could be tall
rotation        uniform over a turn in 255 steps (the       the same: ``k * 2 pi / 255``, k in
                example's resolution; its ``randint``       0..253.  Generator 1: continuous
                never draws the last step)
position        uniform, the whole shape one pixel off      the same: inside [1, 31] on both axes.
                the border                                  Generator 1: inside [0, 32], and a
                                                            rectangle too big for it was redrawn
grey levels     integers /255: foreground 140..255,         the same.  Generator 1: continuous
                background 0..114 (``int(0.55 * 255)``,     levels in [0.55, 1] and [0, 0.45]
                ``int(0.45 * 255)``), swapped with
                probability 0.5 (``inv_chance``)
drawing         pygame's filled polygon, no anti-aliasing   no anti-aliasing: a pixel is foreground
                (pygame's own fill rule)                    iff its centre is inside (exact integer
                                                            test); edges can differ from pygame's by
                                                            about a pixel
classes         each shape's kind drawn uniformly (labels   exactly ``n // 3`` of each (the
                i.i.d.)                                     remainder to the first), shuffled
pixel range     [0, 1]; its example sets ``neg``: [-1, 1]   [0, 1]; ``signed=True`` gives [-1, 1]
layout          pygame's arrays are indexed [x, y]: the     row-major: a fixed permutation of the
                flat image is column-major                  pixels, which an MLP does not see
==============  ==========================================  ==========================================

Left as they are: the original example's ``poly_type`` 2 (any triangle,
parallelogram), since the paper's words ("triangles, rectangles and ellipses") fit
type 1; and the Shapeset-3x2 differences listed below.  The default output changed
from generator 1 to 2 with the audit; results record ``shapeset_generator`` so a
report never mixes the two.

Variants (options of ``generate`` and ``load``, and of ``rz.datasets.load("shapeset",
...)``; each changes only what it names, from the same random numbers, so the same
seed gives the same shapes, positions, grey levels and labels):

- ``swap=False``: no foreground/background swap, the shape always the lighter grey
  (in [140, 255] / 255) on the darker background (in [0, 114] / 255);
- ``antialias=True``: each pixel's grey is the background's and foreground's mixed
  by the fraction of the pixel the shape covers (4 x 4 samples per pixel), so edge
  pixels have intermediate grey values;
- ``signed=True``: pixels in [-1, 1] (``2x - 1``), as the original example's ``neg``.

Variant ``"3x2"`` (Shapeset-3x2) has one or two shapes per image and 9 classes:

    =====  ===========================  ======
    class  shapes                       count
    =====  ===========================  ======
    0      triangle                     1
    1      rectangle                    1
    2      ellipse                      1
    3      triangle + triangle          2
    4      rectangle + rectangle        2
    5      ellipse + ellipse            2
    6      triangle + rectangle         2
    7      triangle + ellipse           2
    8      rectangle + ellipse          2
    =====  ===========================  ======

Both shapes of an image share its foreground grey level (the image has two grey
values, like the one-shape set; the original gave each shape its own), and they
overlap by at most half of the smaller one, counted in pixels (the original
estimated the overlap from projections, drew the number and kinds of shapes at
random, so its 9 classes were not balanced, and gave up on a shape after too many
rejections).  Where they overlap more, the second shape gets a new position (up to
``_POSITION_ROUNDS`` times), then the whole pair is redrawn (up to ``_PAIR_ROUNDS``
more times); a pair that still fails (never seen in practice) is shrunk to fit the
left and right halves of the image, one shape in each, which cannot overlap.

Vertices are rounded to 1/256 pixel and the inside test uses exact integer
arithmetic, so an image depends only on the random numbers, not on the rounding of
a particular CPU: the same seed gives the same bytes on every machine (up to a
vertex's sine/cosine differing in its last bit right at a 1/512-pixel boundary).

Example:

>>> x, y = generate(36, seed=0)                  # the faithful set
>>> x_plain, y_plain = generate(36, seed=0, swap=False)
>>> bool((y == y_plain).all())                   # same shapes, no swap
True
"""

from __future__ import annotations

import math
import numbers
import pathlib
from typing import NamedTuple

import numpy as np

from rectifier_zoo.datasets.splits import Splits
from rectifier_zoo.errors import ConfigError

SIZE = 32  # image side, pixels
VARIANTS = ("3", "3x2")
NAMES = {"3": "shapeset", "3x2": "shapeset3x2"}
# The default output's version: bumped whenever the same seed would give other images.
# 1: before the audit above (the shipped shapeset model and the first Table 1 runs).
GENERATOR = 2

# The data options and their defaults (the faithful copy).
OPTIONS = {"swap": True, "antialias": False, "signed": False}
# Each option set away from the default, in words (reports and grids use these).
OPTION_WORDS = {"swap": "no foreground/background swap", "antialias": "anti-aliased", "signed": "pixels in [-1, 1]"}
# The variants the reproduction measures, in the order its report shows them.
STUDIED = (
    {},
    {"swap": False},
    {"antialias": True},
    {"swap": False, "antialias": True},
    {"signed": True},
)

_SHAPES = ("triangle", "rectangle", "ellipse")
# Shape kinds of each class, per variant; -1 marks "no second shape".
_CLASS_KINDS = {
    "3": np.array([[0, -1], [1, -1], [2, -1]], dtype=np.int64),
    "3x2": np.array(
        [[0, -1], [1, -1], [2, -1], [0, 0], [1, 1], [2, 2], [0, 1], [0, 2], [1, 2]],
        dtype=np.int64,
    ),
}
CLASS_NAMES = {
    variant: tuple(
        "+".join(_SHAPES[k] for k in kinds if k >= 0) for kinds in table
    )
    for variant, table in _CLASS_KINDS.items()
}

_SCALE = (0.2, 0.8)  # fraction of SIZE, per axis
_MARGIN = 1.0  # pixels kept free on every side, as in the original
# Grey levels in 1/255 steps, inclusive: int(0.55 * 255) .. 255 and 0 .. int(0.45 * 255).
_GREY_STEPS = 255
_LIGHT = (140, 255)
_DARK = (0, 114)
_SWAP_CHANCE = 0.5
_ROTATION_STEPS = 255  # the original example's rotation_resolution
_SIDES = (3, 4, 20)  # triangle, rectangle, ellipse (a 20-gon, as in the original)
_MAX_VERTICES = max(_SIDES)
_QUANTUM = 256  # vertices are rounded to 1/_QUANTUM pixel
_POSITION_ROUNDS = 5  # redraws of the second shape's position (3x2)
_PAIR_ROUNDS = 50  # then redraws of the whole pair: each succeeds about half the time
_CHUNK = 2000  # images rasterised at once: bounds memory to a few MB
_SUPERSAMPLE = 4  # anti-aliasing: 4 x 4 samples per pixel
_AA_CHUNK = 500  # images anti-aliased at once (128 x 128 samples each): about 40 MB


def _regular(sides: int) -> np.ndarray:
    """A regular polygon inscribed in the circle of diameter 1, one edge horizontal.

    The original's ``n_sided``: vertex ``t`` at ``t / n + 1 / (2n) + 1 / 4`` of a turn,
    so the edge between the last and first vertices is horizontal (the base).

    Returns:
        float64 ``(sides, 2)``, counter-clockwise (increasing angle).
    """
    turns = np.arange(sides) / sides + 1 / (2 * sides) + 1 / 4
    return 0.5 * np.stack([np.cos(2 * np.pi * turns), np.sin(2 * np.pi * turns)], axis=1)


def _templates() -> np.ndarray:
    """Unit shapes centred on the origin, padded to 20 vertices: float64 ``(3, 20, 2)``.

    Padding repeats the last vertex: the extra edges are degenerate, so every shape
    can live in one ``(..., 20, 2)`` array; the rasteriser reads only the real ones.
    """
    out = np.empty((len(_SIDES), _MAX_VERTICES, 2))
    for kind, sides in enumerate(_SIDES):
        out[kind, :sides] = _regular(sides)
        out[kind, sides:] = out[kind, sides - 1]
    return out


_TEMPLATES = _templates()


# --------------------------------------------------------------------- checks


def _check_variant(variant) -> str:
    """Return ``variant`` if it is one we generate, else raise ``ConfigError``."""
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ConfigError(
            f"unknown Shapeset variant {variant!r}; allowed: "
            + ", ".join(repr(v) for v in VARIANTS)
        )
    return variant


MAX_COUNT = 10_000_000  # 40 GB of float32 images: far beyond any run of the paper's


def _check_count(name: str, n) -> int:
    """Return ``n`` as an int if it is a non-negative integer, else raise ``ConfigError``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {n!r}")
    if n > MAX_COUNT:  # fail now, not with a MemoryError deep inside numpy
        raise ConfigError(f"{name} must be at most {MAX_COUNT:,} (4 KiB of features each), got {n!r}")
    return int(n)


def _check_seed(seed) -> int:
    """Return ``seed`` as an int if it is a non-negative integer, else raise ``ConfigError``."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_options(options) -> dict:
    """The data options of ``options`` that differ from the faithful default, checked.

    Args:
        options: a mapping of option names (``swap``, ``antialias``, ``signed``) to
            ``True`` / ``False``.

    Returns:
        A new dict of the options whose value is not the default, in ``OPTIONS``
        order: ``{}`` is the faithful copy, however it was spelled.

    Raises:
        ConfigError: an unknown option or a value that is not a bool.

    Example:

    >>> check_options({"swap": False, "antialias": False})
    {'swap': False}
    """
    if not hasattr(options, "items"):
        raise ConfigError(f"Shapeset options must be a dict such as {{'swap': False}}, got {options!r}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown Shapeset option(s) {', '.join(map(repr, unknown))}; allowed: "
            + ", ".join(f"{k} (default {v})" for k, v in OPTIONS.items())
        )
    for key, value in options.items():
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"Shapeset option {key} must be True or False, got {value!r}")
    return {key: bool(options[key]) for key in OPTIONS if key in options and bool(options[key]) != OPTIONS[key]}


def options_text(options) -> str:
    """``options`` in words: ``"faithful"``, or e.g. ``"no foreground/background swap, anti-aliased"``."""
    changed = check_options(options)
    return ", ".join(OPTION_WORDS[key] for key in changed) or "faithful"


# ------------------------------------------------------------------- geometry


def _scaled_rotated(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Templates of ``kinds``, scaled per axis in [0.2, 0.8] x 32 (the larger on the base), rotated.

    The circle each template is inscribed in becomes an ellipse of at most
    0.8 x 32 pixels across, so every shape fits inside the image's margin.

    Args:
        rng: the random stream (consumed in a fixed order: deterministic).
        kinds: int ``(m,)`` shape kinds (0 triangle, 1 rectangle, 2 ellipse).

    Returns:
        float64 ``(m, 20, 2)`` vertices in pixels centred on the origin, (x, y) = (column, row).
    """
    m = len(kinds)
    # The original swaps the two factors so the horizontal base gets the larger one.
    scale = np.sort(rng.uniform(*_SCALE, size=(m, 2)), axis=1)[:, ::-1] * SIZE
    # Step 0 .. 253 of 255: the original's randint(0, 254) never draws the last one.
    theta = rng.integers(0, _ROTATION_STEPS - 1, size=m) * (2 * np.pi / _ROTATION_STEPS)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    v = _TEMPLATES[kinds] * scale[:, None, :]
    # Rotation keeps the counter-clockwise order the inside test relies on.
    return np.stack([cos * v[..., 0] - sin * v[..., 1], sin * v[..., 0] + cos * v[..., 1]], axis=-1)


def _extent(vertices: np.ndarray) -> np.ndarray:
    """Width and height ``(m, 2)`` of each shape's axis-aligned bounding box."""
    return vertices.max(axis=1) - vertices.min(axis=1)


_FULL_WIDTH = (_MARGIN, SIZE - _MARGIN)


def _place(rng: np.random.Generator, centred: np.ndarray, x_range=_FULL_WIDTH) -> np.ndarray:
    """Translate shapes uniformly among the positions that keep them inside the box.

    Args:
        rng: the random stream.
        centred: float ``(m, 20, 2)`` shapes, each no larger than the box.
        x_range: the box's columns (the fallback of variant 3x2 uses half images);
            rows are always ``[1, 31]``, one pixel off the border as in the original.

    Returns:
        int32 ``(m, 20, 2)`` vertices in units of 1/256 pixel, inside the box.
    """
    lo, hi = centred.min(axis=1), centred.max(axis=1)
    box_lo = np.array([x_range[0], _MARGIN])
    box_hi = np.array([x_range[1], SIZE - _MARGIN])
    shift = rng.uniform(box_lo - lo, np.maximum(box_hi - hi, box_lo - lo))
    placed = np.rint((centred + shift[:, None, :]) * _QUANTUM)
    # Rounding may step 1/512 pixel outside the box; clip it back in.
    return np.clip(placed, box_lo * _QUANTUM, box_hi * _QUANTUM).astype(np.int32)


def _rasterise(quantised: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Which pixel centres lie inside each (convex, counter-clockwise) polygon.

    A centre is inside iff it is on the left of (or on) every edge; the test is an
    exact integer cross product, so no rounding can flip a pixel.

    Args:
        quantised: int32 ``(m, 20, 2)`` vertices in 1/256 pixel.
        kinds: int ``(m,)`` shape kinds (they say how many vertices are real).

    Returns:
        bool ``(m, 1024)`` masks, row-major.
    """
    masks = np.zeros((len(kinds), SIZE * SIZE), dtype=bool)
    for kind, sides in enumerate(_SIDES):
        index = np.flatnonzero(kinds == kind)
        for start in range(0, index.size, _CHUNK):
            part = index[start:start + _CHUNK]
            masks[part] = _inside(quantised[part, :sides], _CENTRES).reshape(len(part), -1)
    return masks


def _sample_points(per_pixel: int) -> np.ndarray:
    """Sample coordinates along one axis in 1/256 pixel: ``per_pixel`` evenly inside each pixel.

    ``per_pixel`` = 1 gives the pixel centres ``j + 1/2``; all are exact integers.
    """
    offsets = (2 * np.arange(per_pixel) + 1) * (_QUANTUM // (2 * per_pixel))
    return (np.arange(SIZE)[:, None] * _QUANTUM + offsets[None, :]).reshape(-1).astype(np.int32)


_CENTRES = _sample_points(1)
_SUBSAMPLES = _sample_points(_SUPERSAMPLE)


def _inside(vertices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Half-plane tests of a grid of sample points against every edge.

    Args:
        vertices: int32 ``(m, k, 2)`` polygon vertices, all real (no padding).
        points: int32 ``(p,)`` sample coordinates (1/256 pixel), the same on both axes.

    Returns:
        bool ``(m, p, p)``, indexed [row, column].
    """
    # Magnitudes stay below 2**28 (coordinates <= 2**13), so int32 is exact.
    a = vertices
    b = np.roll(vertices, -1, axis=1)
    dx = b[..., 0] - a[..., 0]
    dy = b[..., 1] - a[..., 1]
    const = dy * a[..., 0] - dx * a[..., 1]
    inside = np.ones((len(vertices), len(points), len(points)), dtype=bool)
    for e in range(vertices.shape[1]):
        # cross((b - a), (p - a)) = dx * py - dy * px + const >= 0 on the inner side.
        rows = dx[:, e, None] * points  # (m, p): depends on py only
        cols = const[:, e, None] - dy[:, e, None] * points  # (m, p): px only
        inside &= (rows[:, :, None] + cols[:, None, :]) >= 0
    return inside


# ---------------------------------------------------------------------- scenes


class _Scene(NamedTuple):
    """Everything drawn for a batch of images (tests look inside; users call ``generate``).

    Attributes:
        y: int64 ``(n,)`` labels.
        kinds: int64 ``(n, 2)`` shape kinds per slot, -1 where no second shape.
        vertices: float64 ``(n, 2, 20, 2)`` placed vertices in pixels (NaN if absent).
        quantised: int32 ``(n, 2, 20, 2)`` the same in 1/256 pixel (0 if absent).
        masks: bool ``(n, 2, 1024)`` pixels of each shape (all False if absent).
        light, dark: float64 ``(n,)`` the two grey levels, before any swap.
        swapped: bool ``(n,)`` whether the faithful image swaps them (dark shape).
    """

    y: np.ndarray
    kinds: np.ndarray
    vertices: np.ndarray
    quantised: np.ndarray
    masks: np.ndarray
    light: np.ndarray
    dark: np.ndarray
    swapped: np.ndarray

    def levels(self, swap=True) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``(foreground, background)``, swapped where drawn so unless ``swap`` is False."""
        swapped = self.swapped if swap else np.zeros_like(self.swapped)
        return np.where(swapped, self.dark, self.light), np.where(swapped, self.light, self.dark)

    @property
    def foreground(self) -> np.ndarray:
        """float32 ``(n,)`` the faithful image's shape grey."""
        return self.levels()[0].astype(np.float32)

    @property
    def background(self) -> np.ndarray:
        """float32 ``(n,)`` the faithful image's background grey."""
        return self.levels()[1].astype(np.float32)


def _balanced_labels(rng: np.random.Generator, n: int, num_classes: int) -> np.ndarray:
    """``n // num_classes`` of each class, the remainder to the first ones, shuffled."""
    return rng.permutation(np.arange(n, dtype=np.int64) % num_classes)


def _draw(n: int, rng: np.random.Generator, variant: str) -> _Scene:
    """Draw ``n`` images' labels, shapes and grey levels from ``rng``.

    The options (swap, anti-aliasing, range) only change how a scene is rendered
    (``_images``), never what is drawn: the same seed gives the same scenes.

    Args:
        n: number of images.
        rng: the random stream (consumed in a fixed order).
        variant: ``"3"`` or ``"3x2"``.

    Returns:
        a ``_Scene``.
    """
    y = _balanced_labels(rng, n, len(CLASS_NAMES[variant]))
    kinds = _CLASS_KINDS[variant][y]
    centred = np.full((n, 2, _MAX_VERTICES, 2), np.nan)
    quantised = np.zeros((n, 2, _MAX_VERTICES, 2), dtype=np.int32)
    masks = np.zeros((n, 2, SIZE * SIZE), dtype=bool)
    for slot in (0, 1):
        index = np.flatnonzero(kinds[:, slot] >= 0)
        _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape=True)
    if variant == "3x2":
        _limit_overlap(rng, kinds, centred, quantised, masks)
    light, dark, swapped = _grey_levels(rng, n)
    vertices = np.where(kinds[:, :, None, None] >= 0, quantised / _QUANTUM, np.nan)
    return _Scene(y, kinds, vertices, quantised, masks, light, dark, swapped)


def _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape, x_range=_FULL_WIDTH):
    """Redraw (in place) one slot's shape and/or position for the images ``index``.

    Args:
        rng: the random stream.
        index: int ``(m,)`` images to redraw.
        slot: 0 (first shape) or 1 (second shape).
        kinds, centred, quantised, masks: the scene arrays, updated in place.
        new_shape: draw a new size and rotation, not only a new position.
        x_range: columns the shape must stay within.
    """
    if not index.size:
        return
    k = kinds[index, slot]
    if new_shape:
        centred[index, slot] = _scaled_rotated(rng, k)
    quantised[index, slot] = _place(rng, centred[index, slot], x_range)
    masks[index, slot] = _rasterise(quantised[index, slot], k)


def _too_much_overlap(masks: np.ndarray) -> np.ndarray:
    """Bool ``(m,)``: the two shapes share more than half of the smaller's pixels."""
    overlap = np.count_nonzero(masks[:, 0] & masks[:, 1], axis=1)
    smaller = np.count_nonzero(masks, axis=2).min(axis=1)
    return 2 * overlap > smaller


def _limit_overlap(rng, kinds, centred, quantised, masks) -> None:
    """Redraw two-shape images until their shapes overlap by at most half (in place).

    First the second shape moves (``_POSITION_ROUNDS`` times), then the whole pair
    is redrawn (``_PAIR_ROUNDS`` times); any pair still failing is shrunk into the
    two halves of the image, which cannot overlap.

    Args:
        rng: the random stream.
        kinds, centred, quantised, masks: the scene arrays, updated in place.
    """
    todo = np.flatnonzero(kinds[:, 1] >= 0)
    for round_ in range(_POSITION_ROUNDS + _PAIR_ROUNDS):
        todo = todo[_too_much_overlap(masks[todo])]
        if not todo.size:
            return
        move_only = round_ < _POSITION_ROUNDS
        if not move_only:
            _redraw(rng, todo, 0, kinds, centred, quantised, masks, new_shape=True)
        _redraw(rng, todo, 1, kinds, centred, quantised, masks, new_shape=not move_only)
    todo = todo[_too_much_overlap(masks[todo])]
    if todo.size:
        _split_halves(rng, todo, kinds, centred, quantised, masks)


def _split_halves(rng, index, kinds, centred, quantised, masks) -> None:
    """Last resort: shrink each shape to the width of half the image and put them side by side.

    Args:
        rng: the random stream.
        index: int ``(m,)`` images still overlapping too much.
        kinds, centred, quantised, masks: the scene arrays, updated in place.
    """
    half = SIZE / 2
    for slot, x_range in ((0, (_MARGIN, half)), (1, (half, SIZE - _MARGIN))):
        shapes = centred[index, slot]
        width = _extent(shapes)[:, 0]
        room = half - _MARGIN
        centred[index, slot] = shapes * np.minimum(1.0, room / width)[:, None, None]
        _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape=False, x_range=x_range)


def _grey_levels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Light grey in 140..255 / 255, dark in 0..114 / 255, and which images swap them (1/2).

    Returns:
        float64 ``(light, dark)`` and bool ``swapped``, each ``(n,)``.
    """
    light = rng.integers(_LIGHT[0], _LIGHT[1] + 1, size=n) / _GREY_STEPS
    dark = rng.integers(_DARK[0], _DARK[1] + 1, size=n) / _GREY_STEPS
    swapped = rng.random(n) < _SWAP_CHANCE
    return light, dark, swapped


def _coverage(scene: _Scene) -> np.ndarray:
    """float64 ``(n, 1024)``: the fraction of each pixel's 4 x 4 samples inside a shape."""
    n = len(scene.y)
    side = SIZE * _SUPERSAMPLE
    out = np.empty((n, SIZE * SIZE))
    for start in range(0, n, _AA_CHUNK):
        stop = min(n, start + _AA_CHUNK)
        union = np.zeros((stop - start, side, side), dtype=bool)
        for slot in (0, 1):
            kinds = scene.kinds[start:stop, slot]
            for kind, sides in enumerate(_SIDES):
                part = np.flatnonzero(kinds == kind)
                if part.size:
                    union[part] |= _inside(scene.quantised[start:stop][part, slot, :sides], _SUBSAMPLES)
        blocks = union.reshape(stop - start, SIZE, _SUPERSAMPLE, SIZE, _SUPERSAMPLE)
        out[start:stop] = blocks.mean(axis=(2, 4)).reshape(stop - start, -1)
    return out


def _images(scene: _Scene, swap=True, antialias=False, signed=False) -> np.ndarray:
    """float32 ``(n, 1024)`` images of ``scene``: foreground grey on the union of the shapes.

    Args:
        scene: what was drawn.
        swap, antialias, signed: the data options (see the module docstring).
    """
    foreground, background = scene.levels(swap)
    cover = _coverage(scene) if antialias else scene.masks.any(axis=1).astype(np.float64)
    # In float64, a pixel covered 0 or 1 gets exactly its grey level's float32 value.
    x = background[:, None] * (1.0 - cover) + foreground[:, None] * cover
    if signed:
        x = 2.0 * x - 1.0
    return x.astype(np.float32)


# ------------------------------------------------------------------ public API


def generate(n: int, seed: int = 0, variant: str = "3", **options) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` Shapeset images, deterministically from ``seed``.

    Args:
        n: number of images (>= 0).
        seed: non-negative integer; the same seed gives the same bytes.
        variant: ``"3"`` (one shape, 3 classes) or ``"3x2"`` (1 or 2 shapes, 9 classes).
        **options: data options, never needed for the faithful copy: ``swap``
            (default True), ``antialias`` (False), ``signed`` (False); see the
            module docstring.  The same seed gives the same scenes and labels
            whatever the options.

    Returns:
        ``(x, y)``: x float32 ``(n, 1024)`` in [0, 1] ([-1, 1] with ``signed``),
        32x32 row-major; y int64 ``(n,)``, classes balanced and shuffled.

    Raises:
        ConfigError: bad ``n``, ``seed``, ``variant`` or option.

    Example:

    >>> x, y = generate(1000, seed=0, antialias=True)
    >>> x.shape, sorted(set(y.tolist()))
    ((1000, 1024), [0, 1, 2])
    """
    n = _check_count("n", n)
    seed = _check_seed(seed)
    variant = _check_variant(variant)
    options = check_options(options)
    return _generate(n, np.random.default_rng(seed), variant, options)


def _generate(n: int, rng: np.random.Generator, variant: str, options: dict) -> tuple[np.ndarray, np.ndarray]:
    """``generate`` from an existing random stream (arguments already checked)."""
    scene = _draw(n, rng, variant)
    return _images(scene, **options), scene.y


def load(seed=0, n_train=10000, n_valid=10000, n_test=10000, variant="3", **options) -> Splits:
    """The paper's Shapeset splits (10k / 10k / 10k by default), generated.

    Each split has its own random stream (``SeedSequence(seed).spawn(3)``), so
    changing one split's size leaves the others unchanged.

    Args:
        seed: non-negative integer.
        n_train, n_valid, n_test: split sizes.
        variant: ``"3"`` (name ``"shapeset"``) or ``"3x2"`` (name ``"shapeset3x2"``).
        **options: data options (``swap``, ``antialias``, ``signed``; see
            ``generate``); the faithful copy by default.

    Returns:
        ``Splits`` with ``input_shape`` (32, 32) and ``source``
        ``"generated(seed=..., generator=2)"``, the options that differ from the
        default appended (``"generated(seed=0, generator=2, swap=False)"``).

    Raises:
        ConfigError: bad seed, size, variant or option.

    Example:

    >>> load(seed=0, n_train=100, n_valid=10, n_test=10, swap=False).source
    'generated(seed=0, generator=2, swap=False)'
    """
    seed = _check_seed(seed)
    variant = _check_variant(variant)
    options = check_options(options)
    sizes = {
        name: _check_count(name, value)
        for name, value in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test))
    }
    streams = np.random.SeedSequence(seed).spawn(3)
    train, valid, test = (
        _generate(n, np.random.default_rng(stream), variant, options)
        for n, stream in zip(sizes.values(), streams)
    )
    described = "".join(f", {key}={value}" for key, value in options.items())
    return Splits(
        name=NAMES[variant],
        train=train,
        valid=valid,
        test=test,
        num_classes=len(CLASS_NAMES[variant]),
        input_shape=(SIZE, SIZE),
        source=f"generated(seed={seed}, generator={GENERATOR}{described})",
    )


def save_grid(x, y, path, n=36, cols=6, class_names=None, title=None, value_range=(0.0, 1.0)) -> pathlib.Path:
    """Write a PNG grid of the first ``n`` examples, titled with their class names.

    Args:
        x: ``(m, 1024)`` or ``(m, 32, 32)`` images.
        y: ``(m,)`` integer labels.
        path: the PNG to write (atomically: written beside it, then renamed).
        n: how many examples to show (at most ``m``).
        cols: images per row.
        class_names: names indexed by label; by default Shapeset-3's names when
            every label is below 3, else Shapeset-3x2's.
        title: a line above the grid (e.g. the data options), or None.
        value_range: the grey values drawn black and white (``(-1, 1)`` for
            ``signed`` images).

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ConfigError: mismatched ``x`` and ``y``, or ``n``/``cols`` not positive.

    Example:

    >>> save_grid(*generate(36, swap=False), "grid.png", title="no swap")
    PosixPath('grid.png')
    """
    from rectifier_zoo.atomic import atomic_path

    x = np.asarray(x, dtype=np.float32).reshape(len(x), SIZE, SIZE)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ConfigError(f"save_grid: {len(x)} images but {len(y)} labels")
    if _check_count("n", n) < 1 or _check_count("cols", cols) < 1:
        raise ConfigError(f"save_grid: n and cols must be positive, got n={n!r}, cols={cols!r}")
    if class_names is None:
        class_names = CLASS_NAMES["3" if len(y) == 0 or y.max() < 3 else "3x2"]
    count = min(n, len(x))
    rows = max(1, math.ceil(count / cols))
    fig = _grid_figure(x[:count], [_class_name(class_names, label) for label in y[:count]], rows, cols, title, value_range)
    path = pathlib.Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=_GRID_DPI)
    return path


_GRID_DPI = 80
_GRID_ZOOM = 3  # screen pixels per image pixel
_GRID_BAND, _GRID_GAP = 7, 2  # image pixels: a label band above each tile, a gutter around it


def _class_name(class_names, label) -> str:
    label = int(label)
    return class_names[label] if 0 <= label < len(class_names) else str(label)


def _grid_figure(x, names, rows, cols, title, value_range):
    """A Figure of one mosaic image (one ``imshow``, not one axes per tile: fast), labels above tiles."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tile_w, tile_h = SIZE + _GRID_GAP, SIZE + _GRID_BAND + _GRID_GAP
    mosaic = np.full((rows * tile_h + _GRID_GAP, cols * tile_w + _GRID_GAP), np.nan, dtype=np.float32)
    for i, image in enumerate(x):
        top, left = _GRID_GAP + (i // cols) * tile_h + _GRID_BAND, _GRID_GAP + (i % cols) * tile_w
        mosaic[top:top + SIZE, left:left + SIZE] = image
    height, width = (d * _GRID_ZOOM / _GRID_DPI for d in mosaic.shape)
    head = 0.3 if title else 0.0
    # A Figure with its own Agg canvas: no pyplot global state, safe off the main thread.
    fig = Figure(figsize=(width, height + head))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + head)))
    ax.set_axis_off()
    # NaN (gutters and label bands) drawn pale blue: no grey the data can take, so every tile's edge shows.
    cmap = colormaps["gray"].with_extremes(bad="#cfdcea")
    ax.imshow(mosaic, cmap=cmap, vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
    for i, name in enumerate(names):
        ax.text(_GRID_GAP + (i % cols) * tile_w + SIZE / 2, _GRID_GAP + (i // cols) * tile_h + _GRID_BAND / 2,
                name, ha="center", va="center", fontsize=7)
    if title:
        fig.text(0.5, 1.0 - 0.5 * head / (height + head), title, ha="center", va="center", fontsize=8)
    return fig

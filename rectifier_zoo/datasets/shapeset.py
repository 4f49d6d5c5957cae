"""Shapeset: 32x32 grey images of triangles, rectangles and ellipses, generated.

The original Shapeset files (Bengio et al. 2009, used by Glorot, Bordes & Bengio
2011) are no longer online, so the zoo draws its own copy, deterministically from a
seed, following the generator's description (``paper/PROTOCOL.md``, "Shapeset"):

- one shape per 32x32 image: 0 triangle, 1 rectangle, 2 ellipse (a 20-gon, as in
  the original generator);
- each axis of the shape scaled uniformly in [0.2, 0.8] x 32 pixels, rotation
  uniform over [0, 2 pi), position uniform among those that keep the whole shape
  inside the image;
- foreground grey uniform in [0.55, 1.0], background uniform in [0, 0.45], the two
  swapped with probability 0.5;
- no anti-aliasing: a pixel is foreground iff its centre is inside the polygon.

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
values, like the one-shape set), and they overlap by at most half of the smaller
one, counted in pixels.  Where they overlap more, the second shape gets a new
position (up to ``_POSITION_ROUNDS`` times), then the whole pair is redrawn (up to
``_PAIR_ROUNDS`` more times); a pair that still fails (never seen in practice) is
shrunk to fit the left and right halves of the image, one shape in each, which
cannot overlap.  The redraws favour smaller shapes a little: a shape of a pair
covers 164-174 pixels on average, a lone shape 193.

Choices the description leaves open, and ours:

- The triangle is isosceles in its own frame (base from (-1/2, -1/2) to (1/2, -1/2),
  apex (0, 1/2)), then scaled per axis and rotated: all shapes are convex.
- A scaled and rotated rectangle can be too big for the image (its diagonal reaches
  0.8 x 32 x sqrt(2) > 32).  Its size and rotation are then redrawn (rejection), so
  the very largest rectangles are a little rarer than a uniform draw would make
  them; triangles and ellipses always fit.
- Vertices are rounded to 1/256 pixel and the inside test uses exact integer
  arithmetic, so an image depends only on the random numbers, not on the rounding
  of a particular CPU: the same seed gives the same bytes on every machine (up to
  a vertex's sine/cosine differing in its last bit right at a 1/512-pixel boundary).
- Labels are exactly balanced (``n // num_classes`` each, the remainder to the first
  classes) and shuffled.
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
_FOREGROUND = (0.55, 1.0)
_BACKGROUND = (0.0, 0.45)
_ELLIPSE_SIDES = 20
_MAX_VERTICES = _ELLIPSE_SIDES
_QUANTUM = 256  # vertices are rounded to 1/_QUANTUM pixel
_FIT_ROUNDS = 100  # redraws of a rectangle too big for the image
_POSITION_ROUNDS = 5  # redraws of the second shape's position (3x2)
_PAIR_ROUNDS = 50  # then redraws of the whole pair: each succeeds about half the time
_CHUNK = 2000  # images rasterised at once: bounds memory to a few MB


def _templates() -> tuple[np.ndarray, tuple[int, ...]]:
    """Unit shapes centred on the origin, counter-clockwise, padded to 20 vertices.

    Padding repeats the last vertex: the extra edges are degenerate, so every shape
    can live in one ``(..., 20, 2)`` array; the rasteriser reads only the real ones.

    Returns:
        ``(templates, sides)``: float64 ``(3, 20, 2)`` and the vertex count per kind.
    """
    triangle = [(-0.5, -0.5), (0.5, -0.5), (0.0, 0.5)]
    rectangle = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
    angles = 2 * np.pi * np.arange(_ELLIPSE_SIDES) / _ELLIPSE_SIDES
    ellipse = 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    out = np.empty((3, _MAX_VERTICES, 2))
    sides = []
    for i, verts in enumerate((triangle, rectangle, ellipse)):
        verts = np.asarray(verts, dtype=np.float64)
        out[i, : len(verts)] = verts
        out[i, len(verts):] = verts[-1]
        sides.append(len(verts))
    return out, tuple(sides)


_TEMPLATES, _SIDES = _templates()


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


# ------------------------------------------------------------------- geometry


def _random_shapes(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Scaled and rotated shapes centred on the origin, each small enough for the image.

    Args:
        rng: the random stream (consumed in a fixed order: deterministic).
        kinds: int ``(m,)`` shape kinds (0 triangle, 1 rectangle, 2 ellipse).

    Returns:
        float64 ``(m, 20, 2)`` vertices in pixels, (x, y) = (column, row).
    """
    out = _scaled_rotated(rng, kinds)
    todo = np.arange(len(kinds))
    for round_ in range(_FIT_ROUNDS + 1):
        # Only a rectangle can outgrow the image (2% do); redraw its size and rotation.
        todo = todo[_extent(out[todo]).max(axis=1) > SIZE]
        if not todo.size:
            return out
        if round_ < _FIT_ROUNDS:
            out[todo] = _scaled_rotated(rng, kinds[todo])
    # Fallback, never reached in practice (0.02 ** 100): shrink what is left to fit.
    out[todo] *= (SIZE / _extent(out[todo]).max(axis=1))[:, None, None]
    return out


def _scaled_rotated(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Templates of ``kinds``, each axis scaled in [0.2, 0.8] x 32, then rotated.

    Args:
        rng: the random stream.
        kinds: int ``(m,)`` shape kinds.

    Returns:
        float64 ``(m, 20, 2)`` vertices centred on the origin.
    """
    m = len(kinds)
    scale = rng.uniform(*_SCALE, size=(m, 2)) * SIZE
    theta = rng.uniform(0.0, 2 * np.pi, size=m)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    v = _TEMPLATES[kinds] * scale[:, None, :]
    # Rotation keeps the counter-clockwise order the inside test relies on.
    return np.stack([cos * v[..., 0] - sin * v[..., 1], sin * v[..., 0] + cos * v[..., 1]], axis=-1)


def _extent(vertices: np.ndarray) -> np.ndarray:
    """Width and height ``(m, 2)`` of each shape's axis-aligned bounding box."""
    return vertices.max(axis=1) - vertices.min(axis=1)


def _place(rng: np.random.Generator, centred: np.ndarray, x_range=(0.0, SIZE)) -> np.ndarray:
    """Translate shapes uniformly among the positions that keep them inside the box.

    Args:
        rng: the random stream.
        centred: float ``(m, 20, 2)`` shapes, each no larger than the box.
        x_range: the box's columns (the fallback of variant 3x2 uses half images);
            rows are always ``[0, 32]``.

    Returns:
        int32 ``(m, 20, 2)`` vertices in units of 1/256 pixel, inside the box.
    """
    lo, hi = centred.min(axis=1), centred.max(axis=1)
    box_lo = np.array([x_range[0], 0.0])
    box_hi = np.array([x_range[1], float(SIZE)])
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
            masks[part] = _inside(quantised[part, :sides]).reshape(len(part), -1)
    return masks


# Pixel centres (j + 1/2) in 1/256 pixel: exact integers.
_CENTRES = ((2 * np.arange(SIZE) + 1) * (_QUANTUM // 2)).astype(np.int32)


def _inside(vertices: np.ndarray) -> np.ndarray:
    """Half-plane tests of the 32x32 pixel centres against every edge.

    Args:
        vertices: int32 ``(m, k, 2)`` polygon vertices, all real (no padding).

    Returns:
        bool ``(m, 32, 32)``, indexed [row, column].
    """
    # Magnitudes stay below 2**28 (coordinates <= 2**13), so int32 is exact.
    a = vertices
    b = np.roll(vertices, -1, axis=1)
    dx = b[..., 0] - a[..., 0]
    dy = b[..., 1] - a[..., 1]
    const = dy * a[..., 0] - dx * a[..., 1]
    inside = np.ones((len(vertices), SIZE, SIZE), dtype=bool)
    for e in range(vertices.shape[1]):
        # cross((b - a), (p - a)) = dx * py - dy * px + const >= 0 on the inner side.
        rows = dx[:, e, None] * _CENTRES  # (m, 32): depends on py only
        cols = const[:, e, None] - dy[:, e, None] * _CENTRES  # (m, 32): px only
        inside &= (rows[:, :, None] + cols[:, None, :]) >= 0
    return inside


# ---------------------------------------------------------------------- scenes


class _Scene(NamedTuple):
    """Everything drawn for a batch of images (tests look inside; users call ``generate``).

    Attributes:
        y: int64 ``(n,)`` labels.
        kinds: int64 ``(n, 2)`` shape kinds per slot, -1 where no second shape.
        vertices: float64 ``(n, 2, 20, 2)`` placed vertices in pixels (NaN if absent).
        masks: bool ``(n, 2, 1024)`` pixels of each shape (all False if absent).
        foreground, background: float32 ``(n,)`` grey levels (after the swap).
    """

    y: np.ndarray
    kinds: np.ndarray
    vertices: np.ndarray
    masks: np.ndarray
    foreground: np.ndarray
    background: np.ndarray


def _balanced_labels(rng: np.random.Generator, n: int, num_classes: int) -> np.ndarray:
    """``n // num_classes`` of each class, the remainder to the first ones, shuffled."""
    return rng.permutation(np.arange(n, dtype=np.int64) % num_classes)


def _draw(n: int, rng: np.random.Generator, variant: str) -> _Scene:
    """Draw ``n`` images' labels, shapes and grey levels from ``rng``.

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
    foreground, background = _grey_levels(rng, n)
    vertices = np.where(kinds[:, :, None, None] >= 0, quantised / _QUANTUM, np.nan)
    return _Scene(y, kinds, vertices, masks, foreground, background)


def _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape, x_range=(0.0, SIZE)):
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
        centred[index, slot] = _random_shapes(rng, k)
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
    """Last resort: shrink each shape to half the width and put them side by side.

    Args:
        rng: the random stream.
        index: int ``(m,)`` images still overlapping too much.
        kinds, centred, quantised, masks: the scene arrays, updated in place.
    """
    half = SIZE / 2
    for slot, x_range in ((0, (0.0, half)), (1, (half, float(SIZE)))):
        shapes = centred[index, slot]
        width = _extent(shapes)[:, 0]
        centred[index, slot] = shapes * np.minimum(1.0, half / width)[:, None, None]
        _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape=False, x_range=x_range)


def _grey_levels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Foreground in [0.55, 1], background in [0, 0.45], swapped with probability 1/2.

    Returns:
        float32 ``(foreground, background)``, each ``(n,)``.
    """
    fg = rng.uniform(*_FOREGROUND, size=n)
    bg = rng.uniform(*_BACKGROUND, size=n)
    swap = rng.random(n) < 0.5
    fg, bg = np.where(swap, bg, fg), np.where(swap, fg, bg)
    return fg.astype(np.float32), bg.astype(np.float32)


def _images(scene: _Scene) -> np.ndarray:
    """float32 ``(n, 1024)`` images: foreground grey on the union of the shapes."""
    union = scene.masks.any(axis=1)
    return np.where(union, scene.foreground[:, None], scene.background[:, None]).astype(np.float32)


# ------------------------------------------------------------------ public API


def generate(n: int, seed: int = 0, variant: str = "3") -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` Shapeset images, deterministically from ``seed``.

    Args:
        n: number of images (>= 0).
        seed: non-negative integer; the same seed gives the same bytes.
        variant: ``"3"`` (one shape, 3 classes) or ``"3x2"`` (1 or 2 shapes, 9 classes).

    Returns:
        ``(x, y)``: x float32 ``(n, 1024)`` in [0, 1] (32x32 row-major), y int64
        ``(n,)``, classes balanced and shuffled.

    Raises:
        ConfigError: bad ``n``, ``seed`` or ``variant``.
    """
    n = _check_count("n", n)
    seed = _check_seed(seed)
    variant = _check_variant(variant)
    return _generate(n, np.random.default_rng(seed), variant)


def _generate(n: int, rng: np.random.Generator, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """``generate`` from an existing random stream (arguments already checked)."""
    scene = _draw(n, rng, variant)
    return _images(scene), scene.y


def load(seed=0, n_train=10000, n_valid=10000, n_test=10000, variant="3", **unused) -> Splits:
    """The paper's Shapeset splits (10k / 10k / 10k by default), generated.

    Each split has its own random stream (``SeedSequence(seed).spawn(3)``), so
    changing one split's size leaves the others unchanged.

    Args:
        seed: non-negative integer.
        n_train, n_valid, n_test: split sizes.
        variant: ``"3"`` (name ``"shapeset"``) or ``"3x2"`` (name ``"shapeset3x2"``).
        **unused: options of other loaders (e.g. ``data_dir``), ignored: nothing is
            read from disk.

    Returns:
        ``Splits`` with ``input_shape`` (32, 32) and ``source`` ``"generated(seed=...)"``.

    Raises:
        ConfigError: bad seed, size or variant.
    """
    seed = _check_seed(seed)
    variant = _check_variant(variant)
    sizes = {
        name: _check_count(name, value)
        for name, value in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test))
    }
    streams = np.random.SeedSequence(seed).spawn(3)
    train, valid, test = (
        _generate(n, np.random.default_rng(stream), variant)
        for n, stream in zip(sizes.values(), streams)
    )
    return Splits(
        name=NAMES[variant],
        train=train,
        valid=valid,
        test=test,
        num_classes=len(CLASS_NAMES[variant]),
        input_shape=(SIZE, SIZE),
        source=f"generated(seed={seed})",
    )


def save_grid(x, y, path, n=36, cols=6, class_names=None) -> pathlib.Path:
    """Write a PNG grid of the first ``n`` examples, titled with their class names.

    Args:
        x: ``(m, 1024)`` or ``(m, 32, 32)`` images in [0, 1].
        y: ``(m,)`` integer labels.
        path: the PNG to write (atomically: written beside it, then renamed).
        n: how many examples to show (at most ``m``).
        cols: images per row.
        class_names: names indexed by label; by default Shapeset-3's names when
            every label is below 3, else Shapeset-3x2's.

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        ConfigError: mismatched ``x`` and ``y``, or ``n``/``cols`` not positive.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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
    # A Figure with its own Agg canvas: no pyplot global state, safe off the main thread.
    fig = Figure(figsize=(1.6 * cols, 1.75 * rows))
    FigureCanvasAgg(fig)
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_axis_off()
        if i < count:
            ax.imshow(x[i], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            label = int(y[i])
            name = class_names[label] if 0 <= label < len(class_names) else str(label)
            ax.set_title(name, fontsize=7)
    fig.tight_layout()
    path = pathlib.Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    return path

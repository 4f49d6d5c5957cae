"""Shapeset's geometry: shape templates, their size, rotation and place, and rasterising.

The pieces of the generator that turn random numbers into pixels (see the audit
in ``shapeset.py``): the unit shapes of the original's ``poly_type`` 1, scaled
per axis and rotated in 255 steps, placed one pixel off the border, their
vertices rounded to 1/256 pixel, and the exact integer inside test that
rasterises them, at the pixel centres or at 4 x 4 samples per pixel
(anti-aliasing).  Everything here is a pure function of its arguments and the
random stream it is given.
"""

from __future__ import annotations

import numpy as np

SIZE = 32  # image side, pixels
MARGIN = 1.0  # pixels kept free on every side, as in the original
FULL_WIDTH = (MARGIN, SIZE - MARGIN)  # the columns a shape may cover
SIDES = (3, 4, 20)  # triangle, rectangle, ellipse (a 20-gon, as in the original)
MAX_VERTICES = max(SIDES)
QUANTUM = 256  # vertices are rounded to 1/QUANTUM pixel

_SCALE = (0.2, 0.8)  # fraction of SIZE, per axis
_ROTATION_STEPS = 255  # the original example's rotation_resolution
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
    out = np.empty((len(SIDES), MAX_VERTICES, 2))
    for kind, sides in enumerate(SIDES):
        out[kind, :sides] = _regular(sides)
        out[kind, sides:] = out[kind, sides - 1]
    return out


_TEMPLATES = _templates()


def scaled_rotated(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
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


def extent(vertices: np.ndarray) -> np.ndarray:
    """Width and height ``(m, 2)`` of each shape's axis-aligned bounding box."""
    return vertices.max(axis=1) - vertices.min(axis=1)


def place(rng: np.random.Generator, centred: np.ndarray, x_range=FULL_WIDTH) -> np.ndarray:
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
    box_lo = np.array([x_range[0], MARGIN])
    box_hi = np.array([x_range[1], SIZE - MARGIN])
    shift = rng.uniform(box_lo - lo, np.maximum(box_hi - hi, box_lo - lo))
    placed = np.rint((centred + shift[:, None, :]) * QUANTUM)
    # Rounding may step 1/512 pixel outside the box; clip it back in.
    return np.clip(placed, box_lo * QUANTUM, box_hi * QUANTUM).astype(np.int32)


def rasterise(quantised: np.ndarray, kinds: np.ndarray) -> np.ndarray:
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
    for kind, sides in enumerate(SIDES):
        index = np.flatnonzero(kinds == kind)
        for start in range(0, index.size, _CHUNK):
            part = index[start:start + _CHUNK]
            masks[part] = _inside(quantised[part, :sides], _CENTRES).reshape(len(part), -1)
    return masks


def coverage(quantised: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """The fraction of each pixel's 4 x 4 samples inside the union of an image's shapes.

    Args:
        quantised: int32 ``(n, slots, 20, 2)`` vertices in 1/256 pixel.
        kinds: int ``(n, slots)`` shape kinds, -1 where a slot holds no shape.

    Returns:
        float64 ``(n, 1024)``, row-major.
    """
    n = len(kinds)
    side = SIZE * _SUPERSAMPLE
    out = np.empty((n, SIZE * SIZE))
    for start in range(0, n, _AA_CHUNK):
        stop = min(n, start + _AA_CHUNK)
        union = np.zeros((stop - start, side, side), dtype=bool)
        for slot in range(kinds.shape[1]):
            slot_kinds = kinds[start:stop, slot]
            for kind, sides in enumerate(SIDES):
                part = np.flatnonzero(slot_kinds == kind)
                if part.size:
                    union[part] |= _inside(quantised[start:stop][part, slot, :sides], _SUBSAMPLES)
        blocks = union.reshape(stop - start, SIZE, _SUPERSAMPLE, SIZE, _SUPERSAMPLE)
        out[start:stop] = blocks.mean(axis=(2, 4)).reshape(stop - start, -1)
    return out


def _sample_points(per_pixel: int) -> np.ndarray:
    """Sample coordinates along one axis in 1/256 pixel: ``per_pixel`` evenly inside each pixel.

    ``per_pixel`` = 1 gives the pixel centres ``j + 1/2``; all are exact integers.
    """
    offsets = (2 * np.arange(per_pixel) + 1) * (QUANTUM // (2 * per_pixel))
    return (np.arange(SIZE)[:, None] * QUANTUM + offsets[None, :]).reshape(-1).astype(np.int32)


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

"""Shapeset's scenes: what each image shows, drawn from a random stream, then rendered.

A scene is a batch of images' labels, shapes (kinds, vertices, pixel masks) and
grey levels (``Scene``, from ``draw``).  This module holds the classes of each
variant, the balanced labels, the overlap limit of Shapeset-3x2 and its last
resort, the grey levels and their swap, and ``images``, which renders a scene
with the data options.  The audit of these choices against the original is the
docstring of ``shapeset.py``; the geometry they use is ``shapeset_geometry``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rectifier_zoo.datasets.shapeset_geometry import (
    FULL_WIDTH,
    MARGIN,
    MAX_VERTICES,
    QUANTUM,
    SIZE,
    coverage,
    extent,
    place,
    rasterise,
    scaled_rotated,
)

SHAPES = ("triangle", "rectangle", "ellipse")
# Shape kinds of each class, per variant; -1 marks "no second shape".
CLASS_KINDS = {
    "3": np.array([[0, -1], [1, -1], [2, -1]], dtype=np.int64),
    "3x2": np.array(
        [[0, -1], [1, -1], [2, -1], [0, 0], [1, 1], [2, 2], [0, 1], [0, 2], [1, 2]],
        dtype=np.int64,
    ),
}
CLASS_NAMES = {
    variant: tuple(
        "+".join(SHAPES[k] for k in kinds if k >= 0) for kinds in table
    )
    for variant, table in CLASS_KINDS.items()
}

# Grey levels in 1/255 steps, inclusive: int(0.55 * 255) .. 255 and 0 .. int(0.45 * 255).
_GREY_STEPS = 255
_LIGHT = (140, 255)
_DARK = (0, 114)
_SWAP_CHANCE = 0.5
_POSITION_ROUNDS = 5  # redraws of the second shape's position (3x2)
_PAIR_ROUNDS = 50  # then redraws of the whole pair: each succeeds about half the time


class Scene(NamedTuple):
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


def draw(n: int, rng: np.random.Generator, variant: str) -> Scene:
    """Draw ``n`` images' labels, shapes and grey levels from ``rng``.

    The options (swap, anti-aliasing, range) only change how a scene is rendered
    (``images``), never what is drawn: the same seed gives the same scenes.

    Args:
        n: number of images.
        rng: the random stream (consumed in a fixed order).
        variant: ``"3"`` or ``"3x2"``.

    Returns:
        a ``Scene``.
    """
    y = _balanced_labels(rng, n, len(CLASS_NAMES[variant]))
    kinds = CLASS_KINDS[variant][y]
    centred = np.full((n, 2, MAX_VERTICES, 2), np.nan)
    quantised = np.zeros((n, 2, MAX_VERTICES, 2), dtype=np.int32)
    masks = np.zeros((n, 2, SIZE * SIZE), dtype=bool)
    for slot in (0, 1):
        index = np.flatnonzero(kinds[:, slot] >= 0)
        _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape=True)
    if variant == "3x2":
        _limit_overlap(rng, kinds, centred, quantised, masks)
    light, dark, swapped = _grey_levels(rng, n)
    vertices = np.where(kinds[:, :, None, None] >= 0, quantised / QUANTUM, np.nan)
    return Scene(y, kinds, vertices, quantised, masks, light, dark, swapped)


def _redraw(rng, index, slot, kinds, centred, quantised, masks, new_shape, x_range=FULL_WIDTH):
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
        centred[index, slot] = scaled_rotated(rng, k)
    quantised[index, slot] = place(rng, centred[index, slot], x_range)
    masks[index, slot] = rasterise(quantised[index, slot], k)


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
    for slot, x_range in ((0, (MARGIN, half)), (1, (half, SIZE - MARGIN))):
        shapes = centred[index, slot]
        width = extent(shapes)[:, 0]
        room = half - MARGIN
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


def images(scene: Scene, swap=True, antialias=False, signed=False) -> np.ndarray:
    """float32 ``(n, 1024)`` images of ``scene``: foreground grey on the union of the shapes.

    Args:
        scene: what was drawn.
        swap, antialias, signed: the data options (see the docstring of ``shapeset.py``).
    """
    foreground, background = scene.levels(swap)
    cover = coverage(scene.quantised, scene.kinds) if antialias else scene.masks.any(axis=1).astype(np.float64)
    # In float64, a pixel covered 0 or 1 gets exactly its grey level's float32 value.
    x = background[:, None] * (1.0 - cover) + foreground[:, None] * cover
    if signed:
        x = 2.0 * x - 1.0
    return x.astype(np.float32)

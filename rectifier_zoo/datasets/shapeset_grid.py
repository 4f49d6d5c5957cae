"""A PNG grid of Shapeset images, each titled with its class name (matplotlib).

``shapeset.save_grid`` checks its arguments and names the labels; this module
lays the images out in one mosaic and writes it.  matplotlib is imported only
when a grid is drawn, so generating images never needs it.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

from rectifier_zoo._internal.atomic import atomic_path

_GRID_DPI = 80
_GRID_ZOOM = 3  # screen pixels per image pixel
_GRID_BAND, _GRID_GAP = 7, 2  # image pixels: a label band above each tile, a gutter around it


def write_grid(x, names, path, cols, title, value_range) -> pathlib.Path:
    """Write ``x`` as a PNG mosaic of ``cols`` columns, ``names[i]`` above image ``i``.

    Args:
        x: float32 ``(m, side, side)`` images (checked by the caller).
        names: ``m`` labels, one per image.
        path: the PNG to write (atomically: written beside it, then renamed).
        cols: images per row (positive).
        title: a line above the grid, or None.
        value_range: the grey values drawn black and white.

    Returns:
        ``path`` as a ``pathlib.Path``.
    """
    rows = max(1, math.ceil(len(x) / cols))
    fig = _grid_figure(x, names, rows, cols, title, value_range)
    path = pathlib.Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=_GRID_DPI)
    return path


def _grid_figure(x, names, rows, cols, title, value_range):
    """A Figure of one mosaic image (one ``imshow``, not one axes per tile: fast), labels above tiles."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    side = x.shape[1]
    tile_w, tile_h = side + _GRID_GAP, side + _GRID_BAND + _GRID_GAP
    mosaic = np.full((rows * tile_h + _GRID_GAP, cols * tile_w + _GRID_GAP), np.nan, dtype=np.float32)
    for i, image in enumerate(x):
        top, left = _GRID_GAP + (i // cols) * tile_h + _GRID_BAND, _GRID_GAP + (i % cols) * tile_w
        mosaic[top:top + side, left:left + side] = image
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
        ax.text(_GRID_GAP + (i % cols) * tile_w + side / 2, _GRID_GAP + (i // cols) * tile_h + _GRID_BAND / 2,
                name, ha="center", va="center", fontsize=7)
    if title:
        fig.text(0.5, 1.0 - 0.5 * head / (height + head), title, ha="center", va="center", fontsize=8)
    return fig

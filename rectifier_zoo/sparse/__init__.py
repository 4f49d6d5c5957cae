"""Sparse inference: the trained network's exact zeros used to skip work on CPU.

Lives here: ``inference`` (``sparsify``: a model's weights as a NumPy/numba forward
pass that touches only the active units) and ``kernels`` (the compiled kernel and its
NumPy fallback).

May import: ``errors``, ``_internal`` and ``nn``.
"""

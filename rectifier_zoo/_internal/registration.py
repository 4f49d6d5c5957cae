"""Keras knows the zoo's custom objects as soon as both are imported, in either order.

``import rectifier_zoo`` stays light (no Keras, no TensorFlow: the command line's
``list`` and ``--help`` answer in a fraction of a second, not the 10-20 s Keras takes
to import), yet a zoo ``.keras`` file must load with plain
``keras.saving.load_model(path, safe_mode=True)`` right after it. So ``install()``
registers the custom objects at once when Keras is already imported, and otherwise
puts a one-shot finder in front of ``sys.meta_path`` that registers them the moment
Keras finishes importing, whoever imports it.

Why a finder: Keras finds a custom class only in its registry (``rectifier_zoo>ActivityL1``);
for a module outside its own packages it imports nothing, not even under
``safe_mode=False`` (``keras.src.saving.serialization_lib._retrieve_class_or_fn``),
and it reads no entry points. Python has no post-import hook either: a finder that
wraps one module's loader is the standard way to run code after an import (wrapt's
``register_post_import_hook`` is built the same way). It steps aside, off
``sys.meta_path``, once Keras and TensorFlow are both imported.

The same finder runs the first import of TensorFlow and of Keras inside
``tf_logs.filtered()``, with TensorFlow's first look at the devices, so their C++
start-up lines obey ``TF_CPP_MIN_LOG_LEVEL`` (why that needs a filter at all: see
``rectifier_zoo._internal.tf_logs``).

Example:

>>> import rectifier_zoo, keras
>>> model = keras.saving.load_model("exports/fashion_mnist_rect_l1/1/fashion_mnist_rect_l1.keras", safe_mode=True)
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

from rectifier_zoo._internal import tf_logs

# The modules whose import registers every custom object of the zoo (package "rectifier_zoo").
SERIALIZABLE_MODULES = ("rectifier_zoo.nn.regularizers", "rectifier_zoo.nn.layers", "rectifier_zoo.nn.preprocessing")
_WATCHED = ("tensorflow", "keras")


def register() -> None:
    """Register the zoo's custom objects with Keras (imports Keras)."""
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


class _Loader(importlib.abc.Loader):
    """Runs another loader's ``exec_module`` with stderr filtered, then what must follow it."""

    def __init__(self, loader, name):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with tf_logs.filtered():
            self._loader.exec_module(module)
            if self._name == "tensorflow":
                tf_logs.init_devices(module)
        if self._name == "keras":
            register()

    def __getattr__(self, attr):  # resource readers and the like: the real loader's
        return getattr(self._loader, attr)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` and ``keras`` with the finders behind it and wraps their loaders."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _WATCHED or fullname in sys.modules:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, fullname)
        if all(name in sys.modules or name == fullname for name in _WATCHED):
            uninstall()  # nothing left to watch
        return spec


_FINDER = _Finder()


def install() -> None:
    """Register now if Keras is imported, else when it is (and filter TF's start-up lines)."""
    if "keras" in sys.modules:
        tensorflow = sys.modules.get("tensorflow")
        if tensorflow is not None:
            with tf_logs.filtered():
                tf_logs.init_devices(tensorflow)
        register()
        return
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Take the finder off ``sys.meta_path`` (tests; a no-op when it is not there)."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)

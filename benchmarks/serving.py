"""Serving latency and throughput: the exported SavedModel vs Keras predict and the direct call.

Question: at batch 1, 32 and 256, what are the p50 / p99 latency and the
throughput of the exported model called the way TF Serving calls it
(``tf.saved_model.load(dir).signatures["serving_default"](features=x)``), against
the Keras model's ``predict`` and its direct call ``model(x)``?

The export is ``rectifier_zoo.hub.export.export_version`` (what ``rz.export`` writes with)
when that module exists, else ``keras.export.ExportArchive`` with the same
signature (input ``features``, outputs ``probabilities`` and ``class``); the
result says which. Each call's time includes turning the output into NumPy, as a
client would. The three paths are timed in interleaved rounds so load drift on
the shared machine hits all alike.

    python -m benchmarks.serving [--full]
"""

from __future__ import annotations

import contextlib
import pathlib
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import emit, parser

BATCHES = (1, 32, 256)


def export(model, root) -> tuple:
    """(directory of the SavedModel version, how it was exported)."""
    try:
        from rectifier_zoo.hub.export import export_version as zoo_export
    except ImportError:
        zoo_export = None
    if zoo_export is not None:
        out = zoo_export(model, root, version=1)
        path = pathlib.Path(getattr(out, "path", out))
        if not (path / "saved_model.pb").exists():
            path = pathlib.Path(root) / model.name / "1"
        return path, "rectifier_zoo.hub.export.export_version"
    return export_archive(model, pathlib.Path(root) / model.name / "1"), "keras.export.ExportArchive (fallback)"


def export_archive(model, path):
    """The TF Serving signature written by hand: features -> probabilities, class."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(features):
        probs = model(features, training=False)
        return {"probabilities": probs, "class": tf.argmax(probs, axis=-1)}

    archive.add_endpoint(
        name="serving_default",
        fn=serve,
        input_signature=[tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32, name="features")],
    )
    archive.write_out(str(path), verbose=False)
    return path


def latencies(fn, x, calls) -> list:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - start)
    return out


def summarise(seconds, batch) -> dict:
    s = np.asarray(seconds)
    return {
        "p50_ms": float(np.percentile(s, 50) * 1e3),
        "p99_ms": float(np.percentile(s, 99) * 1e3),
        "examples_per_second": float(batch / np.median(s)),
        "calls": len(s),
    }


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    import keras
    import tensorflow as tf

    import rectifier_zoo as rz

    keras.utils.set_random_seed(0)
    model = rz.build_model("mnist_rect_l1", seed=0)
    rounds = 3 if not args.full else 5
    calls = {1: 100, 32: 40, 256: 15} if not args.full else {1: 400, 32: 200, 256: 60}
    with tempfile.TemporaryDirectory() as root:
        with contextlib.redirect_stdout(sys.stderr):  # the exporter's messages are not our JSON
            path, how = export(model, root)
        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        paths = {
            "saved_model_signature": lambda x: {k: v.numpy() for k, v in signature(features=tf.constant(x)).items()},
            "keras_predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
            "keras_call": lambda x: keras.ops.convert_to_numpy(model(x, training=False)),
        }
        x_all = np.random.default_rng(0).random((max(BATCHES), 784), dtype=np.float32)
        same = signature(features=tf.constant(x_all[:8]))["probabilities"].numpy()
        np.testing.assert_allclose(same, keras.ops.convert_to_numpy(model(x_all[:8])), rtol=1e-5, atol=1e-6)
        per_batch = {}
        for batch in BATCHES:
            x = x_all[:batch]
            times = {name: [] for name in paths}
            for fn in paths.values():
                latencies(fn, x, 3)  # warm-up: tracing, thread pools
            for _ in range(rounds):
                for name, fn in paths.items():
                    # predict builds a data pipeline per call (~100x slower at batch 1):
                    # fewer calls keep the run short, its p99 is the roughest figure.
                    n = calls[batch] // 3 if name == "keras_predict" else calls[batch]
                    times[name] += latencies(fn, x, max(n, 5))
            stats = {name: summarise(t, batch) for name, t in times.items()}
            sm = stats["saved_model_signature"]
            for name, s in stats.items():
                s["p50_vs_saved_model"] = s["p50_ms"] / sm["p50_ms"]
            per_batch[str(batch)] = stats
    result = {
        "model": "mnist_rect_l1 (784-1000-1000-1000-10), untrained weights (latency does not depend on them)",
        "export": how,
        "batches": per_batch,
        "headline": {
            "serving_p50_ms_bs1": per_batch["1"]["saved_model_signature"]["p50_ms"],
            "serving_p99_ms_bs1": per_batch["1"]["saved_model_signature"]["p99_ms"],
            "serving_examples_per_second_bs256": per_batch["256"]["saved_model_signature"]["examples_per_second"],
            "keras_predict_p50_vs_serving_bs1": per_batch["1"]["keras_predict"]["p50_vs_saved_model"],
            "keras_call_p50_vs_serving_bs1": per_batch["1"]["keras_call"]["p50_vs_saved_model"],
        },
    }
    return emit("serving", result, save=not args.no_save)


if __name__ == "__main__":
    main()

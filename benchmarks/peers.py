"""What a user would pick instead of the sparse kernel: ONNX Runtime and LiteRT, converted from the same SavedModel.

Both peers start from the SavedModel that ``rz.export`` writes (the one TF Serving
serves), converted the way their documentation says:

- ONNX Runtime: ``tf2onnx`` (what ``python -m tf2onnx.convert --saved-model DIR
  --opset 17`` does, in this process), run by an ``InferenceSession`` on the CPU
  provider with one intra-op and one inter-op thread, sequential execution and
  every graph optimisation (the default level).
- LiteRT (``ai-edge-litert``, the successor of ``tf.lite.Interpreter``): the
  flatbuffer from TensorFlow's own ``tf.lite.TFLiteConverter.from_saved_model``,
  run by ``Interpreter(num_threads=1)``, whose default delegate is XNNPACK. The
  input is resized only when the batch size changes (the signature runner
  resizes and re-allocates on every call, which a latency-minded user avoids).

Each peer is a function ``batch -> probabilities`` (NumPy, float32), like the
other paths of ``benchmarks.sparse_inference``. A peer whose packages are not
installed is left out, and ``missing()`` names what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import sys

import numpy as np

OPSET = 17  # as in the measurement; ONNX Runtime 1.32 runs opsets up to 23
# peer -> (modules it needs, the pinned packages that provide them: requirements-test.txt)
NEEDS = {
    "onnxruntime": (("onnxruntime", "tf2onnx"), "onnxruntime==1.32.0 tf2onnx==1.17.0"),
    "litert": (("ai_edge_litert",), "ai-edge-litert==2.3.0"),
}


def missing() -> dict:
    """peer -> the pip command that installs it, for each peer whose modules are not importable."""
    out = {}
    for peer, (modules, packages) in NEEDS.items():
        absent = [m for m in modules if importlib.util.find_spec(m) is None]
        if absent:
            out[peer] = f"{', '.join(absent)} not installed: pip install {packages} (pinned in requirements-test.txt)"
    return out


@contextlib.contextmanager
def quiet():
    """The converters' progress messages (stdout, logging) go to stderr: stdout is the benchmark's JSON."""
    previous = logging.root.level
    logging.root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        logging.root.setLevel(previous)


def onnx_bytes(saved_model_dir) -> bytes:
    """The ``serving_default`` signature of a SavedModel as an ONNX model (tf2onnx's ``--saved-model`` path)."""
    import tf2onnx

    with quiet():
        graph_def, inputs, outputs, renames = tf2onnx.tf_loader.from_saved_model(
            str(saved_model_dir), None, None, None, ["serving_default"], return_tensors_to_rename=True
        )
        proto, _ = tf2onnx.convert.from_graph_def(
            graph_def, input_names=inputs, output_names=outputs, opset=OPSET, tensors_to_rename=renames
        )
    return proto.SerializeToString()


def onnxruntime_path(saved_model_dir):
    """``batch -> probabilities`` by an ONNX Runtime session on one thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_bytes(saved_model_dir), options, providers=["CPUExecutionProvider"])
    return lambda b: session.run(["probabilities"], {"features": b})[0]


def tflite_bytes(saved_model_dir) -> bytes:
    """The SavedModel as a LiteRT flatbuffer, by TensorFlow's own converter (float32, no quantisation)."""
    import tensorflow as tf

    with quiet(), contextlib.redirect_stderr(io.StringIO()):
        # serving_default only: an export may carry other signatures (e.g. one taking images)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=["serving_default"])
        return converter.convert()


def litert_path(saved_model_dir):
    """``batch -> probabilities`` by a LiteRT interpreter on one thread (XNNPACK, its default delegate)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite_bytes(saved_model_dir), num_threads=1)
    signature = interpreter.get_signature_runner("serving_default")  # for its tensors' indices only
    features = signature.get_input_details()["features"]["index"]
    probabilities = signature.get_output_details()["probabilities"]["index"]
    shape = [None]

    def run(b):
        if shape[0] != b.shape:  # resize (and re-plan XNNPACK) only when the batch size changes
            interpreter.resize_tensor_input(features, b.shape)
            interpreter.allocate_tensors()
            shape[0] = b.shape
        interpreter.set_tensor(features, b)
        interpreter.invoke()
        return interpreter.get_tensor(probabilities)  # a copy, as the other paths return

    return run


def paths(saved_model_dir) -> tuple:
    """(name -> function of each installed peer, name -> why each other peer is missing)."""
    absent = missing()
    makers = {"onnxruntime": onnxruntime_path, "litert": litert_path}
    found = {name: make(saved_model_dir) for name, make in makers.items() if name not in absent}
    return found, absent


def classes(fn, x, chunk=1000) -> np.ndarray:
    """The argmax of ``fn`` over all of ``x``, in chunks (the class does not depend on the batch size)."""
    return np.concatenate([np.asarray(fn(np.ascontiguousarray(x[i : i + chunk]))).argmax(axis=1)
                           for i in range(0, len(x), chunk)])

# Is there a GPU, and which backend suits it: JAX on a GPU (fast at the paper's batches of 10),
# TensorFlow with XLA on a CPU. Runs before Keras is imported; a KERAS_BACKEND already set wins.
import os
import shutil
import subprocess
import sys


def gpu_name():
    """The first NVIDIA GPU's name (from nvidia-smi), or None on a CPU runtime."""
    if shutil.which("nvidia-smi") is None:
        return None
    done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True)
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []
    return names[0] if names else None


def pick_backend(gpu):
    """The Keras backend for a runtime with GPU ``gpu`` (None: no GPU)."""
    return "jax" if gpu else "tensorflow"


def describe(gpu, backend, platform=None):
    """One line saying whether a GPU is in use, and with which backend."""
    if gpu and backend == "jax" and platform != "gpu":
        return (
            f"GPU {gpu} found, but JAX runs on {platform} only (a jaxlib without CUDA): "
            'pip install -U "jax[cuda12]" and restart the runtime; tuning on the CPU meanwhile'
        )
    if gpu:
        return f"GPU in use: {gpu}, {backend} backend"
    return f"no GPU on this runtime: tuning on the CPU with the {backend} backend"


GPU = gpu_name()
BACKEND = os.environ.setdefault("KERAS_BACKEND", pick_backend(GPU))
PLATFORM = None
if GPU and BACKEND == "jax":
    import jax

    PLATFORM = jax.devices()[0].platform
print(describe(GPU, BACKEND, PLATFORM))
if not GPU and "google.colab" in sys.modules:
    print("(Colab: Runtime > Change runtime type > a GPU, then run the notebook again)")

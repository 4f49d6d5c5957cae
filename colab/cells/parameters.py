# Parameters. In Colab everything runs for real: MNIST from tensorflow-datasets (downloaded),
# the entries' own recipes, results on Google Drive when it is mounted.
# CI (RECTIFIER_ZOO_CI=1, set by tests/test_notebooks.py) runs the same cells offline and tiny:
# MNIST from the folder in RECTIFIER_ZOO_MNIST_DIR, a few hundred examples, one epoch.
# Anywhere else QUICK shortens the runs (small splits, few epochs).
import os
import pathlib
import sys

IN_COLAB = "google.colab" in sys.modules
CI = os.environ.get("RECTIFIER_ZOO_CI") == "1"
QUICK = CI or not IN_COLAB
MNIST_DIR = os.environ.get("RECTIFIER_ZOO_MNIST_DIR")  # a folder with MNIST's IDX files; None: tensorflow-datasets
DOWNLOAD = MNIST_DIR is None and not CI  # CI never downloads
# Colab wipes the runtime's disk when it recycles it: long runs write to Google Drive when it
# is mounted (from google.colab import drive; drive.mount("/content/drive")), else here.
DRIVE = pathlib.Path(os.environ.get("RECTIFIER_ZOO_DRIVE", "/content/drive/MyDrive"))
WORK = DRIVE / "rectifier_zoo" if DRIVE.is_dir() else pathlib.Path.cwd()
print(f"IN_COLAB={IN_COLAB} CI={CI} QUICK={QUICK} MNIST_DIR={MNIST_DIR} DOWNLOAD={DOWNLOAD}")
print(f"results go to {WORK}" + ("" if DRIVE.is_dir() else " (not Google Drive: mount it to keep them past this runtime)"))

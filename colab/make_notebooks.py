"""Write the Colab notebooks of this folder from the cells below (the notebooks are generated: edit here).

    python colab/make_notebooks.py          # rewrite quickstart.ipynb, reproduce_mnist.ipynb, tune_gpu.ipynb
    python colab/make_notebooks.py --check  # exit 1 if a notebook differs from what this script writes

Every notebook opens with an "Open in Colab" badge, the install cell and the
parameters cell (``cells/install.py``, ``cells/parameters.py``: cells kept as Python
files, so they are linted and tested as they are). The install clones the repository
and pip-installs it keeping the runtime's own TensorFlow, Keras, JAX and NumPy, and
stops with a clear message when a step fails. In Colab the cells do the real thing
(MNIST downloaded, the recipes' epochs, results on Google Drive when it is mounted);
with ``RECTIFIER_ZOO_CI=1`` (``tests/test_notebooks.py``) the same cells run offline
and tiny, MNIST read from ``RECTIFIER_ZOO_MNIST_DIR``; ``QUICK`` (CI, or anywhere but
Colab) shortens the runs. Cell ids are fixed so regenerating gives the same bytes.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

HERE = pathlib.Path(__file__).resolve().parent
COLAB_URL = "https://colab.research.google.com/github/rectifier-zoo/rectifier_zoo/blob/main/colab/"
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"

CELLS = HERE / "cells"


def cell_source(name) -> str:
    """A cell kept as a Python file in ``colab/cells/`` (so it can be linted and tested as it is)."""
    return (CELLS / f"{name}.py").read_text().rstrip("\n")


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text):
    return nbformat.v4.new_code_cell(text)


def header(filename, title, intro):
    return [
        md(f"{BADGE.format(url=COLAB_URL + filename)}\n\n# {title}\n\n{intro}"),
        code(cell_source("install")),
        code(cell_source("parameters")),
    ]


def quickstart():
    return header(
        "quickstart.ipynb",
        "rectifier_zoo quickstart",
        "Sparse rectifier networks (Glorot, Bordes & Bengio 2011) as a Keras 3 zoo: list the entries, load the "
        "trained `mnist_rect_l1`, evaluate it on MNIST's test set as Keras hands it out (uint8 images, "
        "28 x 28), look at its answers, and at how sparse its hidden codes are.",
    ) + [
        code(
            "import rectifier_zoo as rz\n"
            "from rectifier_zoo import listing\n\n"
            'print(listing.table(rz.catalog("mnist_*")))  # what each entry trains with, and what is at hand'
        ),
        md(
            "## A trained model, on MNIST as Keras gives it\n\n`rz.load` returns the model shipped in the "
            "repository's `exports/` (or the local cache): no training, no download. It logs where it came "
            "from (shown here through `logging`). MNIST is `keras.datasets.mnist.load_data()`: uint8 images "
            "of shape (10000, 28, 28), which the model takes as they are."
        ),
        code(
            "import logging\n"
            "import sys\n\n"
            "import keras\n"
            "import numpy as np\n\n"
            "from rectifier_zoo.hub import locate\n\n"
            'logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)\n'
            "if MNIST_DIR:  # offline (CI): the same arrays, from MNIST's IDX files\n"
            "    from rectifier_zoo.datasets import idx\n\n"
            "    files = idx.find_files(MNIST_DIR)\n"
            '    x_test = idx.read_idx(files["test", "images"], idx.IMAGES_MAGIC)\n'
            '    y_test = idx.read_idx(files["test", "labels"], idx.LABELS_MAGIC)\n'
            "else:\n"
            "    (_, _), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
            'print("MNIST test images:", x_test.dtype, x_test.shape)\n\n'
            'model = rz.load("mnist_rect_l1")\n'
            "loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)\n"
            'card = locate.provenance(model).result["test_error"]  # what its model card records\n'
            'print(f"test error on {len(y_test)} MNIST test images: {1 - accuracy:.2%} (model card: {card:.2%})")'
        ),
        md("## Its answers\n\nThe first test digits, each titled with the model's answer and its confidence "
           "(red where it is wrong)."),
        code(
            "import io\n\n"
            "from IPython.display import Image, display\n"
            "from matplotlib.figure import Figure\n\n\n"
            "def show(fig):\n"
            '    """Drawn to PNG bytes, so it shows the same under any matplotlib backend (Colab\'s inline, CI\'s Agg)."""\n'
            "    png = io.BytesIO()\n"
            '    fig.savefig(png, format="png")\n'
            "    display(Image(png.getvalue()))\n\n\n"
            "probs = model.predict(x_test[:12], verbose=0)\n"
            "answers = probs.argmax(axis=1)\n"
            'fig = Figure(figsize=(9, 2.6), layout="constrained")\n'
            "for ax, image, answer, p, label in zip(fig.subplots(2, 6).flat, x_test, answers, probs, y_test):\n"
            '    ax.imshow(image, cmap="gray")\n'
            '    ax.set_title(f"{answer} ({p.max():.0%})", color="black" if answer == label else "red")\n'
            '    ax.axis("off")\n'
            "show(fig)\n"
            'print("answers:", " ".join(map(str, answers)))\n'
            'print("labels: ", " ".join(map(str, y_test[:12])))'
        ),
        md(
            "## How sparse are the hidden codes?\n\nThe fraction of units that are exactly zero in each hidden "
            "layer, for one image, and over the test images (`rz.sparsity`). Both read the network's flat "
            "features, which `model.features` makes from the images."
        ),
        code(
            "from rectifier_zoo.nn.sparsity import probe\n\n"
            "features = model.features(x_test)  # float32 (10000, 784) in [0, 1], as the network reads them\n"
            "codes_model, layer_names = probe(model)\n"
            "codes = codes_model.predict(features[:1], verbose=0)\n"
            "zeros = [100 * float(np.mean(c[0] == 0)) for c in codes]\n"
            'fig = Figure(figsize=(9, 3), layout="constrained")\n'
            "ax_img, ax_bar = fig.subplots(1, 2)\n"
            'ax_img.imshow(x_test[0], cmap="gray")\n'
            'ax_img.set_title(f"a {y_test[0]}")\n'
            'ax_img.axis("off")\n'
            "ax_bar.bar(layer_names, zeros)\n"
            'ax_bar.set_ylabel("units exactly zero (%)")\n'
            "ax_bar.set_ylim(0, 100)\n"
            "show(fig)\n"
            "for name, share in zip(layer_names, zeros):\n"
            '    print(f"{name}: {share:.1f}% zeros for this image")\n'
            "print(rz.sparsity(model, features))"
        ),
    ]


def reproduce_mnist():
    return header(
        "reproduce_mnist.ipynb",
        "Reproduce Table 1 on MNIST",
        "The workshop paper's Table 1 (rectifier + L1, rectifier, softplus, tanh; no pre-training) on MNIST with "
        "tensorflow-datasets: our test error and per-layer sparsity beside the paper's, after the shipped models' "
        "figures. In Colab it downloads MNIST and trains by each entry's recipe, 3 seeds (hours: use a GPU runtime, "
        "and mount Google Drive so results and checkpoints outlive the runtime); elsewhere QUICK shortens the runs. "
        "Each finished run is saved at once and a killed run resumes from its last epoch: run the cell again.",
    ) + [
        code(
            'DATASET = "mnist"\n'
            "SEEDS = 1 if QUICK else 3\n"
            'MODE = "tiny" if CI else "quick" if QUICK else "full"\n'
            'OUT = WORK / "runs" / "reproduce"\n'
            'print(f"reproducing Table 1 on {DATASET} with {SEEDS} seed(s), {MODE} mode, into {OUT}")'
        ),
        code(
            "from rectifier_zoo.reproduction import runs as reproduction, summary\n\n"
            "runs = reproduction.plan([DATASET], seeds=SEEDS)\n"
            "results = reproduction.run_plan(\n"
            '    runs, OUT, quick=MODE == "quick", tiny=CI, data_dir=MNIST_DIR, download=DOWNLOAD,\n'
            '    checkpoint_dir=WORK / "runs" / "checkpoints", verbose=0 if CI else 2,\n'
            ")\n"
            'print(summary.screen(results, "Workshop Table 1 rows", MODE, seeds=SEEDS))'
        ),
        md("## The report\n\nMarkdown with figures, the same as `rectifier-zoo report --results runs/reproduce`."),
        code(
            "from IPython.display import Image, Markdown, display\n\n"
            "from rectifier_zoo.reproduction import report\n\n"
            'path = report.write_report([OUT], WORK / "runs" / "report")\n'
            "text = path.read_text()\n"
            'table = text[text.index("## Workshop Table 1"):text.index("## Workshop Table 2")]\n'
            "display(Markdown(table))\n"
            'display(Image(filename=str(path.parent / "figures" / f"{DATASET}_sparsity.png")))\n'
            'print(f"full report: {path}")'
        ),
    ]


def tune_gpu():
    return header(
        "tune_gpu.ipynb",
        "Tune a zoo entry on a GPU",
        "A KerasTuner search of the learning rate and L1 penalty of `mnist_rect_l1` on the validation split, with "
        "`rectifier-zoo tune`. On a GPU runtime (Colab: Runtime > Change runtime type > GPU) it runs on the JAX "
        "backend; on a CPU, TensorFlow with XLA. The search (results and the tuner's state) lives on Google Drive "
        "when it is mounted, so after a recycled runtime the same cell resumes it.",
    ) + [
        code(cell_source("gpu_check")),
        code(
            "def run(cmd):\n"
            '    """Run a command, streaming its output here; fail the cell if it fails."""\n'
            '    print("$", " ".join(cmd))\n'
            "    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:\n"
            "        for line in proc.stdout:\n"
            '            print(line, end="")\n'
            "    if proc.returncode:\n"
            "        raise RuntimeError(f\"rectifier-zoo {' '.join(cmd[3:])} failed with exit status {proc.returncode}\")\n"
            "\n\n"
            'NAME = "mnist_rect_l1"\n'
            'TUNING = WORK / "tuning"\n'
            'cmd = [sys.executable, "-m", "rectifier_zoo", "tune", NAME, "--max-trials", "2" if QUICK else "20"]\n'
            'cmd += ["--results-dir", str(TUNING / "results"), "--project-dir", str(TUNING / "projects")]\n'
            'cmd += ["--data-dir", MNIST_DIR] if MNIST_DIR else ["--download"] if DOWNLOAD else []\n'
            "if QUICK:\n"
            '    cmd += ["--quick"]\n'
            "if CI:  # seconds, not minutes: one epoch of a tiny net per trial, no retraining\n"
            '    cmd += ["--epochs", "1", "--hidden", "16,16", "--no-retrain"]\n'
            "run(cmd)  # KERAS_BACKEND (set above) carries over to the command"
        ),
        md(
            "## The best hyper-parameters\n\nA search's record changes no entry by itself: `rz.train(name)` uses "
            "the values adopted in `zoo.TUNED` (reviewed in git). Here is each record, the line that adopts it, "
            "and the recipe it would give."
        ),
        code(
            "import json\n\n"
            "import rectifier_zoo as rz\n"
            "from rectifier_zoo import zoo\n"
            "from rectifier_zoo.tuning import project\n\n"
            'found = sorted((TUNING / "results").glob("*.json"))\n'
            "for path in found:\n"
            "    record = json.loads(path.read_text())\n"
            '    print(path.name, record["hyperparameters"])\n'
            "    print(project.adoption(record))\n"
            '    print(zoo.apply_tuned(rz.get_spec(path.stem, tuned=False), record["hyperparameters"]).recipe)\n'
            "if not found:\n"
            "    print(\"no tuning results yet; the zoo's recipe for\", NAME, \"is\", rz.get_spec(NAME).recipe)"
        ),
    ]


NOTEBOOKS = {"quickstart.ipynb": quickstart, "reproduce_mnist.ipynb": reproduce_mnist, "tune_gpu.ipynb": tune_gpu}


def build(filename) -> str:
    """The notebook ``filename`` as nbformat v4 JSON text."""
    stem = filename.removesuffix(".ipynb")
    cells = NOTEBOOKS[filename]()
    for i, cell in enumerate(cells):
        cell["id"] = f"{stem}-{i:02d}"  # fixed ids: regenerating gives the same bytes
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "colab": {"provenance": [], "name": filename},
            "accelerator": "GPU" if filename == "tune_gpu.ipynb" else None,
        },
    )
    if nb.metadata["accelerator"] is None:
        del nb.metadata["accelerator"]
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a notebook is not what this script writes")
    args = parser.parse_args(argv)
    stale = []
    for filename in NOTEBOOKS:
        path, text = HERE / filename, build(filename)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(filename)
            continue
        tmp = path.with_suffix(".ipynb.tmp")
        tmp.write_text(text)
        tmp.replace(path)  # atomic: a reader never sees half a notebook
        print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python colab/make_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

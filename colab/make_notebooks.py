"""Write the Colab notebooks of this folder from the cells below (the notebooks are generated: edit here).

    python colab/make_notebooks.py          # rewrite quickstart.ipynb, reproduce_mnist.ipynb, tune_gpu.ipynb
    python colab/make_notebooks.py --check  # exit 1 if a notebook differs from what this script writes

Every notebook opens with an "Open in Colab" badge, a guarded ``pip install`` and a
parameters cell: ``QUICK`` is true in CI (``RECTIFIER_ZOO_CI=1``) and anywhere that
is not Colab, so the notebooks run top to bottom in seconds there; ``CI`` shrinks
them further (a few hundred examples, one epoch) for ``tests/test_notebooks.py``.
Cell ids are fixed so regenerating gives the same bytes.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

HERE = pathlib.Path(__file__).resolve().parent
COLAB_URL = "https://colab.research.google.com/github/rectifier-zoo/rectifier_zoo/blob/main/colab/"
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"

INSTALL = """\
# Install the zoo unless it is already importable (in CI and in a checkout it is).
# A clone, not a wheel: the shipped models in exports/ come with it.
import importlib.util
import sys

if importlib.util.find_spec("rectifier_zoo") is None:
    !git clone -q --depth 1 https://github.com/rectifier-zoo/rectifier_zoo /content/rectifier_zoo
    !pip install -q --no-deps -e /content/rectifier_zoo && pip install -q keras-tuner
    sys.path.insert(0, "/content/rectifier_zoo")  # this kernel started before the install"""

PARAMETERS = """\
# Parameters. QUICK: small data and few epochs (CI, or any machine that is not Colab).
# CI (RECTIFIER_ZOO_CI=1, set by tests/test_notebooks.py): tinier still, a few seconds a model.
import os
import sys

IN_COLAB = "google.colab" in sys.modules
CI = os.environ.get("RECTIFIER_ZOO_CI") == "1"
QUICK = CI or not IN_COLAB
print(f"IN_COLAB={IN_COLAB} CI={CI} QUICK={QUICK}")"""


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text):
    return nbformat.v4.new_code_cell(text)


def header(filename, title, intro):
    return [md(f"{BADGE.format(url=COLAB_URL + filename)}\n\n# {title}\n\n{intro}"), code(INSTALL), code(PARAMETERS)]


def quickstart():
    return header(
        "quickstart.ipynb",
        "rectifier_zoo quickstart",
        "Sparse rectifier networks (Glorot, Bordes & Bengio 2011) as a Keras 3 zoo: list the entries, "
        "get a trained model, predict, and look at how sparse its hidden codes are.",
    ) + [
        code('import rectifier_zoo as rz\n\nprint(rz.list_models("fashion_mnist_*"))\nspec = rz.get_spec("fashion_mnist_rect_l1")\nprint(spec.recipe)'),
        md("## A trained model\n\n`rz.load` returns a shipped model from the repository's `exports/` (or the local "
           "cache): no training, no download. Fashion-MNIST comes from Debian's `dataset-fashion-mnist` here and "
           "from tensorflow-datasets in Colab; with neither, the notebook falls back to generated Shapeset and "
           "trains a small model."),
        code(
            "from rectifier_zoo.errors import DataError\n\n"
            'NAME = "fashion_mnist_rect_l1"\n'
            "try:\n"
            '    splits = rz.datasets.load("fashion_mnist", download=IN_COLAB)\n'
            '    CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]\n'
            "except DataError as err:\n"
            '    print(f"no Fashion-MNIST here ({err}); using generated Shapeset instead")\n'
            '    NAME, CLASSES = "shapeset_rect_l1", ["triangle", "rectangle", "ellipse"]\n'
            "    sizes = dict(n_train=300, n_valid=100, n_test=200) if CI else dict(n_train=3000, n_valid=1000, n_test=2000)\n"
            '    splits = rz.datasets.load("shapeset", seed=1, **sizes)  # seed 1: not the training seed\n'
            "try:\n"
            "    model = rz.load(NAME)\n"
            "except rz.ZooError as err:  # nothing shipped or cached for this entry\n"
            '    print(f"rz.load({NAME!r}) has nothing here ({type(err).__name__}); training it instead")\n'
            "    result = rz.train(NAME, quick=True, epochs=1 if CI else None, splits=splits if CI else None, verbose=0 if CI else 2)\n"
            "    print(result.summary())\n"
            "    model = result.model"
        ),
        md("## Predict"),
        code(
            "import numpy as np\n\n"
            "x, y = splits.test\n"
            "probs = model.predict(x, verbose=0)\n"
            "for p, label in zip(probs[:5], y[:5]):\n"
            '    print(f"predicted {CLASSES[int(np.argmax(p))]:<9} ({p.max():.0%}), true {CLASSES[label]}")\n'
            'print(f"test error on {len(y)} images: {np.mean(np.argmax(probs, axis=1) != y):.1%}")'
        ),
        md("## How sparse are the hidden codes?\n\nThe fraction of units that are exactly zero in each hidden "
           "layer, for one image, and over the test images (`rz.sparsity`)."),
        code(
            "import io\n\n"
            "from IPython.display import Image, display\n"
            "from matplotlib.figure import Figure\n\n"
            "from rectifier_zoo.sparsity_stats import probe\n\n"
            "codes_model, layer_names = probe(model)\n"
            "codes = codes_model.predict(x[:1], verbose=0)\n"
            "zeros = [100 * float(np.mean(c[0] == 0)) for c in codes]\n"
            "side = int(np.sqrt(x.shape[1]))  # 28 for Fashion-MNIST, 32 for Shapeset\n"
            "fig = Figure(figsize=(9, 3), layout=\"constrained\")\n"
            "ax_img, ax_bar = fig.subplots(1, 2)\n"
            'ax_img.imshow(x[0].reshape(side, side), cmap="gray")\n'
            'ax_img.set_title(f"a {CLASSES[y[0]]}")\n'
            'ax_img.axis("off")\n'
            "ax_bar.bar(layer_names, zeros)\n"
            'ax_bar.set_ylabel("units exactly zero (%)")\n'
            "ax_bar.set_ylim(0, 100)\n"
            "# Drawn to PNG bytes, so it shows the same under any matplotlib backend (Colab's inline, CI's Agg).\n"
            "png = io.BytesIO()\n"
            'fig.savefig(png, format="png")\n'
            "display(Image(png.getvalue()))\n"
            "for name, share in zip(layer_names, zeros):\n"
            '    print(f"{name}: {share:.1f}% zeros for this image")\n'
            "print(rz.sparsity(model, x))"
        ),
    ]


def reproduce_mnist():
    return header(
        "reproduce_mnist.ipynb",
        "Reproduce Table 1 on MNIST",
        "The workshop paper's Table 1 (rectifier + L1, rectifier, softplus, tanh; no pre-training) on MNIST "
        "with tensorflow-datasets, our test error and per-layer sparsity beside the paper's. In Colab it "
        "downloads MNIST and trains by the paper's recipe (hours: use a GPU runtime); in quick mode it uses "
        "Fashion-MNIST (a substitute, from `/usr/share/datasets/fashion-mnist`) or generated Shapeset. "
        "Each finished run is saved at once; rerunning the cell skips finished runs.",
    ) + [
        code(
            "import pathlib\n\n"
            "if not QUICK:\n"
            '    DATASET, DOWNLOAD = "mnist", True\n'
            'elif pathlib.Path("/usr/share/datasets/fashion-mnist").is_dir():\n'
            '    DATASET, DOWNLOAD = "fashion_mnist", False  # stands in for MNIST: same format, a harder task\n'
            "else:\n"
            '    DATASET, DOWNLOAD = "shapeset", False  # generated: nothing to download\n'
            "SEEDS = 1 if QUICK else 3\n"
            'OUT = pathlib.Path("runs/reproduce")\n'
            'print(f"reproducing Table 1 on {DATASET} with {SEEDS} seed(s) into {OUT}")'
        ),
        code(
            "from rectifier_zoo import reproduction\n\n"
            "runs = reproduction.plan([DATASET], seeds=SEEDS)\n"
            "results = reproduction.run_plan(runs, OUT, quick=QUICK, tiny=CI, download=DOWNLOAD, verbose=0 if CI else 2)\n"
            "print(reproduction.summary_table(results))"
        ),
        md("## The report\n\nMarkdown with figures, the same as `rectifier-zoo report --results runs/reproduce`."),
        code(
            "from IPython.display import Image, Markdown, display\n\n"
            "from rectifier_zoo import report\n\n"
            'path = report.write_report([OUT], "runs/report")\n'
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
        "Tune a zoo entry on a GPU (JAX backend)",
        "KerasTuner search of the learning rate and L1 penalty on the validation split, with "
        "`KERAS_BACKEND=jax` (choose a GPU runtime in Colab). Runs `rectifier-zoo tune`; in quick/CI mode "
        "a 2-trial search of `shapeset_rect_l1`.",
    ) + [
        code(
            '# Before Keras is imported: JAX runs the paper\'s tiny-batch SGD loop fast on a GPU.\n'
            'os.environ.setdefault("KERAS_BACKEND", "jax")\n'
            "import jax\n\n"
            "print(jax.devices())"
        ),
        code(
            "import pathlib\nimport subprocess\n\n\n"
            "def run(cmd):\n"
            '    """Run a command, streaming its output here; fail the cell if it fails."""\n'
            "    print(\"$\", \" \".join(cmd))\n"
            "    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:\n"
            "        for line in proc.stdout:\n"
            '            print(line, end="")\n'
            "    if proc.returncode:\n"
            '        raise RuntimeError(f"rectifier-zoo {\' \'.join(cmd[3:])} failed with exit status {proc.returncode}")\n\n\n'
            'NAME = "shapeset_rect_l1" if QUICK else "mnist_rect_l1"\n'
            'RESULTS = pathlib.Path("tuning_results")\n'
            'zoo_cli = [sys.executable, "-m", "rectifier_zoo"]\n'
            'has_tune = importlib.util.find_spec("rectifier_zoo.cli.tune_command") is not None\n'
            "if has_tune:\n"
            '    help_text = subprocess.run(zoo_cli + ["tune", "--help"], capture_output=True, text=True).stdout\n'
            '    cmd = zoo_cli + ["tune", NAME, "--max-trials", "2" if QUICK else "20"] + (["--quick"] if QUICK else [])\n'
            '    if "--results-dir" in help_text:  # keep results beside this notebook, not in the installed package\n'
            '        cmd += ["--results-dir", str(RESULTS)]\n'
            '    if "--download" in help_text and not QUICK:  # MNIST from tensorflow-datasets\n'
            '        cmd += ["--download"]\n'
            "    if CI:  # seconds, not minutes: one epoch of a tiny net per trial, no retraining\n"
            '        for flag, value in (("--epochs", "1"), ("--hidden", "16,16"), ("--no-retrain", None)):\n'
            "            if flag in help_text:\n"
            "                cmd += [flag] if value is None else [flag, value]\n"
            "    run(cmd)\n"
            "else:\n"
            '    print("tuning is unavailable: this version of rectifier-zoo has no `tune` command")'
        ),
        md("## The best hyper-parameters\n\n`rz.get_spec(name)` applies a search's results from `tuning/results/`; "
           "results written elsewhere apply with `zoo.apply_tuned`."),
        code(
            "import json\n\n"
            "import rectifier_zoo as rz\n"
            "from rectifier_zoo import zoo\n\n"
            'found = sorted(RESULTS.glob("*.json"))\n'
            "for path in found:\n"
            '    hp = json.loads(path.read_text())["hyperparameters"]\n'
            '    print(path.name, hp)\n'
            "    print(zoo.apply_tuned(rz.get_spec(path.stem, tuned=False), hp).recipe)\n"
            "if not found:\n"
            '    print("no tuning results here yet; the zoo\'s recipe for", NAME, "is", rz.get_spec(NAME).recipe)'
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

# Install the zoo unless it is already importable (in CI and in a checkout it is).
# A clone, not a wheel: the shipped models in exports/ come with it.
# The rule: the runtime's own TensorFlow, Keras, JAX and NumPy (and tensorboard,
# tensorflow-datasets) are kept as they are. pip installs the zoo and whatever else it
# needs (pyproject.toml) under a constraints file pinning those at their installed
# versions, so it never replaces them under a running Colab. If one of them is outside
# the range the zoo declares, the cell stops before pip runs and says what to do.
# Any failed step stops the cell with what failed and why.
import importlib.metadata
import importlib.util
import pathlib
import subprocess
import sys
import tempfile

REPO_URL = "https://github.com/rectifier-zoo/rectifier_zoo"
CLONE = pathlib.Path("/content/rectifier_zoo")
KEEP = ("tensorflow", "keras", "jax", "jaxlib", "numpy", "tensorboard", "tensorflow-datasets")
PIP = [sys.executable, "-m", "pip"]


class InstallError(RuntimeError):
    """The zoo could not be installed; the message says what failed and what to do."""


def run_step(cmd, what, fix):
    """Run ``cmd``; if it fails, stop with its last lines of output and ``fix``."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as err:  # e.g. no git on this machine
        raise InstallError(f"{what} could not start ({err}). {fix}") from None
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout or "no output").strip().splitlines()[-3:])
        raise InstallError(f"{what} failed (exit status {done.returncode}): {tail}. {fix}")


def declared(pyproject):
    """{package: version range} of the zoo's runtime dependencies, read from its pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        from pip._vendor import tomli as tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    deps = tomllib.loads(pathlib.Path(pyproject).read_text())["project"]["dependencies"]
    return {canonicalize_name(r.name): r.specifier for r in map(Requirement, deps)}


def installed_versions():
    """The installed version of each package of KEEP that this runtime has."""
    found = {}
    for name in KEEP:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def pins(ranges, installed):
    """pip constraints keeping each installed package of KEEP; InstallError if one is out of range."""
    lines = []
    for name, version in installed.items():
        wanted = ranges.get(name)
        if wanted is not None and not wanted.contains(version, prereleases=True):
            raise InstallError(
                f"this runtime has {name} {version} but the zoo needs {name}{wanted}, and the install keeps "
                f"the runtime's own {name} rather than replace it under a running kernel. Choose a runtime that "
                f"has it (Runtime > Change runtime type > Runtime version), or replace it yourself: run "
                f"`!pip install '{name}{wanted}'`, then Runtime > Restart session, then this notebook again"
            )
        lines.append(f"{name}=={version}")
    return lines


def install_zoo(clone=CLONE, repo_url=REPO_URL):
    """Clone the repository (unless it is there), pip install it by the rule above, import it."""
    clone = pathlib.Path(clone)
    if not (clone / "pyproject.toml").is_file():
        run_step(
            ["git", "clone", "-q", "--depth", "1", repo_url, str(clone)],
            f"git clone {repo_url}",
            f"Check that this runtime is online and that {repo_url} opens, then run this cell again",
        )
    kept = pins(declared(clone / "pyproject.toml"), installed_versions())
    with tempfile.NamedTemporaryFile("w", suffix="-constraints.txt", delete=False) as constraints:
        constraints.write("\n".join(kept) + "\n")
    run_step(
        PIP + ["install", "-q", "-e", str(clone), "-c", constraints.name],
        f"pip install -e {clone}",
        "Fix what pip names (often the network) and run this cell again",
    )
    sys.path.insert(0, str(clone))  # this kernel started before the install
    importlib.invalidate_caches()
    import rectifier_zoo  # noqa: F401  (an install that does not import fails here, not cells later)

    print(f"installed rectifier_zoo from {clone}, keeping {', '.join(kept) or 'no preinstalled package'}")


if importlib.util.find_spec("rectifier_zoo") is None:
    install_zoo()
else:
    print("rectifier_zoo is installed:", pathlib.Path(importlib.util.find_spec("rectifier_zoo").origin).parent)

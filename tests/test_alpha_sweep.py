"""The AISTATS NORB softplus-to-rectifier sweep: (1/α)·softplus(αx), its plan, runs and report section."""

import json
import math
import os
import statistics
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from test_reproduction import PNG_SIGNATURE, fake, fake_train, write  # noqa: F401 (a fixture)

from rectifier_zoo import cli, zoo
from rectifier_zoo.reproduction import report, runs as reproduction
from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.layers import ScaledSoftplus

X = np.linspace(-6, 6, 121).astype("float32")
pytestmark = pytest.mark.usefixtures("zoo_home")


def scaled(alpha, x=X):
    return keras.ops.convert_to_numpy(ScaledSoftplus(alpha)(x))


# ---------------------------------------------------------------- the activation


def test_alpha_1_is_softplus_and_large_alpha_is_the_rectifier():
    softplus = np.log1p(np.exp(X.astype("float64")))
    np.testing.assert_allclose(scaled(1.0), softplus, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(scaled(2.0), np.log1p(np.exp(2.0 * X.astype("float64"))) / 2.0, rtol=1e-6, atol=1e-6)
    # the gap to the rectifier is at most log(2)/α, at x = 0
    gap = scaled(1e4) - np.maximum(X, 0)
    assert gap.min() >= 0 and gap.max() == pytest.approx(math.log(2) / 1e4, rel=1e-3)


def test_no_overflow_for_large_alpha_and_inputs():
    values = scaled(1e4, np.array([-1e4, 1e4], "float32"))
    assert np.all(np.isfinite(values)) and values.tolist() == [0.0, 1e4]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        x = tf.constant([-1e4, -1.0, 1.0, 1e4])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = ScaledSoftplus(1e4)(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.0, 0.0, 1.0, 1.0])  # the rectifier's slopes


@pytest.mark.parametrize("alpha", [0, -1.0, math.inf, math.nan, True, "2"])
def test_alpha_must_be_a_finite_positive_number(alpha):
    with pytest.raises(ConfigError, match=r"softplus_alpha must be a finite number > 0.*_rect entry for α = ∞"):
        ScaledSoftplus(alpha)


# ---------------------------------------------------------------- models


def test_build_model_uses_the_scaled_softplus_only_when_asked():
    model = zoo.build_model("shapeset_softplus", softplus_alpha=2)
    hidden = [model.get_layer(f"hidden_{i}") for i in (1, 2, 3)]
    assert all(isinstance(layer.activation, ScaledSoftplus) and layer.activation.alpha == 2.0 for layer in hidden)
    assert [layer.name for layer in model.layers] == ["features", "hidden_1", "hidden_2", "hidden_3", "probabilities"]
    assert zoo.build_model("shapeset_softplus").get_layer("hidden_1").activation is keras.activations.softplus


def test_build_model_refuses_alpha_where_it_does_not_apply():
    with pytest.raises(ConfigError, match=r"softplus neurons only, not 'rect'; drop softplus_alpha, or use a _softplus entry"):
        zoo.build_model("shapeset_rect", softplus_alpha=2)
    with pytest.raises(ConfigError, match="softplus neurons only, not 'tanh'"):
        zoo.build_model("shapeset_softplus", neuron="tanh", softplus_alpha=2)
    with pytest.raises(ConfigError, match="without pre-training; use shapeset_softplus instead of shapeset_softplus_dae"):
        zoo.build_model("shapeset_softplus_dae", softplus_alpha=2)
    with pytest.raises(ConfigError, match="finite number > 0, got 0"):
        zoo.build_model("shapeset_softplus", softplus_alpha=0)


def test_safe_mode_round_trip_keeps_alpha_and_predictions(tmp_path):
    model = zoo.build_model("shapeset_softplus", softplus_alpha=3, hidden=(16, 8), seed=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("hidden_2").activation, ScaledSoftplus)
    assert loaded.get_layer("hidden_2").activation.get_config() == {"alpha": 3.0}
    x = np.random.default_rng(0).normal(size=(8, 1024)).astype("float32") * 4
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


JAX_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import keras, numpy as np
    from rectifier_zoo.nn.layers import ScaledSoftplus
    from rectifier_zoo.nn.models import build_classifier

    x = np.linspace(-6, 6, 13).astype("float32")
    soft = keras.ops.convert_to_numpy(ScaledSoftplus(1.0)(x))
    model = build_classifier(20, 3, hidden=(8,), neuron="softplus", softplus_alpha=2.0, seed=0)
    path = os.path.join(tempfile.mkdtemp(), "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    z = np.random.default_rng(0).normal(size=(4, 20)).astype("float32")
    print(json.dumps({
        "backend": keras.backend.backend(),
        "softplus_error": float(np.abs(soft - np.log1p(np.exp(x))).max()),
        "same": bool(np.array_equal(model.predict(z, verbose=0), loaded.predict(z, verbose=0))),
    }))
    """
)


def test_scaled_softplus_runs_and_round_trips_on_jax():
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", JAX_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["backend"] == "jax" and facts["softplus_error"] < 1e-5 and facts["same"]


# ---------------------------------------------------------------- plans and the command line


def test_plan_sweeps_softplus_alphas_then_the_rectifier_point():
    runs = reproduction.plan(["shapeset"], alpha_sweep=[1, 2])
    assert [r.run_id() for r in runs] == [
        "shapeset_softplus--alpha-1--seed0",
        "shapeset_softplus--alpha-2--seed0",
        "shapeset_rect--alpha-inf--seed0",
    ]
    assert runs[-1].alpha == math.inf and all(r.l1 is None for r in runs)
    two = reproduction.plan(["shapeset", "mnist"], seeds=2, alpha_sweep=[1.3, math.inf, 1.3])  # ∞ and repeats once
    assert [(r.name, r.alpha, r.seed) for r in two] == [
        (f"{d}_{n}", a, s) for d in ("shapeset", "mnist") for n, a in (("softplus", 1.3), ("rect", math.inf)) for s in (0, 1)
    ]
    assert reproduction.DEFAULT_ALPHA_SWEEP == (1.0, 1.3, 2.0, 3.0, 6.0)


def test_plan_refuses_empty_and_non_positive_alpha_sweeps():
    with pytest.raises(ConfigError, match="needs at least one value, e.g. --alpha-sweep 1 2 6"):
        reproduction.plan(["shapeset"], alpha_sweep=[])
    with pytest.raises(ConfigError, match="α sweep value must be a number > 0, got 0"):
        reproduction.plan(["shapeset"], alpha_sweep=[1, 0])


def test_alpha_sweep_passes_alpha_and_tags_its_results(fake_train, tmp_path, capsys):  # noqa: F811
    assert cli.main(["reproduce", "--alpha-sweep", "--out", str(tmp_path)]) == 0
    assert [(n, kw.get("softplus_alpha")) for n, kw in fake_train] == [
        *(("shapeset_softplus", a) for a in (1.0, 1.3, 2.0, 3.0, 6.0)), ("shapeset_rect", None)  # ∞: the entry as it is
    ]
    hp = json.loads((tmp_path / "shapeset_softplus--alpha-1.3--seed0.json").read_text())["hyperparameters"]
    assert hp["alpha_sweep"] is True and hp["softplus_alpha"] == 1.3 and hp["l1_sweep"] is False
    rect = json.loads((tmp_path / "shapeset_rect--alpha-inf--seed0.json").read_text())["hyperparameters"]
    assert rect["softplus_alpha"] == "inf"  # strict JSON has no infinity
    printed = capsys.readouterr().out
    assert "Softplus-to-rectifier α sweep" in printed
    assert "| shapeset_rect (α = ∞) | 1 | 25.00% | 16.40% (NORB) |" in printed


def test_alpha_and_l1_sweeps_are_exclusive(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "--alpha-sweep", "2", "--l1-sweep"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "not allowed with argument --" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--alpha-sweep", "-1"])
    assert "must be a number > 0" in capsys.readouterr().err


# ---------------------------------------------------------------- report


def alpha_result(name, seed, error, alpha, mode="full"):
    data = fake(name, seed, error, (0.5, 0.5, 0.5), quick=mode == "quick", l1=0.0)
    data["hyperparameters"].update({"alpha_sweep": True, "softplus_alpha": alpha})
    return data


def test_report_tables_alpha_runs_apart_from_the_entries(tmp_path):
    results = tmp_path / "results"
    for seed, err in enumerate([0.30, 0.34]):
        write(results, f"a2-{seed}.json", alpha_result("shapeset_softplus", seed, err, 2.0))
    write(results, "ainf.json", alpha_result("shapeset_rect", 0, 0.28, "inf"))
    write(results, "table.json", fake("shapeset_rect", 0, 0.40, (0.5, 0.5, 0.5), l1=0.0))
    text = report.write_report([results], tmp_path / "report").read_text()

    section = text[text.index("## Softplus to rectifier: (1/α)·softplus(αx)"):]
    cell = f"{statistics.fmean([30, 34]):.2f} ± {statistics.stdev([30, 34]):.2f}%"
    assert f"| 2 | 2 | {cell} | 16.90% |" in section
    assert "| ∞ | 1 | 28.00% | 16.40% |" in section
    assert "| 1.3 | 0 | not yet run here | 17.53% |" in section
    assert "| test error, ours: Shapeset (substitute: generated here) | test error, paper: NORB |" in section
    assert "Ours: 32.00% at α = 2, 28.00% at ∞ (-4.00 points); the paper's NORB error falls 1.28 points" in section
    assert "`<dataset>_rect` entry with no L1 penalty" in section
    assert (tmp_path / "report" / "figures" / "shapeset_softplus_alpha.png").read_bytes()[:8] == PNG_SIGNATURE
    # the table cells hold the one table run only
    assert "| 1 | 40.00% | 29.86% |" in next(line for line in text.splitlines() if "(`shapeset_rect`)" in line)
    assert "not yet run here" in next(line for line in text.splitlines() if "(`shapeset_softplus`)" in line)


def test_report_says_how_to_run_the_sweep_when_it_is_missing(tmp_path):
    write(tmp_path / "r", "x.json", fake("shapeset_rect", 0, 0.40, (0.5, 0.5, 0.5), l1=0.0))
    text = report.write_report([tmp_path / "r"], tmp_path / "out").read_text()
    assert "Not yet run here: `rectifier-zoo reproduce --alpha-sweep` trains it." in text
    assert "is not run by this tooling" not in text


def test_tiny_alpha_sweep_trains_the_scaled_softplus_then_reports(tmp_path, monkeypatch):
    built = []
    real_build = zoo.build_model

    def spy(name, **kwargs):
        model = real_build(name, **{**kwargs, "hidden": (32, 32, 32)})  # the real pipeline, a smaller net
        built.append((name, repr(model.get_layer("hidden_1").activation)))
        return model

    monkeypatch.setattr(zoo, "build_model", spy)
    out = tmp_path / "runs"
    results = reproduction.run_plan(reproduction.plan(["shapeset"], alpha_sweep=[1, 2]), out, tiny=True, verbose=0, say=lambda _: None)
    assert [name for name, _ in built] == ["shapeset_softplus", "shapeset_softplus", "shapeset_rect"]
    assert [act for _, act in built][:2] == ["ScaledSoftplus(alpha=1)", "ScaledSoftplus(alpha=2)"]
    assert [r.hyperparameters["softplus_alpha"] for r in results] == [1.0, 2.0, "inf"]

    path = report.write_report([out], tmp_path / "report")
    text = path.read_text()
    errors = {r.hyperparameters["softplus_alpha"]: r.test_error for r in results}
    assert f"| 2 | 1 (tiny) | {errors[2.0]:.2%} | 16.90% |" in text
    assert f"| ∞ | 1 (tiny) | {errors['inf']:.2%} | 16.40% |" in text
    assert "](figures/shapeset_softplus_alpha.png)" in text
    assert (path.parent / "figures" / "shapeset_softplus_alpha.png").read_bytes()[:8] == PNG_SIGNATURE

"""TensorFlow's C++ start-up lines obey TF_CPP_MIN_LOG_LEVEL; real errors always show, even from a dying import."""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest

from rectifier_zoo._internal import tf_logs

# What TF 2.21 prints on a CPU machine while it loads (measured), and lines that must stay.
STARTUP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796122121.340177    7154 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\n",
    "I0000 00:00:1796122143.663681    7417 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n",
    "W0000 00:00:1796122143.700000    7417 gpu_device.cc:2342] Cannot dlopen some GPU libraries.\n",
    "E0000 00:00:1796122128.231919    7154 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
]
REAL = [
    "E0000 00:00:1796122200.000001    7154 op_kernel.cc:1830] OP_REQUIRES failed at matmul_op.cc:12 : INVALID_ARGUMENT\n",
    "F0000 00:00:1796122200.000002    7154 logging.cc:88] Check failed: ok\n",
    "Traceback (most recent call last):\n",
    "ValueError: something the user must see\n",
]


def test_the_startup_lines_are_noise_at_the_default_level_on_a_cpu_machine():
    assert [tf_logs.is_noise(line, 2, driver=False) for line in STARTUP] == [True] * len(STARTUP)
    assert [tf_logs.is_noise(line, 2, driver=False) for line in REAL] == [False] * len(REAL)


def test_cuinit_failing_is_an_error_where_there_is_a_driver():
    assert not tf_logs.is_noise(STARTUP[-1], 2, driver=True)


def test_level_zero_drops_nothing_and_level_one_only_info():
    assert not any(tf_logs.is_noise(line, 0, driver=False) for line in STARTUP + REAL)
    kept = [line for line in STARTUP if not tf_logs.is_noise(line, 1, driver=False)]
    assert kept == [STARTUP[0], STARTUP[4]]  # the banner and the warning; INFO and the driverless cuInit go


def test_filtered_writes_back_all_but_the_noise(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setattr(tf_logs, "has_nvidia_driver", lambda: False)
    with tf_logs.filtered():
        for line in STARTUP + REAL:
            os.write(2, line.encode())
    assert capfd.readouterr().err == "".join(REAL)


def test_filtered_writes_back_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with pytest.raises(RuntimeError, match="boom"):
        with tf_logs.filtered():
            os.write(2, (STARTUP[1] + REAL[0]).encode())
            raise RuntimeError("boom")
    assert capfd.readouterr().err == REAL[0]


def test_level_zero_captures_nothing(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with tf_logs.filtered():
        os.write(2, STARTUP[1].encode())
    assert capfd.readouterr().err == STARTUP[1]


def test_forward_copies_all_but_the_noise_and_the_last_line_without_its_newline():
    read_end, write_end = os.pipe()
    os.write(write_end, "".join(STARTUP + REAL).encode() + b"cut short by a crash")
    os.close(write_end)
    out_read, out_write = os.pipe()
    tf_logs.forward(2, False, source=read_end, sink=out_write)
    os.close(out_write)
    with os.fdopen(out_read) as forwarded:
        assert forwarded.read() == "".join(REAL) + "cut short by a crash"
    os.close(read_end)


def test_a_block_inside_a_filtered_block_shares_its_child(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setattr(tf_logs, "has_nvidia_driver", lambda: False)
    with tf_logs.filtered():
        inner = os.fstat(2)
        with tf_logs.filtered():  # Keras importing TensorFlow
            assert os.fstat(2) == inner  # no second pipe
            os.write(2, (STARTUP[1] + REAL[0]).encode())
    assert capfd.readouterr().err == REAL[0]


# A TensorFlow that dies while it loads, as a fatal C++ check does: its lines written
# to descriptor 2 (the noise, then the fatal one), then the process is gone.
FAKE_TENSORFLOW = """
import os
os.write(2, {noise!r}.encode())
os.write(2, {fatal!r}.encode())
{death}
"""
FATAL = "F0000 00:00:1796122200.000002    7154 fake_tf.cc:1] Check failed: the fake TensorFlow dies while it loads\n"


@pytest.mark.parametrize("death, returncode", [("os.abort()", -signal.SIGABRT), ("os._exit(3)", 3)])
@pytest.mark.parametrize(
    "trigger",
    [
        "import rectifier_zoo; import keras",  # a user's plain Keras, after the zoo
        "import rectifier_zoo; import tensorflow",
        "from rectifier_zoo.cli import quiet_import_keras; quiet_import_keras()",  # every Keras command
    ],
)
def test_a_fatal_error_while_tensorflow_loads_still_reaches_stderr(tmp_path, trigger, death, returncode):
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(textwrap.dedent(FAKE_TENSORFLOW.format(noise=STARTUP[1], fatal=FATAL, death=death)))
    repo = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(repo)]),
           "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", trigger], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == returncode, done.stderr[-2000:]
    assert done.stderr == FATAL  # the fatal line came through, the start-up noise did not

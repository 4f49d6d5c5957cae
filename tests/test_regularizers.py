import keras
import numpy as np
import pytest

from rectifier_zoo.errors import ConfigError
from rectifier_zoo.nn.regularizers import ActivityL1, l1_penalty

H = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, -1.0]], dtype="float32")


def penalty_of(layer, x):
    model = keras.Sequential([keras.Input((x.shape[1],)), layer])
    model(x)
    assert len(model.losses) == 1
    return float(keras.ops.convert_to_numpy(model.losses[0]))


def test_value_worked_by_hand():
    # per-example sums of |h|: 3 and 4; their mean 3.5; times l1 = 0.5 -> 1.75
    assert penalty_of(ActivityL1(0.5), H) == pytest.approx(1.75)
    assert float(keras.ops.convert_to_numpy(l1_penalty(H, 0.5))) == pytest.approx(1.75)


def test_batch_repeated_twice_gives_the_same_value():
    assert penalty_of(ActivityL1(0.01), np.concatenate([H, H])) == pytest.approx(penalty_of(ActivityL1(0.01), H))


def test_passes_values_through_unchanged():
    model = keras.Sequential([keras.Input((3,)), ActivityL1(0.1)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(H)), H)


def test_zero_l1_adds_no_loss():
    model = keras.Sequential([keras.Input((3,)), ActivityL1(0.0)])
    model(H)
    assert model.losses == []


def test_penalty_enters_the_training_loss_with_our_scaling():
    # A model whose only loss is the penalty: the loss fit reports is l1 * mean_b sum_u |h|.
    model = keras.Sequential([keras.Input((3,)), ActivityL1(0.5)])
    model.compile(optimizer="sgd")
    for batch_size in (1, 2):
        logs = model.evaluate(H, batch_size=batch_size, verbose=0, return_dict=True)
        assert logs["loss"] == pytest.approx(1.75)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "a lot", None])
def test_bad_l1_is_refused_with_its_value(bad):
    with pytest.raises(ConfigError, match="l1"):
        ActivityL1(bad)


def test_config_round_trip():
    layer = ActivityL1(0.003, name="pen")
    clone = ActivityL1.from_config(layer.get_config())
    assert clone.l1 == 0.003 and clone.name == "pen"


def test_penalty_is_float32_under_mixed_float16(mixed_float16):
    layer = ActivityL1(0.5)
    model = keras.Sequential([keras.Input((3,)), layer])
    out = model(H)
    assert layer.compute_dtype == "float16" and keras.backend.standardize_dtype(out.dtype) == "float16"
    (penalty,) = model.losses
    assert keras.backend.standardize_dtype(penalty.dtype) == "float32"
    assert float(keras.ops.convert_to_numpy(penalty)) == pytest.approx(1.75)


def test_penalty_of_float16_codes_is_summed_in_float32():
    # 1000 rectifier units at 100 each: their float16 sum, 100,000, overflows (float16 tops at 65,504).
    h = keras.ops.full((2, 1000), 100.0, dtype="float16")
    assert not np.isfinite(float(keras.ops.convert_to_numpy(keras.ops.sum(h[0]))))
    penalty = l1_penalty(h, 0.001)
    assert keras.backend.standardize_dtype(penalty.dtype) == "float32"
    assert float(keras.ops.convert_to_numpy(penalty)) == pytest.approx(100.0)

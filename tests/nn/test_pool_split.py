"""Max-pooling split over the cores by blocks of samples (tinytorch/_ops/pooling.py, through conv's
``_by_samples``): the same values, indices and gradients, bit for bit, as the whole batch at once,
for the geometries the op table draws (1-D, 2-D, 3-D; stride, padding, dilation, ceil_mode), with
ties, NaN and -inf in the windows."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch._ops import pooling

from ..ops.op_table import _pool_sample


@pytest.fixture
def split(monkeypatch, splits_made):
    monkeypatch.setattr(pooling, "_SPLIT_MIN", 0)
    return splits_made


def _pool(x, spatial, kwargs, seed):
    tensor = tinytorch.tensor(x, requires_grad=True)
    result = getattr(tinytorch.nn.functional, f"max_pool{spatial}d")(tensor, **kwargs)
    out, indices = result if kwargs.get("return_indices") else (result, None)
    w = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    with np.errstate(invalid="ignore"):  # inf - inf in the sum of an output holding both
        (out * tinytorch.tensor(w)).sum().backward()
    return out.detach().numpy(), None if indices is None else indices.numpy(), tensor.grad.numpy()


@pytest.mark.parametrize("spatial", [1, 2, 3])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_split_pooling_gives_the_whole_batchs_bits(split, monkeypatch, spatial, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    (x,), kwargs = _pool_sample(spatial, "max")(data.draw, rng)
    count = data.draw(st.integers(2, 5), label="batch")
    x = rng.integers(-3, 3, size=(count,) + x.shape[-(spatial + 1):]).astype(np.float64)  # ties
    for value in data.draw(st.lists(st.sampled_from([np.nan, -np.inf, np.inf]), max_size=3), label="specials"):
        x.reshape(-1)[rng.integers(x.size)] = value
    del split[:]
    ours = _pool(x, spatial, kwargs, 1)
    assert split and all(bounds[0] == 0 and bounds[-1] == count and len(bounds) > 2 for bounds in split)
    with monkeypatch.context() as whole:
        whole.setattr(pooling, "_by_samples", lambda function, count, images, minimum=None: function(0, count))
        reference = _pool(x, spatial, kwargs, 1)
    for got, want in zip(ours, reference):
        if want is not None:
            np.testing.assert_array_equal(got, want)

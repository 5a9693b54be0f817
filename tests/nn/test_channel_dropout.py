"""Dropout1d/2d/3d: whole channels zeroed, the rest scaled by 1/(1-p); PyTorch's shapes, warnings
and errors. The draws are tinytorch's own (a seed reproduces them), so the tests check properties."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_same_error, numpy_of

CASES = [  # (module, functional, input shape, how many leading dims are drawn per channel)
    ("Dropout1d", "dropout1d", (40, 50, 7), 2),
    ("Dropout1d", "dropout1d", (2000, 7), 1),  # unbatched (C, L)
    ("Dropout2d", "dropout2d", (40, 50, 3, 4), 2),
    ("Dropout3d", "dropout3d", (40, 50, 2, 3, 2), 2),
    ("Dropout3d", "dropout3d", (2000, 2, 3, 2), 1),  # unbatched (C, D, H, W)
]


@pytest.mark.parametrize("module, functional, shape, kept", CASES)
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_whole_channels_are_dropped_and_the_rest_scaled(module, functional, shape, kept, p, device):
    x = tinytorch.rand(*shape, device=device) + 0.5  # no zeros of its own
    out = getattr(nn, module)(p)(x)
    assert out.shape == x.shape and out.device.type == device
    ratio = numpy_of(out) / numpy_of(x)
    per_channel = ratio.reshape(ratio.shape[:kept] + (-1,))
    # One draw per channel: every element of a channel shares its fate.
    assert np.allclose(per_channel, per_channel[..., :1], rtol=1e-6)
    fate = per_channel[..., 0]
    assert set(np.unique(np.round(fate, 5))) <= {0.0, round(1 / (1 - p), 5)}
    assert (fate == 0).mean() == pytest.approx(p, abs=0.05)  # 2000 channels: over 4 standard deviations
    assert getattr(F, functional)(x, p).shape == x.shape


@pytest.mark.parametrize("module, functional, shape, kept", CASES)
def test_gradient_is_the_mask_and_eval_is_the_identity(module, functional, shape, kept):
    x = tinytorch.rand(*shape, requires_grad=True)
    layer = getattr(nn, module)(0.4)
    out = layer(x)
    out.backward(tinytorch.ones_like(out))
    np.testing.assert_allclose(numpy_of(x.grad), numpy_of(out) / numpy_of(x), rtol=1e-5)
    assert layer.eval()(x) is x
    assert getattr(F, functional)(x, 0.4, training=False) is x
    assert getattr(F, functional)(x, 0.0) is x


def test_edge_probabilities_in_place_and_seeds():
    x = tinytorch.randn(2, 3, 4, 4)
    assert (numpy_of(F.dropout2d(x, 1.0)) == 0).all()
    y = x.clone()
    assert F.dropout2d(y, 0.5, inplace=True) is y
    kept = numpy_of(y) != 0
    assert np.array_equal(kept.all(axis=(2, 3)), kept.any(axis=(2, 3)))
    z = tinytorch.randn(3, 4)
    assert F.dropout1d(z, 0.5, inplace=True) is z
    tinytorch.manual_seed(5)
    first = numpy_of(F.dropout3d(x.unsqueeze(2), 0.5))
    tinytorch.manual_seed(5)
    assert np.array_equal(first, numpy_of(F.dropout3d(x.unsqueeze(2), 0.5)))
    assert F.dropout2d(tinytorch.ones(0, 3, 2, 2)).shape == (0, 3, 2, 2)


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for name, kwargs in [("Dropout1d", {}), ("Dropout2d", dict(p=0.25)), ("Dropout3d", dict(p=0.1, inplace=True))]:
        assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))
        assert getattr(nn, name)(**kwargs).state_dict() == {}


def test_errors_and_warnings_match_torch():
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: F.dropout1d(tinytorch.ones(3)), lambda: torch.nn.functional.dropout1d(torch.ones(3)))
    assert_same_error(lambda: F.dropout1d(tinytorch.ones(2, 3, 4, 5)), lambda: torch.nn.functional.dropout1d(torch.ones(2, 3, 4, 5)))
    assert_same_error(lambda: nn.Dropout2d(1.5), lambda: torch.nn.Dropout2d(1.5))
    assert_same_error(lambda: F.dropout3d(tinytorch.ones(2, 3, 4, 5), -0.5), lambda: torch.nn.functional.dropout3d(torch.ones(2, 3, 4, 5), -0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(lambda: F.dropout2d(tinytorch.ones(3)), lambda: torch.nn.functional.dropout2d(torch.ones(3)))
    for shape in [(2, 3), (2, 3, 4), (2, 3, 4, 5, 6)]:
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            F.dropout2d(tinytorch.ones(*shape))
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            torch.nn.functional.dropout2d(torch.ones(*shape))
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] and ours
        assert all(w.filename == __file__ for w in ours)  # attributed to the caller's line
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d"):
        F.dropout3d(tinytorch.ones(2, 3, 4))

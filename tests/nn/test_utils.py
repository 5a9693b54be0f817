"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

from .helpers import numpy_of


def _with_grads(lib, grads):
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*np.shape(g), dtype=lib.float64))
        p.grad = lib.tensor(np.array(g, dtype=np.float64))
        params.append(p)
    return params


GRADS = [[[3.0, -4.0], [1.0, 2.0]], [12.0, -0.5, 0.25], [[[-7.0]]]]


@pytest.mark.parametrize("max_norm", [0.5, 5.0, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = _with_grads(tinytorch, GRADS), _with_grads(torch, GRADS)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(numpy_of(p.grad), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_by_hand():
    (p,) = _with_grads(tinytorch, [[3.0, 4.0]])
    total = clip_grad_norm_(p, 1.0)  # a single tensor is accepted too
    assert isinstance(total, tinytorch.Tensor) and total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(numpy_of(p.grad), [0.6, 0.8], rtol=1e-5)
    (q,) = _with_grads(tinytorch, [[0.3, 0.4]])
    clip_grad_norm_([q], 1.0)
    assert numpy_of(q.grad).tolist() == [0.3, 0.4]  # below max_norm: untouched


def test_clip_grad_norm_skips_missing_grads_and_handles_none_at_all():
    model = nn.Linear(2, 2)
    assert clip_grad_norm_(model.parameters(), 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_nonfinite():
    params = _with_grads(tinytorch, [[float("inf"), 1.0]])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert np.isinf(clip_grad_norm_(params, 1.0).item())


def test_clip_grad_value():
    params = _with_grads(tinytorch, GRADS)
    clip_grad_value_(params, 1.5)
    assert numpy_of(params[0].grad).tolist() == [[1.5, -1.5], [1.0, 1.5]]
    assert numpy_of(params[2].grad).tolist() == [[[-1.5]]]


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = parameters_to_vector(model.parameters())
    assert vector.shape == (11,)
    np.testing.assert_array_equal(numpy_of(vector[:6]), numpy_of(model[0].weight).reshape(-1))
    vector_to_parameters(tinytorch.arange(11, dtype=tinytorch.float32), model.parameters())
    assert numpy_of(model[0].weight).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert numpy_of(model[1].bias).tolist() == [10]
    parameters_to_vector(model.parameters()).sum().backward()  # differentiable
    assert numpy_of(model[1].weight.grad).tolist() == [[1, 1]]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1, 2], model.parameters())

"""In-place writes through views, as PyTorch: one element picked by integers is a 0-d view that
in-place ops write through (NumPy would hand back a copy), and a base that does not require grad
takes the graph of what is written into its view (PyTorch's CopySlices) — before, both were lost
silently."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

WRITES = {
    "fill_element": lambda L, b, x: b[0].fill_(7),
    "add_element": lambda L, b, x: b[-1].add_(1),
    "copy_element_2d": lambda L, b, x: b.view(1, 3)[0, 1].copy_(L.tensor(4.0)),
    "ellipsis_element": lambda L, b, x: b[..., 2].mul_(3),
    "copy_grad_into_element": lambda L, b, x: b[0].copy_(x[0]),
    "copy_grad_into_slice": lambda L, b, x: b[1:].copy_(x * x),
    "add_grad_into_slice": lambda L, b, x: b[:2].add_(x.exp()),
    "mul_grad_into_strided": lambda L, b, x: b[::2].mul_(x),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_through_views_match_torch(name):
    results = []
    for L in (torch, tinytorch):
        x = L.tensor([2.0, 5.0], requires_grad=True)
        b = L.tensor([1.0, 2.0, 3.0])
        WRITES[name](L, b, x)
        values = b.detach().numpy().copy()
        grad = None
        if b.requires_grad:
            (b * L.tensor([3.0, 1.0, 0.5])).sum().backward()
            grad = x.grad.numpy().copy()
        results.append((values, b.requires_grad, grad))
    (theirs, ours) = results
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1] == theirs[1]
    if theirs[2] is None:
        assert ours[2] is None
    else:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)


def test_an_element_view_shares_the_version_counter():
    b = tinytorch.zeros(3)
    element = b[1]
    assert element._base is b and element.storage_offset() == 1
    b.add_(1)
    assert element.item() == 1.0 and element._version[0] == b._version[0]


def test_the_write_through_gradient_is_differentiable_again():
    x = tinytorch.tensor([2.0, 5.0], requires_grad=True)
    b = tinytorch.zeros(3)
    b[1:].copy_(x * x)
    (g,) = tinytorch.autograd.grad(b.sum(), x, create_graph=True)
    (gg,) = tinytorch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [4.0, 10.0])
    np.testing.assert_allclose(gg.numpy(), [2.0, 2.0])

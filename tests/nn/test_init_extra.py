"""nn.init's dirac_ and sparse_, and the deprecated names without the underscore, against torch."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.nn import init


@pytest.mark.parametrize("shape, groups", [((3, 16, 5), 1), ((4, 2, 3, 3), 2), ((6, 4, 3, 3), 3), ((2, 3, 3, 3, 3), 1),
                                           ((5, 5, 2, 2), 5), ((2, 4, 4), 1)])
def test_dirac_matches_torch(shape, groups, device):
    torch = pytest.importorskip("torch")
    ours = init.dirac_(tinytorch.randn(*shape, device=device), groups)
    theirs = torch.nn.init.dirac_(torch.randn(*shape), groups)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


def test_dirac_keeps_a_convolution_identity():
    conv = tinytorch.nn.Conv2d(3, 3, 3, padding=1, bias=False)
    init.dirac_(conv.weight)
    x = tinytorch.randn(1, 3, 5, 5)
    np.testing.assert_allclose(conv(x).detach().numpy(), x.numpy(), atol=1e-6)
    assert conv.weight.requires_grad and conv.weight.grad_fn is None


@pytest.mark.parametrize("shape, groups", [((3, 4), 1), ((3, 4, 2, 2, 2, 2), 1), ((3, 4, 3, 3), 2)])
def test_dirac_errors_match_torch(shape, groups):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as expected:
        torch.nn.init.dirac_(torch.empty(*shape), groups)
    with pytest.raises(ValueError) as got:
        init.dirac_(tinytorch.empty(*shape), groups)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("rows, cols, sparsity", [(10, 4, 0.3), (7, 3, 0.0), (5, 2, 1.0), (9, 6, 0.5)])
def test_sparse_zeros_that_many_entries_per_column(rows, cols, sparsity, device):
    w = init.sparse_(tinytorch.empty(rows, cols, device=device), sparsity, std=0.5)
    zeros = (w == 0).sum(0).cpu().numpy()
    np.testing.assert_array_equal(zeros, [min(rows, int(np.ceil(sparsity * rows)))] * cols)


def test_sparse_draws_normal_values_with_the_generator():
    w = init.sparse_(tinytorch.empty(400, 50), 0.1, std=2.0)
    kept = w[w != 0]
    assert abs(kept.std().item() - 2.0) < 0.1 and abs(kept.mean().item()) < 0.1
    first = init.sparse_(tinytorch.empty(6, 4), 0.5, generator=tinytorch.Generator().manual_seed(3))
    second = init.sparse_(tinytorch.empty(6, 4), 0.5, generator=tinytorch.Generator().manual_seed(3))
    # The values come from the generator; as in PyTorch, the zeros' positions from the default one.
    both = (first != 0) & (second != 0)
    assert both.any().item()
    np.testing.assert_array_equal(first[both].numpy(), second[both].numpy())


def test_sparse_refuses_other_dims_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as expected:
        torch.nn.init.sparse_(torch.empty(3), 0.1)
    with pytest.raises(ValueError) as got:
        init.sparse_(tinytorch.empty(3), 0.1)
    assert str(got.value) == str(expected.value)


DEPRECATED = [("uniform", (), {}), ("normal", (), {}), ("constant", (0.5,), {}), ("eye", (), {}), ("dirac", (), {}),
              ("xavier_uniform", (), {}), ("xavier_normal", (), {}), ("kaiming_uniform", (), {"a": 1}),
              ("kaiming_normal", (), {}), ("orthogonal", (), {}), ("sparse", (0.5,), {})]


@pytest.mark.parametrize("name, args, kwargs", DEPRECATED)
def test_deprecated_names_warn_as_torch_and_do_the_same(name, args, kwargs):
    torch = pytest.importorskip("torch")
    shape = (4, 4, 3) if name == "dirac" else (4, 4)
    messages = []
    for lib, module in ((torch, torch.nn.init), (tinytorch, init)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.manual_seed(0)
            out = getattr(module, name)(lib.empty(*shape), *args, **kwargs)
        assert len(caught) == 1 and caught[0].category is FutureWarning and caught[0].filename == __file__
        messages.append(str(caught[0].message))
        assert getattr(module, name).__name__ == name
    assert messages[0] == messages[1] == f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`."
    tinytorch.manual_seed(1)
    expected = getattr(init, name + "_")(tinytorch.empty(*shape), *args, **kwargs)
    tinytorch.manual_seed(1)
    with pytest.warns(FutureWarning):
        np.testing.assert_array_equal(getattr(init, name)(tinytorch.empty(*shape), *args, **kwargs).numpy(), expected.numpy())
    assert out.shape == shape

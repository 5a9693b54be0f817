"""Extreme inputs give PyTorch's finite (or exactly infinite) answers, silently."""

import math
import warnings

import numpy as np
import pytest

import tinytorch


def test_log_softmax_of_huge_logits_is_finite_with_finite_gradients():
    x = tinytorch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    out = x.log_softmax(1)
    np.testing.assert_allclose(out.detach().numpy()[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(out.detach().numpy()[1], [-math.log(3)] * 3, rtol=1e-6)
    out[:, 0].sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_of_large_values():
    out = tinytorch.tensor([1000.0, 1000.0, -1000.0]).softmax(0)
    np.testing.assert_allclose(out.numpy(), [0.5, 0.5, 0.0])


def test_logsumexp_large_and_all_minus_infinity():
    assert tinytorch.tensor([1e4, 1e4]).logsumexp(0).item() == pytest.approx(1e4 + math.log(2))
    assert tinytorch.tensor([-math.inf, -math.inf]).logsumexp(0).item() == -math.inf


def test_sigmoid_and_tanh_saturate_without_warnings_or_nan():
    x = tinytorch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x.sigmoid()
        t = x.tanh()
    np.testing.assert_allclose(s.detach().numpy(), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(t.detach().numpy(), [-1.0, -1.0, 0.0, 1.0, 1.0])
    (s + t).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_log_of_zero_is_minus_infinity_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tinytorch.tensor([0.0]).log().item() == -math.inf
        assert (tinytorch.tensor([1.0]) / 0).item() == math.inf
        assert math.isnan((tinytorch.tensor([0.0]) / 0).item())


def test_float32_mean_of_ten_million_elements_is_accurate():
    """NumPy's pairwise summation keeps float32 error at PyTorch's level (torch: ~1e-7 relative)."""
    values = np.random.default_rng(0).random(10_000_000, dtype=np.float32)
    ours = tinytorch.from_numpy(values).mean().item()
    exact = float(values.astype(np.float64).mean())
    assert abs(ours - exact) / exact < 1e-6
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(values).mean().item()
    assert abs(ours - exact) <= max(abs(theirs - exact) * 10, 1e-7)


def test_detect_anomaly_names_the_op_whose_backward_gave_inf_or_nan():
    x = tinytorch.tensor([0.0, 4.0], requires_grad=True)
    with tinytorch.autograd.detect_anomaly():
        y = (x * 2).sqrt()  # d sqrt(u) / du at u = 0 is inf
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned inf values"):
            y.sum().backward()
    x = tinytorch.tensor([-1.0], requires_grad=True)
    with tinytorch.autograd.detect_anomaly():
        y = (x * 1).sqrt()  # nan in forward, so nan in backward
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan values"):
            y.sum().backward()


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_unbatched_class_target_rules_follow_pytorch(loss):
    fn = getattr(tinytorch.nn.functional, loss)
    x = tinytorch.tensor([0.1, -0.3, 2.0])
    single = fn(x, tinytorch.tensor([2]))
    assert single.shape == () and single.item() == pytest.approx(fn(x, tinytorch.tensor(2)).item())
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1, but got target size: 2"):
        fn(x, tinytorch.tensor([1, 2]))

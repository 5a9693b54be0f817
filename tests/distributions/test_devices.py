"""Each distribution on each device of the ``device`` fixture (cuda runs on tests/fake_cupy.py
in CI): samples, scores and gradients stay on the parameters' device and agree with the CPU."""

import numpy as np
import pytest

import tinytorch

from .cases import CASES


def _on(device, params, requires_grad=False):
    return {k: (tinytorch.tensor(v, device=device, requires_grad=requires_grad and v.dtype.kind == "f")
                if isinstance(v, np.ndarray) else v) for k, v in params.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_on_device(case, device):
    params = case.params(np.random.default_rng(0))
    cpu = case.build(tinytorch, **_on("cpu", params))
    here_params = _on(device, params, requires_grad=True)
    here = case.build(tinytorch, **here_params)
    tinytorch.manual_seed(0)
    sample = here.sample((3,))
    if not params:  # numbers only: the default device
        return
    assert sample.device.type == device
    value = sample.to("cpu")
    log_prob = here.log_prob(sample)
    assert log_prob.device.type == device
    np.testing.assert_allclose(log_prob.detach().to("cpu").numpy(), cpu.log_prob(value).numpy(), rtol=1e-10)
    try:
        expected = cpu.entropy().numpy()
    except NotImplementedError:
        expected = None
    if expected is not None:
        np.testing.assert_allclose(here.entropy().detach().to("cpu").numpy(), expected, rtol=1e-10)
    loss = log_prob.sum() + (here.rsample((2,)).sum() if here.has_rsample else 0)
    loss.backward()
    for name, tensor in here_params.items():
        if isinstance(tensor, tinytorch.Tensor) and tensor.grad is not None:
            assert tensor.grad.device.type == device, name
    kl = tinytorch.distributions.kl_divergence
    try:
        assert kl(here, here).device.type == device
    except NotImplementedError:
        pass

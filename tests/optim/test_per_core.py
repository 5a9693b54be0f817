"""Updates run on every core (tinytorch/optim/optimizer.py, ``_per_core``): Adadelta and RMSprop
over pieces of a large parameter give the bits of the whole update, and arrays that cannot be cut
(not C-contiguous) are updated whole."""

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.optim import optimizer

torch = pytest.importorskip("torch")


@pytest.fixture
def splits(monkeypatch, splits_made):
    monkeypatch.setattr(optimizer, "PER_CORE_MIN", 64)
    return splits_made


def _steps(params, grads, name="Adadelta", **kwargs):
    opt = getattr(optim, name)(params, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = tinytorch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params], opt


CASES = [("Adadelta", dict()), ("Adadelta", dict(weight_decay=0.1)), ("Adadelta", dict(maximize=True, lr=0.5, rho=0.7)),
         ("RMSprop", dict()), ("RMSprop", dict(centered=True, weight_decay=0.1)), ("RMSprop", dict(momentum=0.9)),
         ("RMSprop", dict(centered=True, momentum=0.5, maximize=True, alpha=0.3))]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{','.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_on_every_core_have_the_whole_updates_bits_and_torchs_values(splits, monkeypatch, name, kwargs, dtype):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((30, 17)).astype(dtype), rng.standard_normal(40).astype(dtype)]  # 510 and 40 elements
    grads = [[rng.standard_normal(a.shape).astype(dtype) for a in start] for _ in range(4)]
    ours, opt = _steps([tinytorch.nn.Parameter(tinytorch.tensor(a.copy())) for a in start], grads, name, **kwargs)
    assert len(splits) == 4 and all(bounds[-1] == 510 and len(bounds) > 2 for bounds in splits)  # the large one
    monkeypatch.setattr(optimizer, "PER_CORE_MIN", 1 << 40)
    whole, _ = _steps([tinytorch.nn.Parameter(tinytorch.tensor(a.copy())) for a in start], grads, name, **kwargs)
    for got, want in zip(ours, whole):
        np.testing.assert_array_equal(got, want)
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in start]
    reference = getattr(torch.optim, name)(theirs, **kwargs)
    for step_grads in grads:
        for p, g in zip(theirs, step_grads):
            p.grad = torch.tensor(g)
        reference.step()
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-6 if dtype == np.float32 else 0)


def test_arrays_that_cannot_be_cut_are_updated_whole(splits):
    calls = []
    arrays = [np.ones(1000), np.ones((50, 40)).T, np.ones(1000)]
    optimizer._per_core(lambda *pieces: calls.append([p.shape for p in pieces]), *arrays)
    assert splits == [] and calls == [[(1000,), (40, 50), (1000,)]]
    optimizer._per_core(lambda *pieces: calls.append([p.shape for p in pieces]), np.ones(1000), np.ones(1000))
    assert len(splits) == 1 and sorted(calls[1:]) == sorted([[(hi - lo,)] * 2 for lo, hi in zip(splits[0], splits[0][1:])])

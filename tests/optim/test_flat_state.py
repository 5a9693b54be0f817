"""Adam's state kept flat (tinytorch/optim/_flat_state.py): the same bits as an update made one
parameter at a time, whatever happens to the parameters and their state between steps."""

import copy
from fractions import Fraction

import numpy as np
import pytest

import tinytorch
from tinytorch import _blas, _threads, nn, optim
from tinytorch.optim import _flat_state, adam


def _model():
    tinytorch.manual_seed(0)
    return nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 4), nn.Linear(4, 3, bias=False), nn.Conv1d(1, 2, 3))


def _fma(a, b, c):
    """``a * b + c`` rounded once, exactly (the reference for ``lerp_`` where the BLAS fuses).
    float32: the product is exact in float64, and the sum is rounded to odd there (its last bit
    set when the float64 sum was inexact), so that rounding it to float32 is a single correct
    rounding; float64: per element in fractions."""
    a, b, c = np.broadcast_arrays(*(np.asarray(x) for x in (a, b, c)))
    dtype = c.dtype
    if dtype == np.float64:
        return np.array([float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a.flat, b.flat, c.flat)],
                        np.float64).reshape(c.shape)
    product, addend = a.astype(np.float64) * b.astype(np.float64), c.astype(np.float64)
    total = product + addend
    rounded_off = (product - (total - (total - product))) + (addend - (total - product))  # TwoSum's error
    even = (total.view(np.int64) & 1) == 0
    toward = np.where(rounded_off > 0, np.inf, -np.inf)
    total = np.where((rounded_off != 0) & even, np.nextafter(total, toward), total)
    return total.astype(dtype)


def test_the_fma_reference_rounds_once():
    for dtype in (np.float32, np.float64):
        s = dtype(2.0) ** -((np.finfo(dtype).nmant + 1) // 2 + 1)
        a, c = np.full(3, 1 + s, dtype), np.full(3, -(1 + 2 * s), dtype)
        assert (_fma(a, a, c) == s * s).all() and (a * a + c == 0).all()  # a quarter of an ulp, kept
    # 1 + 2**-24 + 2**-60 exactly: float64 rounds it onto a float32 tie, which a second rounding
    # would take to 1 (the even side); rounded to odd it goes up, as the exact sum does.
    a, b, c = np.float32(-(2**-24) * (1 + 2**-18)), np.float32(1 - 2**-18), np.float32(1 + 2**-23)
    assert np.float32(np.float64(a) * np.float64(b) + np.float64(c)) == 1
    assert _fma(a, b, c) == np.float32(1 + 2**-23)


class _Reference:
    """PyTorch's single-tensor Adam, one parameter at a time in NumPy, with tinytorch's roundings
    (each operation rounded to the parameter's dtype, in PyTorch's order; ``lerp_`` as one fused
    multiply-add where this process's BLAS fuses, as PyTorch's kernel does)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 decoupled=False):
        self.params = [p.detach().numpy().copy() for p in params]
        self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
        self.amsgrad, self.maximize, self.decoupled = amsgrad, maximize, decoupled
        self.state = {}

    def step(self, grads):
        beta1, beta2 = self.betas
        for i, (param, grad) in enumerate(zip(self.params, grads)):
            if grad is None:
                continue
            dtype = param.dtype.type
            st = self.state.setdefault(i, {"step": 0, "m": np.zeros_like(param), "v": np.zeros_like(param),
                                           "max": np.zeros_like(param)})
            st["step"] += 1
            if self.wd and self.decoupled:
                param *= dtype(1 - self.lr * self.wd)
            if self.maximize:
                grad = -grad
            if self.wd and not self.decoupled:
                grad = param * dtype(self.wd) + grad
            m, v = st["m"], st["v"]
            weight = 1 - beta1
            if _blas.FMA.get(param.dtype):
                if abs(weight) < 0.5:
                    m[...] = _fma(dtype(weight), grad - m, m)
                else:
                    m[...] = _fma(dtype(weight) - dtype(1), grad - m, grad)
            elif abs(weight) < 0.5:
                m += (grad - m) * dtype(weight)
            else:
                m[...] = grad - (grad - m) * dtype(1 - weight)
            v *= dtype(beta2)
            v += (grad * dtype(1 - beta2)) * grad
            if self.amsgrad:
                np.maximum(st["max"], v, out=st["max"])
                second = st["max"]
            else:
                second = v
            denom = np.sqrt(second) / dtype((1 - beta2 ** st["step"]) ** 0.5) + dtype(self.eps)
            param += (m * dtype(-self.lr / (1 - beta1 ** st["step"]))) / denom


CONFIGS = [
    dict(),
    dict(amsgrad=True),
    dict(maximize=True),
    dict(weight_decay=0.1),
    dict(betas=(0.3, 0.9)),  # lerp's other formula (weight >= 0.5)
    dict(weight_decay=0.1, amsgrad=True, maximize=True),
]


@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "defaults")
@pytest.mark.parametrize("scenario", ["plain", "skipped", "groups", "reloaded", "float64", "split", "no-server"])
def test_flat_update_has_the_per_parameter_bits(scenario, config, decoupled, monkeypatch):
    splits = []
    if scenario in ("split", "no-server"):
        # "split": every run is updated in pieces on OpenBLAS's two threads, cut inside parameters;
        # "no-server": without OpenBLAS's thread server the runs stay whole (Python's threads
        # lost to OpenBLAS's spinning ones in the train step).
        if scenario == "no-server":
            monkeypatch.setattr(_threads, "_server", None)
        elif _threads._server is None or _threads._server.count() < 2:
            pytest.skip("updates split only on NumPy's OpenBLAS thread server, with two or more threads")
        monkeypatch.setattr(_threads, "_threads", 2)
        monkeypatch.setattr(adam, "PER_CORE_MIN", 32)
        run = _threads.run
        monkeypatch.setattr(_threads, "run", lambda function, bounds: (splits.append(bounds), run(function, bounds)))
    model = _model()
    if scenario == "float64":
        model.double()
    params = list(model.parameters())
    kwargs = dict(config, lr=0.002)
    cls = optim.AdamW if decoupled else optim.Adam
    if decoupled:
        kwargs.setdefault("weight_decay", 1e-2)
    if scenario == "groups":  # the second group's own lr: two references, one per group
        opt = cls([{"params": params[:3]}, {"params": params[3:], "lr": 0.01}], **kwargs)
        refs = [_Reference(params[:3], **{**kwargs, "decoupled": decoupled}),
                _Reference(params[3:], **{**kwargs, "lr": 0.01, "decoupled": decoupled})]
        spans = [(0, 3), (3, len(params))]
    else:
        opt = cls(params, **kwargs)
        refs, spans = [_Reference(params, **{**kwargs, "decoupled": decoupled})], [(0, len(params))]
    rng = np.random.default_rng(1)
    for step in range(6):
        grads = []
        for i, p in enumerate(params):
            # params 1 and 4 have no gradient on steps 1 and 2: their step counts fall behind
            if scenario == "skipped" and step in (1, 2) and i in (1, 4):
                p.grad = None
                grads.append(None)
            else:
                g = rng.standard_normal(p.shape).astype(p.detach().numpy().dtype)
                p.grad = tinytorch.tensor(g)
                grads.append(g)
        opt.step()
        for ref, (lo, hi) in zip(refs, spans):
            ref.step(grads[lo:hi])
        if scenario == "reloaded" and step == 2:
            saved = copy.deepcopy(opt.state_dict())
            opt.load_state_dict(saved)  # the same optimizer: its state tensors are new ones now
    if scenario == "split":
        assert len(splits) == 6 and all(len(bounds) == 3 and 0 < bounds[1] < 84 for bounds in splits)
    if scenario == "no-server":
        assert splits == []
    expected = [param for ref in refs for param in ref.params]
    moments = [(ref.state[i]["m"], ref.state[i]["v"]) for ref in refs for i in range(len(ref.params))]
    for p, want, (m, v) in zip(params, expected, moments):
        np.testing.assert_array_equal(p.detach().numpy(), want)
        np.testing.assert_array_equal(opt.state[p]["exp_avg"].numpy(), m)
        np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"].numpy(), v)


def test_state_shares_one_array_and_state_dict_still_holds_one_tensor_per_parameter():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    first, second = (opt.state[p]["exp_avg"] for p in list(model.parameters())[:2])
    assert np.shares_memory(first.numpy(), second.numpy()) is False  # distinct parts ...
    assert first._data.base is second._data.base is not None  # ... of one flat array
    saved = opt.state_dict()["state"]
    assert [tuple(s["exp_avg"].shape) for s in saved.values()] == [tuple(p.shape) for p in model.parameters()]
    held = saved[0]["exp_avg"].clone()
    reference = saved[0]["exp_avg"]  # PyTorch's state_dict hands out the state tensors themselves
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    assert not tinytorch.equal(reference, held)  # the held tensor sees the next step's update
    assert reference is opt.state[next(model.parameters())]["exp_avg"]


def test_state_in_shared_memory_stays_shared_and_updated():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    weight = next(model.parameters())
    exp_avg = opt.state[weight]["exp_avg"]
    exp_avg.share_memory_()
    shared, before = exp_avg._data, exp_avg.clone()
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    assert exp_avg.is_shared() and exp_avg._data is shared
    assert not tinytorch.equal(exp_avg, before)


def test_a_replaced_state_tensor_is_updated():
    model = _model()
    params = list(model.parameters())
    opt = optim.Adam(params, lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    replacement = opt.state[params[2]]["exp_avg_sq"].clone()
    opt.state[params[2]]["exp_avg_sq"] = replacement
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    kept = replacement.clone()
    opt.step()
    assert opt.state[params[2]]["exp_avg_sq"] is replacement and not tinytorch.equal(replacement, kept)


def test_large_groups_are_cut_into_bounded_runs(monkeypatch):
    monkeypatch.setattr(_flat_state, "_RUN_ELEMENTS", 40)
    model = _model()
    params = list(model.parameters())
    opt = optim.Adam(params, lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    (plan,) = opt._flat_runs.values()
    assert [p for run in plan for p in run.params] == params
    assert all(sum(p.numel() for p in run.params) <= 40 or len(run.params) == 1 for run in plan)
    assert len(plan) > 1


def test_a_model_cast_after_a_step_is_refused_as_pytorch_refuses_it():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    model.double()
    opt.zero_grad()
    model(tinytorch.randn(2, 1, 7, dtype=tinytorch.float64)).sum().backward()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        opt.step()
    assert all(tinytorch.equal(a, p) for a, p in zip(before, model.parameters()))
    assert float(opt.state[next(model.parameters())]["step"]) == 1.0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimizer_updates_its_own_state_as_the_original(how):
    import pickle

    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(tinytorch.randn(2, 1, 7)).sum().backward()
    opt.step()
    pair = copy.deepcopy((model, opt)) if how == "deepcopy" else pickle.loads(pickle.dumps((model, opt)))
    x = tinytorch.randn(2, 1, 7)
    for m, o in ((model, opt), pair):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    copied_model, copied_opt = pair
    for a, b in zip(model.parameters(), copied_model.parameters()):
        assert tinytorch.equal(a, b)
        assert tinytorch.equal(opt.state[a]["exp_avg"], copied_opt.state[b]["exp_avg"])
        assert tinytorch.equal(opt.state[a]["exp_avg_sq"], copied_opt.state[b]["exp_avg_sq"])


def test_a_run_with_a_non_contiguous_array_is_updated_whole(monkeypatch):
    monkeypatch.setattr(_threads, "_threads", 2)
    monkeypatch.setattr(adam, "PER_CORE_MIN", 32)
    splits = []
    run = _threads.run
    monkeypatch.setattr(_threads, "run", lambda function, bounds: (splits.append(bounds), run(function, bounds)))
    weight = tinytorch.nn.Parameter(tinytorch.tensor(np.asfortranarray(np.random.default_rng(0).standard_normal((40, 30)))))
    assert not weight._data.flags.c_contiguous
    reference = _Reference([weight], lr=0.01)
    opt = optim.Adam([weight], lr=0.01)
    for step in range(3):
        g = np.random.default_rng(step).standard_normal((40, 30))
        weight.grad = tinytorch.tensor(g)
        opt.step()
        reference.step([g])
    assert splits == []
    # To rounding: NumPy rounds lerp_ twice on a non-contiguous array (docs/differences.md).
    np.testing.assert_allclose(weight.detach().numpy(), reference.params[0], rtol=1e-13, atol=1e-15)

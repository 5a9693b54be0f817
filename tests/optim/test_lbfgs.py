"""L-BFGS follows PyTorch's iterates step for step (float64), with and without the strong-Wolfe
line search, on Rosenbrock, a least-squares fit and a small MLP; plus its arguments, closure
protocol and state_dict."""

import numpy as np
import pytest

import tinytorch
from tinytorch import optim


def _rosenbrock(lib, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _least_squares(lib, w, b, data):
    inputs, targets = data
    return ((inputs @ w + b - targets) ** 2).mean()


def _mlp(lib, w1, b1, w2, b2, unused, data):
    inputs, targets = data
    return ((lib.tanh(inputs @ w1 + b1) @ w2 + b2 - targets) ** 2).mean()


def _problem(name, rng):
    """(loss function, starting parameter arrays, data arrays) of a named problem."""
    if name == "rosenbrock":
        return _rosenbrock, [np.array([-1.5, 2.0, -0.5, 1.2])], []
    if name == "least_squares":
        inputs = rng.standard_normal((20, 5))
        targets = inputs @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((20, 2))
        return _least_squares, [np.zeros((5, 2)), np.zeros(2)], [inputs, targets]
    inputs, targets = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    starts = [rng.standard_normal(s) * 0.5 for s in ((3, 6), (6,), (6, 2), (2,))] + [np.ones(3)]
    return _mlp, starts, [inputs, targets]


def _run(lib, name, kwargs, steps):
    function, starts, data = _problem(name, np.random.default_rng(0))
    params = [lib.tensor(a, dtype=lib.float64).requires_grad_() for a in starts]
    data = tuple(lib.tensor(a, dtype=lib.float64) for a in data)
    optimizer = lib.optim.LBFGS(params, **kwargs)
    args = (*params, data) if data else tuple(params)

    def closure():
        optimizer.zero_grad()
        loss = function(lib, *args)
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        state = optimizer.state[params[0]]
        trajectory.append((loss.item(), [p.detach().numpy().copy() for p in params],
                           state["func_evals"], state["n_iter"], len(state["old_dirs"])))
    return trajectory, optimizer


# (problem, arguments, steps). NOTE: NumPy and PyTorch sum in different orders, so the runs start
# apart by a few ulps; on the non-convex MLP that gap grows about tenfold per step, which bounds
# how many steps can be compared at a fixed tolerance.
CASES = [
    ("rosenbrock", dict(lr=0.5, max_iter=20), 12),
    ("rosenbrock", dict(lr=0.2, max_iter=20), 12),
    ("rosenbrock", dict(lr=1, max_iter=20, line_search_fn="strong_wolfe"), 12),
    ("rosenbrock", dict(lr=0.5, max_iter=7, history_size=3, line_search_fn="strong_wolfe"), 12),
    ("rosenbrock", dict(lr=0.1, max_iter=5, max_eval=6, history_size=2), 12),
    ("least_squares", dict(lr=0.8, max_iter=10, history_size=4), 12),
    ("least_squares", dict(max_iter=4, line_search_fn="strong_wolfe"), 12),
    ("mlp", dict(lr=0.5, max_iter=6, history_size=5), 8),
    ("mlp", dict(max_iter=5, history_size=4, line_search_fn="strong_wolfe"), 6),
    ("mlp", dict(lr=1, max_iter=3, max_eval=5, tolerance_change=1e-6, line_search_fn="strong_wolfe"), 12),
]


@pytest.mark.parametrize("name,kwargs,steps", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_matches_torch_float64(name, kwargs, steps):
    torch = pytest.importorskip("torch")
    ours, _ = _run(tinytorch, name, kwargs, steps)
    theirs, _ = _run(torch, name, kwargs, steps)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a[2:] == b[2:], f"step {step}: (func_evals, n_iter, history) {a[2:]} != torch's {b[2:]}"
        # The loss at a step's start follows the inner iterations of the step before: on Rosenbrock
        # with strong Wolfe, 20 of them turn a 2-ulp gap into ~1e-9 relative (seen on an AMD EPYC host).
        np.testing.assert_allclose(a[0], b[0], rtol=1e-7, atol=1e-12, err_msg=f"loss of step {step}")
        for mine, torchs in zip(a[1], b[1]):
            np.testing.assert_allclose(mine, torchs, rtol=1e-8, atol=1e-9, err_msg=f"parameters after step {step}")
    assert ours[-1][0] < ours[0][0], "the loss should go down"


def test_converges_on_rosenbrock():
    trajectory, _ = _run(tinytorch, "rosenbrock", dict(max_iter=50, line_search_fn="strong_wolfe"), steps=10)
    np.testing.assert_allclose(trajectory[-1][1][0], np.ones(4), atol=1e-6)


def test_float32_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        x = lib.tensor([-1.5, 2.0, -0.5, 1.2], dtype=lib.float32).requires_grad_()
        optimizer = lib.optim.LBFGS([x], max_iter=10, line_search_fn="strong_wolfe")

        def closure(x=x, optimizer=optimizer, lib=lib):
            optimizer.zero_grad()
            loss = _rosenbrock(lib, x)
            loss.backward()
            return loss

        optimizer.step(closure)
        assert x.dtype == lib.float32
        assert optimizer.state[x]["d"].dtype == lib.float32
        results.append(x.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_state_dict_resumes_the_run():
    kwargs = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    straight, _ = _run(tinytorch, "mlp", kwargs, steps=4)

    function, starts, data = _problem("mlp", np.random.default_rng(0))
    data = tuple(tinytorch.tensor(a) for a in data)

    def make(values):
        params = [tinytorch.tensor(a).requires_grad_() for a in values]
        optimizer = optim.LBFGS(params, **kwargs)

        def closure():
            optimizer.zero_grad()
            loss = function(tinytorch, *params, data)
            loss.backward()
            return loss

        return params, optimizer, closure

    params, optimizer, closure = make(starts)
    for _ in range(2):
        optimizer.step(closure)
    saved = optimizer.state_dict()
    assert set(saved["state"][0]) >= {"d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                                       "prev_loss", "func_evals", "n_iter"}
    assert saved["param_groups"][0]["line_search_fn"] == "strong_wolfe"
    resumed_params, resumed, resumed_closure = make([p.detach().numpy() for p in params])
    resumed.load_state_dict(saved)
    for _ in range(2):
        resumed.step(resumed_closure)
    for mine, reference in zip(resumed_params, straight[-1][1]):
        np.testing.assert_allclose(mine.detach().numpy(), reference, rtol=1e-12, atol=1e-14)
    assert resumed.state[resumed_params[0]]["n_iter"] == straight[-1][3]


def test_state_dict_survives_save_and_load(tmp_path):
    x = tinytorch.tensor([-1.5, 2.0], dtype=tinytorch.float64).requires_grad_()
    optimizer = optim.LBFGS([x], max_iter=4)

    def closure():
        optimizer.zero_grad()
        loss = _rosenbrock(tinytorch, x)
        loss.backward()
        return loss

    optimizer.step(closure)
    tinytorch.save(optimizer.state_dict(), tmp_path / "lbfgs.safetensors")
    loaded = tinytorch.load(tmp_path / "lbfgs.safetensors")
    y = x.detach().clone().requires_grad_()
    other = optim.LBFGS([y], max_iter=4)
    other.load_state_dict(loaded)

    def other_closure():
        other.zero_grad()
        loss = _rosenbrock(tinytorch, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    other.step(other_closure)
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


def test_closure_runs_with_grad_enabled_and_step_returns_its_first_loss():
    x = tinytorch.tensor([3.0, -2.0], dtype=tinytorch.float64, requires_grad=True)
    optimizer = optim.LBFGS([x], max_iter=5)
    losses = []

    def closure():
        assert tinytorch.is_grad_enabled()
        optimizer.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        losses.append(loss)
        return loss

    with tinytorch.no_grad():
        returned = optimizer.step(closure)
    assert returned is losses[0]
    assert len(losses) == optimizer.state[x]["func_evals"] > 1


def test_stops_at_once_when_the_gradient_is_small():
    x = tinytorch.zeros(3, requires_grad=True)
    optimizer = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert len(calls) == 1 and optimizer.state[x]["n_iter"] == 0


def test_arguments_checked_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (tinytorch, torch):
        p = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            lib.optim.LBFGS([p], lr=-1)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [p]}, {"params": [lib.zeros(1, requires_grad=True)]}])
        with pytest.raises(TypeError):
            lib.optim.LBFGS([p]).step()  # the closure is required
        optimizer = lib.optim.LBFGS([p], line_search_fn="backtracking")

        def closure(p=p):
            loss = ((p - 1) ** 2).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            optimizer.step(closure)
        defaults = lib.optim.LBFGS([p], max_iter=8).defaults
        assert defaults["max_eval"] == 10 and defaults["history_size"] == 100 and defaults["lr"] == 1


def test_parameter_without_grad_counts_as_zero():
    used = tinytorch.tensor([2.0, -1.0], dtype=tinytorch.float64, requires_grad=True)
    unused = tinytorch.tensor([5.0], dtype=tinytorch.float64, requires_grad=True)
    optimizer = optim.LBFGS([used, unused], max_iter=10, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = ((used - 1) ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert unused.item() == 5.0
    np.testing.assert_allclose(used.detach().numpy(), [1.0, 1.0], atol=1e-6)


def test_runs_on_device(device):
    x = tinytorch.tensor([-1.0, 1.5], dtype=tinytorch.float64, device=device, requires_grad=True)
    optimizer = optim.LBFGS([x], max_iter=30, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = _rosenbrock(tinytorch, x)
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    assert optimizer.state[x]["d"].device == x.device
    np.testing.assert_allclose(x.detach().cpu().numpy(), [1.0, 1.0], atol=1e-5)

"""nn.functional.ctc_loss and nn.CTCLoss against torch: values and gradients for both target
layouts, every reduction, zero_infinity, repeated labels, a blank other than 0, unbatched input,
float32 and float64; PyTorch's errors; and why the gradient is PyTorch's rather than the loss's."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch

torch = pytest.importorskip("torch")

CASES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def ctc_cases(draw):
    """Logits (T, N, C) or (T, C), targets (padded or concatenated) and lengths as tensors or lists."""
    steps = draw(st.integers(1, 7))
    batch = draw(st.integers(1, 4))
    classes = draw(st.integers(2, 5))
    blank = draw(st.integers(0, classes - 1))
    longest = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    labels = [c for c in range(classes) if c != blank]
    # Few labels make repeats (which need a blank between them) and impossible alignments common.
    alphabet = labels[:draw(st.integers(1, len(labels)))]
    target_lengths = rng.integers(0, longest + 1, size=batch)
    input_lengths = rng.integers(0 if draw(st.booleans()) else steps, steps + 1, size=batch)
    padded = rng.choice(alphabet, size=(batch, longest)).astype(np.int64)
    padded = np.where(np.arange(longest) < target_lengths[:, None], padded, -1)  # padding past each length
    unbatched = batch == 1 and draw(st.booleans())
    concatenated = unbatched or draw(st.booleans())
    targets = np.concatenate([padded[n, :target_lengths[n]] for n in range(batch)]) if concatenated else padded
    return {
        "logits": rng.standard_normal((steps, classes) if unbatched else (steps, batch, classes)) * 2,
        "targets": targets.astype(np.int64),
        "input_lengths": input_lengths, "target_lengths": target_lengths,
        "as_tensors": draw(st.booleans()),
        "kwargs": {"blank": blank, "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
                   "zero_infinity": draw(st.booleans())},
    }


def run(lib, case, dtype, device="cpu", module=False):
    """The loss and the gradient reaching the logits (the loss is applied after log_softmax)."""
    logits = lib.tensor(case["logits"], dtype=getattr(lib, dtype), device=device, requires_grad=True)
    targets = lib.tensor(case["targets"], device=device)
    if case["as_tensors"]:
        lengths = [lib.tensor(case[k], device=device) for k in ("input_lengths", "target_lengths")]
    else:
        lengths = [[int(v) for v in case[k]] for k in ("input_lengths", "target_lengths")]
    log_probs = logits.log_softmax(-1)
    if module:
        loss = lib.nn.CTCLoss(**case["kwargs"])(log_probs, targets, *lengths)
    else:
        loss = lib.nn.functional.ctc_loss(log_probs, targets, *lengths, **case["kwargs"])
    weights = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape))
    (loss * lib.tensor(weights, dtype=loss.dtype, device=device)).sum().backward()
    return loss, logits.grad


def host(t):
    return t.detach().cpu().numpy()


def assert_like_torch(case, dtype, device="cpu", module=False):
    ours, our_grad = run(tinytorch, case, dtype, device, module)
    theirs, their_grad = run(torch, case, dtype, module=module)
    tol = {"float64": 1e-9, "float32": 2e-4}[dtype]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == dtype and ours.device.type == device
    np.testing.assert_allclose(host(ours), host(theirs), rtol=tol, atol=tol)
    np.testing.assert_allclose(host(our_grad), host(their_grad), rtol=tol, atol=tol * 10)


@CASES
@given(case=ctc_cases(), dtype=st.sampled_from(["float64", "float32"]))
def test_values_and_gradients_match_torch(case, dtype, device):
    assert_like_torch(case, dtype, device)


@settings(max_examples=15, deadline=None)
@given(case=ctc_cases())
def test_the_module_matches_torch(case):
    assert_like_torch(case, "float64", module=True)


def test_impossible_alignments_are_infinite_and_zero_infinity_zeroes_them_and_their_gradient():
    # Input length 2 cannot hold "1 1" (a blank must separate the repeat): loss inf, gradient nan.
    case = {"logits": np.random.default_rng(0).standard_normal((4, 2, 3)), "targets": np.array([[1, 1], [1, 2]]),
            "input_lengths": np.array([2, 4]), "target_lengths": np.array([2, 2]), "as_tensors": True,
            "kwargs": {"reduction": "none", "zero_infinity": False}}
    loss, grad = run(tinytorch, case, "float64")
    assert np.isinf(host(loss)[0]) and np.isfinite(host(loss)[1])
    assert np.isnan(host(grad)[:2, 0]).all() and not host(grad)[2:, 0].any()
    assert_like_torch(case, "float64")
    case["kwargs"]["zero_infinity"] = True
    loss, grad = run(tinytorch, case, "float64")
    assert host(loss)[0] == 0 and not host(grad)[:, 0].any() and host(grad)[:, 1].any()
    assert_like_torch(case, "float64")


def test_the_gradient_is_pytorchs_formula_not_the_derivative_of_the_loss():
    """PyTorch's backward gives exp(log_probs) - exp(log_alpha_beta + nll - log_probs): the true
    derivative plus exp(log_probs), which log_softmax's backward cancels. Checked on both sides:
    (1) tinytorch's gradient w.r.t. log_probs equals torch's; (2) it differs from finite
    differences by exactly exp(log_probs) on the steps a sample uses; (3) through log_softmax
    the gradient is the finite-difference one."""
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 2, 4))
    targets, lengths = np.array([[1, 2], [3, 3]]), ([5, 4], [2, 2])

    def loss_of(lib, log_probs):
        return lib.nn.functional.ctc_loss(log_probs, lib.tensor(targets), *lengths, reduction="sum")

    log_probs = tinytorch.tensor(logits, requires_grad=True).log_softmax(-1).detach().requires_grad_()
    loss_of(tinytorch, log_probs).backward()
    reference = torch.tensor(logits).log_softmax(-1).requires_grad_()
    loss_of(torch, reference).backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-12)

    base, eps = log_probs.detach().numpy(), 1e-6
    numeric = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (loss_of(tinytorch, tinytorch.tensor(plus)).item() - loss_of(tinytorch, tinytorch.tensor(minus)).item()) / (2 * eps)
    used = (np.arange(5)[:, None] < np.array(lengths[0]))[..., None]
    np.testing.assert_allclose(log_probs.grad.numpy() - numeric, np.where(used, np.exp(base), 0), atol=1e-6)

    raw = tinytorch.tensor(logits, requires_grad=True)
    loss_of(tinytorch, raw.log_softmax(-1)).backward()
    numeric = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        plus, minus = logits.copy(), logits.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (loss_of(tinytorch, tinytorch.tensor(plus).log_softmax(-1)).item()
                          - loss_of(tinytorch, tinytorch.tensor(minus).log_softmax(-1)).item()) / (2 * eps)
    np.testing.assert_allclose(raw.grad.numpy(), numeric, atol=1e-6)


def test_a_rare_label_carrying_the_alignment_keeps_its_gradient_in_float32():
    """A forced label with log-probability -120 (exp underflows float32 next to the others): the
    per-class sums must not lose it (PyTorch's kernel log-adds per class)."""
    logits = np.zeros((3, 1, 3))
    logits[:, 0, 2] = -120.0
    case = {"logits": logits, "targets": np.array([[2]]), "input_lengths": np.array([3]), "target_lengths": np.array([1]),
            "as_tensors": False, "kwargs": {"reduction": "sum", "zero_infinity": False}}
    assert_like_torch(case, "float32")
    assert_like_torch(case, "float64")


def test_second_derivatives_are_refused_as_in_pytorch():
    for lib in (torch, tinytorch):
        log_probs = lib.tensor(np.random.default_rng(2).standard_normal((4, 1, 3))).log_softmax(-1).detach().requires_grad_()
        loss = lib.nn.functional.ctc_loss(log_probs, lib.tensor([[1, 2]]), [4], [2])
        (grad,) = lib.autograd.grad(loss, log_probs, create_graph=True)
        with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):
            grad.sum().backward()


def test_ctc_loss_module_holds_pytorchs_options():
    ours, theirs = tinytorch.nn.CTCLoss(blank=2, reduction="sum", zero_infinity=True), torch.nn.CTCLoss(2, "sum", True)
    assert (ours.blank, ours.reduction, ours.zero_infinity) == (theirs.blank, theirs.reduction, theirs.zero_infinity)
    assert repr(ours) == repr(theirs)
    default = tinytorch.nn.CTCLoss()
    assert (default.blank, default.reduction, default.zero_infinity) == (0, "mean", False)


LOG_PROBS = np.log(np.full((5, 2, 4), 0.25))
TARGETS = np.array([[1, 2], [1, 1]])

MISUSES = [
    ("4-D log_probs", lambda L: (L.tensor(LOG_PROBS[None]), L.tensor(TARGETS), [5, 5], [2, 2]), {}),
    ("1-D log_probs", lambda L: (L.tensor(LOG_PROBS[:, 0, 0]), L.tensor(TARGETS), [5, 5], [2, 2]), {}),
    ("3-D targets", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS[None]), [5, 5], [2, 2]), {}),
    ("0-D targets", lambda L: (L.tensor(LOG_PROBS), L.tensor(1), [5, 5], [1, 0]), {}),
    ("input length past T", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [6, 5], [2, 2]), {}),
    ("negative input length", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [-1, 5], [2, 2]), {}),
    ("negative target length", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [-1, 2]), {}),
    ("target length past the padded width", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [3, 2]), {}),
    ("padded targets for another batch", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS[:1]), [5, 5], [2, 2]), {}),
    ("concatenated targets too short", lambda L: (L.tensor(LOG_PROBS), L.tensor([1, 2, 1]), [5, 5], [2, 2]), {}),
    ("blank past the classes", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [2, 2]), {"blank": 4}),
    ("negative blank", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [2, 2]), {"blank": -1}),
    ("input_lengths for another batch", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), L.tensor([5, 5, 5]), L.tensor([2, 2])), {}),
    ("target_lengths for another batch", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [2]), {}),
    ("float input_lengths", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), L.tensor([5.0, 5.0]), L.tensor([2, 2])), {}),
    ("float target_lengths", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), L.tensor([5, 5]), L.tensor([2.0, 2.0])), {}),
    ("integer log_probs", lambda L: (L.tensor(LOG_PROBS).long(), L.tensor(TARGETS), [5, 5], [2, 2]), {}),
    ("empty log_probs", lambda L: (L.tensor(LOG_PROBS[:0]), L.tensor(TARGETS), [0, 0], [0, 0]), {}),
    ("unknown reduction", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), [5, 5], [2, 2]), {"reduction": "avg"}),
    ("int lengths", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), 5, 2), {}),
    ("a tensor and a list of lengths", lambda L: (L.tensor(LOG_PROBS), L.tensor(TARGETS), L.tensor([5, 5]), [2, 2]), {}),
    ("list targets", lambda L: (L.tensor(LOG_PROBS), [[1, 2], [1, 1]], [5, 5], [2, 2]), {}),
]


def _raised(lib, make, kwargs):
    with pytest.raises(Exception) as info:
        lib.nn.functional.ctc_loss(*make(lib), **kwargs)
    return info.value


@pytest.mark.parametrize("make, kwargs", [m[1:] for m in MISUSES], ids=[m[0] for m in MISUSES])
def test_misuse_raises_pytorchs_error(make, kwargs):
    theirs, ours = _raised(torch, make, kwargs), _raised(tinytorch, make, kwargs)
    assert type(ours) is type(theirs), f"{type(ours).__name__}: {ours} vs torch's {type(theirs).__name__}: {theirs}"
    if isinstance(theirs, TypeError):  # the argument parser's long message: its first line
        assert str(ours).split(" - got")[0] == str(theirs).split(" - got")[0]
        assert str(ours).split("\n")[0] == str(theirs).split("\n")[0]
    else:
        assert str(ours) == str(theirs)


def test_target_values_outside_the_classes_are_refused():
    """PyTorch reads past the class dimension (no check; undefined values): tinytorch refuses."""
    with pytest.raises(RuntimeError, match=r"target values must lie in \[0, number of classes\)"):
        tinytorch.nn.functional.ctc_loss(tinytorch.tensor(LOG_PROBS), tinytorch.tensor([[1, 7], [1, 1]]), [5, 5], [2, 2])
    # Padding past a target's length may hold anything.
    loss = tinytorch.nn.functional.ctc_loss(tinytorch.tensor(LOG_PROBS), tinytorch.tensor([[1, -7], [1, 99]]), [5, 5], [1, 1],
                                            reduction="none")
    expected = torch.nn.functional.ctc_loss(torch.tensor(LOG_PROBS), torch.tensor([[1, 0], [1, 0]]), [5, 5], [1, 1], reduction="none")
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-12)

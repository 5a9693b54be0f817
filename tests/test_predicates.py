"""The top-level predicates and small helpers (is_signed, is_nonzero, is_same_size, is_complex,
is_conj, is_neg, is_inference, resolve_conj/neg, detach, typename, can_cast) against torch."""

import pytest

import tinytorch

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_predicates_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.zeros(2, dtype=getattr(tinytorch, name)), torch.zeros(2, dtype=getattr(torch, name))
    for predicate in ("is_signed", "is_complex", "is_conj", "is_neg", "is_inference"):
        assert getattr(tinytorch, predicate)(ours) is getattr(torch, predicate)(theirs), predicate


@pytest.mark.parametrize("values", [[0.0], [2.5], [[0]], [[True]], [-1]])
def test_is_nonzero_matches_torch(values):
    torch = pytest.importorskip("torch")
    assert tinytorch.is_nonzero(tinytorch.tensor(values)) is torch.is_nonzero(torch.tensor(values))


@pytest.mark.parametrize("values", [[], [1, 2], [[0.0, 0.0]]])
def test_is_nonzero_refuses_other_sizes_as_torch(values):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        torch.is_nonzero(torch.tensor(values))
    with pytest.raises(RuntimeError) as got:
        tinytorch.is_nonzero(tinytorch.tensor(values))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("name", ["is_signed", "is_nonzero", "is_complex", "is_conj", "is_neg", "is_inference",
                                  "resolve_conj", "resolve_neg", "detach"])
def test_non_tensors_are_torchs_type_error(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as expected:
        getattr(torch, name)(3)
    with pytest.raises(TypeError) as got:
        getattr(tinytorch, name)(3)
    assert str(got.value) == str(expected.value)


def test_is_same_size():
    torch = pytest.importorskip("torch")
    assert tinytorch.is_same_size(tinytorch.zeros(2, 3), tinytorch.ones(2, 3)) is True
    assert tinytorch.is_same_size(tinytorch.zeros(2), tinytorch.zeros(2, 1)) is False
    with pytest.raises(TypeError) as expected:
        torch.is_same_size(torch.zeros(2), [1, 2])
    with pytest.raises(TypeError) as got:
        tinytorch.is_same_size(tinytorch.zeros(2), [1, 2])
    assert str(got.value) == str(expected.value)


def test_resolve_conj_and_neg_return_the_tensor_itself():
    x = tinytorch.randn(3, requires_grad=True)
    for resolve in (tinytorch.resolve_conj, tinytorch.resolve_neg, tinytorch.Tensor.resolve_conj, tinytorch.Tensor.resolve_neg):
        assert resolve(x) is x


def test_inference_tensors_are_marked_as_torch_marks_them():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        normal = lib.zeros(2)
        with lib.inference_mode():
            made, computed, view_of_normal = lib.zeros(2), normal + 1, normal.view(2)
        with lib.no_grad():
            under_no_grad = lib.zeros(2)
        with lib.inference_mode(False):
            inference_off = lib.zeros(2)
        results.append([t.is_inference() for t in (normal, made, computed, view_of_normal, made.view(2), made + 1,
                                                   under_no_grad, inference_off)])
    assert results[0] == results[1]
    assert results[0][1] and results[0][2]  # the case torch users test for


def test_detach_at_top_level():
    x = tinytorch.ones(2, requires_grad=True)
    y = x * 2
    d = tinytorch.detach(y)
    assert not d.requires_grad and d.grad_fn is None and y.requires_grad
    d[0] = 5  # shares memory, as Tensor.detach
    assert y[0].item() == 5


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(1), lambda lib: lib.zeros(1, dtype=lib.int64), lambda lib: lib.zeros(1, dtype=lib.bool),
    lambda lib: lib.zeros(1, dtype=lib.float16), lambda lib: lib.zeros(1, dtype=lib.uint8),
    lambda lib: 3, lambda lib: None, lambda lib: int, lambda lib: [1],
])
def test_typename_matches_torch(make):
    torch = pytest.importorskip("torch")
    assert tinytorch.typename(make(tinytorch)).replace("tinytorch.", "torch.") == torch.typename(make(torch))


def test_typename_of_modules_and_classes():
    assert tinytorch.typename(tinytorch.nn.Linear(1, 1)) == "tinytorch.nn.modules.linear.Linear"
    assert tinytorch.typename(tinytorch.nn.Parameter) == "tinytorch.nn.parameter.Parameter"
    assert tinytorch.typename(tinytorch.nn.Parameter(tinytorch.zeros(1))) == "tinytorch.FloatTensor"


def test_can_cast_matches_torch_for_every_pair():
    torch = pytest.importorskip("torch")
    for a in DTYPES:
        for b in DTYPES:
            assert tinytorch.can_cast(getattr(tinytorch, a), getattr(tinytorch, b)) is torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    assert tinytorch.can_cast(float, tinytorch.int32) is torch.can_cast(float, torch.int32)
    assert tinytorch.can_cast(from_=tinytorch.int64, to=tinytorch.float16) is True


def test_can_cast_refuses_non_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as expected:
        torch.can_cast(torch.float32, "int")
    with pytest.raises(TypeError) as got:
        tinytorch.can_cast(tinytorch.float32, "int")
    assert str(got.value) == str(expected.value)

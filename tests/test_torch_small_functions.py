"""get_device, empty_permuted, set_default_tensor_type, is_storage, cond, norm_except_dim,
embedding_renorm_ and resize_as_ against torch: values, strides, gradients, warnings and errors."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck


def raised(fn):
    """(type, message) of what ``fn()`` raises."""
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value)


def same_error(torch, call):
    """``call(lib)`` raises the same type and message in torch and tinytorch."""
    theirs, ours = raised(lambda: call(torch)), raised(lambda: call(tinytorch))
    assert ours[0] is theirs[0], (ours, theirs)
    assert ours[1] == theirs[1]


# -- get_device, is_storage, resize_as_ ------------------------------------------------------------------
def test_get_device(device):
    x = tinytorch.zeros(2, device=device)
    assert tinytorch.get_device(x) == (-1 if device == "cpu" else 0)
    assert tinytorch.get_device(x.to_sparse()) == tinytorch.get_device(x)


def test_get_device_errors_as_torch():
    torch = pytest.importorskip("torch")
    same_error(torch, lambda lib: lib.get_device(3))
    assert tinytorch.get_device(tinytorch.zeros(1)) == torch.get_device(torch.zeros(1)) == -1


def test_is_storage_false_for_everything_tinytorch_has():
    for obj in (tinytorch.zeros(2), tinytorch.zeros(2).to_sparse(), [1, 2], None, np.zeros(2), tinytorch.float32):
        assert tinytorch.is_storage(obj) is False
    with pytest.raises(TypeError):
        tinytorch.is_storage(obj=tinytorch.zeros(1))  # positional-only, as torch's


def test_resize_as_():
    torch = pytest.importorskip("torch")
    x = tinytorch.zeros(2)
    out = tinytorch.resize_as_(x, tinytorch.zeros(3, 2))
    assert out is x and tuple(x.shape) == (3, 2)
    same_error(torch, lambda lib: lib.resize_as_(lib.zeros(2), 3))


# -- empty_permuted --------------------------------------------------------------------------------------
@pytest.mark.parametrize("size, layout", [((2, 3, 4, 5), (0, 2, 3, 1)), ((2, 3), (1, 0)), ((4, 1, 3), (2, 0, 1)),
                                          ((2, 3, 4), (0, 1, 2)), ((), ())])
def test_empty_permuted_strides_as_torch(size, layout):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.empty_permuted(size, layout), torch.empty_permuted(size, layout)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.dtype == tinytorch.float32


def test_empty_permuted_options(device):
    x = tinytorch.empty_permuted((2, 3), (1, 0), dtype=tinytorch.int64, device=device, requires_grad=False)
    assert x.dtype == tinytorch.int64 and x.device.type == device
    y = tinytorch.empty_permuted([2, 3], [1, 0], requires_grad=True)
    assert y.requires_grad and y.is_leaf


@pytest.mark.parametrize("size, layout", [((2, 3), (0, 0)), ((2, 3), (0,)), ((2, 3), (0, 2)), ((2, 3), (-1, 0)),
                                          ((2, -3), (1, 0)), ((2, 3), (1.0, 0))])
def test_empty_permuted_errors_as_torch(size, layout):
    torch = pytest.importorskip("torch")
    same_error(torch, lambda lib: lib.empty_permuted(size, layout))


# -- set_default_tensor_type -----------------------------------------------------------------------------
@pytest.fixture
def restore_default_dtype():
    before = tinytorch.get_default_dtype()
    yield
    tinytorch.set_default_dtype(before)


@pytest.mark.parametrize("kind", ["DoubleTensor", "HalfTensor", "FloatTensor"])
def test_set_default_tensor_type(kind, restore_default_dtype):
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lib in (torch, tinytorch):
                lib.set_default_tensor_type(getattr(lib, kind))
            assert str(tinytorch.get_default_dtype()).split(".")[1] == str(torch.get_default_dtype()).split(".")[1]
            tinytorch.set_default_tensor_type("torch.FloatTensor")
            tinytorch.set_default_tensor_type(f"torch.{kind}")  # torch's type names
            assert tinytorch.tensor([1.5]).dtype == getattr(tinytorch, kind).dtype
    finally:
        torch.set_default_dtype(before)


def test_set_default_tensor_type_warns_deprecated(restore_default_dtype):
    tinytorch.set_warn_always(True)  # torch warns once per process otherwise
    try:
        with pytest.warns(UserWarning, match=r"set_default_tensor_type\(\) is deprecated as of PyTorch 2.1"):
            tinytorch.set_default_tensor_type(tinytorch.DoubleTensor)
    finally:
        tinytorch.set_warn_always(False)
    assert tinytorch.get_default_dtype() == tinytorch.float64


@pytest.mark.parametrize("argument", ["LongTensor", "torch.LongTensor", "torch.Foo", 3, "float64"])
def test_set_default_tensor_type_errors_as_torch(argument, restore_default_dtype):
    torch = pytest.importorskip("torch")

    def call(lib):
        value = getattr(lib, argument) if argument in ("LongTensor", "float64") else argument
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.set_default_tensor_type(value)

    same_error(torch, call)


# -- cond ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pred", [True, False, 1, 0.0, "tensor_true", "tensor_false", "tensor_float"])
def test_cond_picks_the_branch(pred):
    x = tinytorch.ones(3, requires_grad=True)
    value = {"tensor_true": tinytorch.tensor(True), "tensor_false": tinytorch.tensor([[False]]),
             "tensor_float": tinytorch.tensor(2.0)}.get(pred, pred)
    out = tinytorch.cond(value, lambda a: a * 2, lambda a: a - 1, (x,))
    expected = 2.0 if pred in (True, 1, "tensor_true", "tensor_float") else 0.0
    assert out.tolist() == [expected] * 3
    out.sum().backward()  # the branch is an ordinary part of the graph
    assert x.grad.tolist() == [2.0 if expected else 1.0] * 3


def test_cond_nested_operands_and_none():
    x = tinytorch.ones(2)
    assert tinytorch.cond(tinytorch.tensor(True), lambda d: d["a"] + 1, lambda d: d["a"], ({"a": x},)).tolist() == [2, 2]
    assert tinytorch.cond(tinytorch.tensor(False), lambda: x + 1, lambda: x - 1).tolist() == [0, 0]


@pytest.mark.parametrize("case", ["two_elements", "none", "not_callable", "number_operand", "bare_tensor"])
def test_cond_errors_as_torch(case):
    torch = pytest.importorskip("torch")

    def call(lib):
        x = lib.ones(3)
        pred, true_fn, operands = lib.tensor(True), (lambda a: a + 1), (x,)
        if case == "two_elements":
            pred = lib.tensor([1.0, 0.0])
        elif case == "none":
            pred = None
        elif case == "not_callable":
            true_fn = 3
        elif case == "number_operand":
            operands = (x, 3)
        else:
            operands = x
        return lib.cond(pred, true_fn, lambda a: a - 1, operands)

    theirs, ours = raised(lambda: call(torch)), raised(lambda: call(tinytorch))
    assert ours[0] is theirs[0]
    assert ours[1] == theirs[1].replace("torch.", "tinytorch.")


# -- norm_except_dim -------------------------------------------------------------------------------------
@pytest.mark.parametrize("pow_, dim", [(2, 0), (2, 1), (2, 2), (2, -1), (2, -2), (3, 1), (1, 0), (0, 0), (2, -3)])
def test_norm_except_dim_matches_torch(pow_, dim):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(0).standard_normal((2, 3, 4))
    theirs_x, ours_x = torch.tensor(array, requires_grad=True), tinytorch.tensor(array, requires_grad=True)
    theirs, ours = torch.norm_except_dim(theirs_x, pow_, dim), tinytorch.norm_except_dim(ours_x, pow_, dim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    if pow_:
        theirs.sum().backward()
        ours.sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10)


def test_norm_except_dim_gradcheck():
    x = tinytorch.tensor(np.random.default_rng(1).standard_normal((3, 4, 2)), requires_grad=True)
    for dim in (0, 1, 2, -1):
        assert gradcheck(lambda v, dim=dim: tinytorch.norm_except_dim(v, 2, dim), (x,))


@pytest.mark.parametrize("args", [(2, 5), (1.5,), (True,), (2, 1.0), (2, -4)])
def test_norm_except_dim_errors_as_torch(args):
    torch = pytest.importorskip("torch")
    same_error(torch, lambda lib: lib.norm_except_dim(lib.zeros(2, 3, 4), *args))


# -- embedding_renorm_ -----------------------------------------------------------------------------------
@pytest.mark.parametrize("indices, norm_type", [([0, 2, 2], 2.0), ([[1, 4], [4, 0]], 1.0), ([-1], 3.0)])
def test_embedding_renorm_matches_torch(indices, norm_type):
    torch = pytest.importorskip("torch")
    array = np.random.default_rng(2).standard_normal((5, 3)) * 3
    theirs, ours = torch.tensor(array), tinytorch.tensor(array)
    assert tinytorch.embedding_renorm_(ours, tinytorch.tensor(indices), 1.0, norm_type) is ours
    torch.embedding_renorm_(theirs, torch.tensor(indices), 1.0, norm_type)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert ours._version[0] > 0


@pytest.mark.parametrize("case", ["float_indices", "vector_weight", "out_of_range", "leaf"])
def test_embedding_renorm_errors_as_torch(case):
    torch = pytest.importorskip("torch")

    def call(lib):
        weight, indices = lib.ones(5, 3), lib.tensor([0, 2])
        if case == "float_indices":
            indices = lib.tensor([0.0, 2.0])
        elif case == "vector_weight":
            weight = lib.ones(5)
        elif case == "out_of_range":
            indices = lib.tensor([7])
        else:
            weight.requires_grad_()
        return lib.embedding_renorm_(weight, indices, 1.0, 2.0)

    theirs, ours = raised(lambda: call(torch)), raised(lambda: call(tinytorch))
    assert ours[0] is theirs[0]
    assert ours[1] == theirs[1].replace("torch.", "tinytorch.")
